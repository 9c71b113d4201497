using System.Globalization;
using Microsoft.Extensions.Localization;
using Portal.Core.Notifications;

namespace Portal.Health;

/// <summary>Texts the health pages share: how long ago, a notification's sentence, a local time.</summary>
public static class HealthText
{
    /// <summary>"2 d 3 h", "3 h 12 min", "12 min" (or the Chinese forms) for the time since <paramref name="sinceUtc"/>.</summary>
    public static string Since(IStringLocalizer L, DateTime? sinceUtc, DateTime nowUtc)
    {
        ArgumentNullException.ThrowIfNull(L);
        if (sinceUtc is not { } since)
        {
            return "—";
        }

        var span = nowUtc - since;
        if (span < TimeSpan.Zero)
        {
            span = TimeSpan.Zero;
        }

        return span.TotalDays >= 1 ? string.Format(CultureInfo.CurrentCulture, L["Duration_DaysHours"].Value, (int)span.TotalDays, span.Hours)
            : span.TotalHours >= 1 ? string.Format(CultureInfo.CurrentCulture, L["Duration_HoursMinutes"].Value, (int)span.TotalHours, span.Minutes)
            : string.Format(CultureInfo.CurrentCulture, L["Duration_Minutes"].Value, Math.Max(0, (int)span.TotalMinutes));
    }

    public static string Local(DateTime? utc) =>
        utc is { } t ? DateTime.SpecifyKind(t, DateTimeKind.Utc).ToLocalTime().ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) : "—";

    /// <summary>The sentence of a notification, e.g. "某某小学的门口球机离线（CAM00000039）".</summary>
    public static string Sentence(IStringLocalizer L, Notification n)
    {
        ArgumentNullException.ThrowIfNull(L);
        ArgumentNullException.ThrowIfNull(n);
        var device = n.DeviceKind is { } kind ? L["DeviceKind_" + kind].Value : string.Empty;
        return string.Format(CultureInfo.CurrentCulture, L["Notice_" + n.Kind].Value, n.SchoolName, device, n.SerialNumber);
    }
}
