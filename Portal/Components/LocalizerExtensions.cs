using Microsoft.Extensions.Localization;

namespace Portal.Components;

public static class LocalizerExtensions
{
    /// <summary>The words for a stable error code ("Err_{code}" in the resx files), or a generic "invalid" for a code without its own.</summary>
    public static string Error(this IStringLocalizer localizer, string code)
    {
        ArgumentNullException.ThrowIfNull(localizer);
        var text = localizer["Err_" + code];
        return text.ResourceNotFound ? localizer["Err_Invalid"].Value : text.Value;
    }
}
