using System.Globalization;
using Lib.Net.Http.WebPush;
using Portal.Core.Alarms;
using Portal.Core.Notifications;
using Portal.Core.Security;

namespace Portal.Notifications;

/// <summary>
/// New alarms to the police consoles' browsers by Web Push, so a console whose tab is closed still rings: one
/// subscription to <see cref="AlarmNotifier"/> (city-wide), and each raised or escalated alarm pushed to the police
/// subscriptions whose scope covers it (the school's district, the answering centre's district, the city).
/// </summary>
public sealed class AlarmPushForwarder(AlarmNotifier alarms, WebPushSender sender) : IHostedService, IDisposable
{
    private IDisposable? _subscription;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _subscription = alarms.Subscribe(UserScope.System, change =>
        {
            if (change.Kind is AlarmEventKind.Raised or AlarmEventKind.Escalated)
            {
                var alarm = change.Alarm;
                sender.Enqueue(
                    new PushAudience(NotificationAudience.Police, alarm.DistrictId, alarm.SchoolId, alarm.CentreDistrictId),
                    L => new PushPayload(
                        string.Format(CultureInfo.CurrentCulture, L["Push_NewAlarm"].Value, alarm.SchoolName),
                        string.Format(CultureInfo.CurrentCulture, L["Push_NewAlarmBody"].Value, alarm.DistrictName, alarm.Address, alarm.Phone),
                        $"/alarms/{alarm.Id}",
                        $"alarm-{alarm.Id}"),
                    PushMessageUrgency.High,
                    TimeSpan.FromMinutes(10));
            }

            return Task.CompletedTask;
        });
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        Dispose();
        return Task.CompletedTask;
    }

    public void Dispose()
    {
        Interlocked.Exchange(ref _subscription, null)?.Dispose();
    }
}
