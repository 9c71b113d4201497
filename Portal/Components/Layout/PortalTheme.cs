using MudBlazor;

namespace Portal.Components.Layout;

/// <summary>The one theme: police navy with an alarm red, and fonts that every Chinese desktop has.</summary>
public static class PortalTheme
{
    public static readonly MudTheme Theme = new()
    {
        PaletteLight = new PaletteLight
        {
            Primary = "#0d3b66",
            Secondary = "#1d6fa5",
            Error = "#c62828",
            Warning = "#ef6c00",
            Success = "#2e7d32",
            AppbarBackground = "#0d3b66",
        },
        Typography = new Typography
        {
            Default = new DefaultTypography
            {
                FontFamily = ["PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", "WenQuanYi Micro Hei", "Helvetica", "Arial", "sans-serif"],
            },
        },
    };
}
