using System.Globalization;
using Microsoft.Extensions.Localization;
using Portal.Core.Alarms;

namespace Portal.Alarms;

/// <summary>
/// Words alarms and their timeline in the reader's language: events are stored as kinds and codes
/// (<see cref="AlarmEvent.Code"/>, <see cref="AlarmEvent.CentreId"/>), names that have an English form use it.
/// School names, addresses and what people typed are data and stay as they are.
/// </summary>
public static class AlarmText
{
    private static bool ReadsChinese => CultureInfo.CurrentUICulture.Name.StartsWith("zh", StringComparison.Ordinal);

    /// <summary>The name in the reader's language: the English one for English readers when there is one.</summary>
    public static string Name(string? zh, string? en) => (ReadsChinese || string.IsNullOrEmpty(en) ? zh : en) ?? string.Empty;

    public static string District(AlarmView alarm) => Name(alarm.DistrictName, alarm.DistrictNameEn);

    public static string Centre(AlarmView alarm) => Name(alarm.CentreName, alarm.CentreNameEn);

    /// <summary>Who did it: the user's sign-in name, or the platform itself (escalation).</summary>
    public static string? Who(IStringLocalizer l, AlarmEvent e) =>
        e.UserId is null && e.UserName == "system" ? l["SystemUser"] : e.UserName;

    /// <summary>What the event's code says (source, disposition, receiving centre, camera action); empty when nothing.</summary>
    public static string Detail(IStringLocalizer l, AlarmEvent e)
    {
        ArgumentNullException.ThrowIfNull(l);
        ArgumentNullException.ThrowIfNull(e);
        return e.Kind switch
        {
            AlarmEventKind.Raised or AlarmEventKind.SignalJoined when e.Source is { } source => l["Source_" + source],
            AlarmEventKind.Transferred when e.CentreId is not null => "→ " + Name(e.CentreName, e.CentreNameEn),
            AlarmEventKind.Closed when e.Disposition is { } disposition => l["Disposition_" + disposition],
            AlarmEventKind.Camera when e.CameraAction is { } action => action switch
            {
                AlarmCameraAction.PtzMove => l["CameraEvent_PtzMove"] + ": " + l["Ptz_" + e.Text],
                AlarmCameraAction.PtzPreset => l["CameraEvent_PtzPreset"] + ": " + e.Text,
                _ => l["CameraEvent_" + action],
            },
            _ => string.Empty,
        };
    }

    /// <summary>What a person typed with the event (a note, units dispatched, the note of a transfer or close); null for camera events, whose text is in <see cref="Detail"/>.</summary>
    public static string? Typed(AlarmEvent e) => e.Kind == AlarmEventKind.Camera ? null : e.Text;
}
