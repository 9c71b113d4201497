using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Portal.Core.Security;

namespace Portal.Core.Alarms;

/// <summary>
/// Live push of alarm changes to every signed-in console whose scope covers the alarm. The one place
/// alarms are published from, so a backplane between instances (Redis pub/sub) plugs in here: publish
/// the id there, and deliver what arrives to this instance's subscribers.
/// Lives in Core beside the scope rule it applies (STYLE.md puts it in Portal/Services; the filter is
/// domain logic and is tested here without a browser).
/// </summary>
public sealed class AlarmNotifier(AlarmRepository alarms, ILogger<AlarmNotifier> logger) : BackgroundService
{
    private readonly Channel<(int AlarmId, AlarmEventKind Kind)> _queue =
        Channel.CreateUnbounded<(int, AlarmEventKind)>(new UnboundedChannelOptions { SingleReader = true });

    private readonly Lock _lock = new();
    private Subscription[] _subscribers = [];

    /// <summary>Announces that an alarm changed; returns at once (delivery happens off the caller's path).</summary>
    public void Publish(int alarmId, AlarmEventKind kind) => _queue.Writer.TryWrite((alarmId, kind));

    /// <summary>Delivers every change the scope may see to <paramref name="onChange"/> until disposed.</summary>
    public IDisposable Subscribe(UserScope scope, Func<AlarmChange, Task> onChange)
    {
        var subscription = new Subscription(this, scope, onChange);
        lock (_lock)
        {
            _subscribers = [.. _subscribers, subscription];
        }

        return subscription;
    }

    /// <summary>How many consoles of one user are subscribed now (diagnostics: a signed-out console must have none).</summary>
    public int CountSubscriptions(int userId) => Volatile.Read(ref _subscribers).Count(s => s.Scope.UserId == userId);

    /// <summary>The scope rule for one alarm: city-wide sees all; a district its schools' alarms and those at its centre; a principal the school's.</summary>
    public static bool CanSee(UserScope scope, AlarmView alarm) =>
        (scope.SchoolId is null || scope.SchoolId == alarm.SchoolId)
        && (scope.DistrictId is null || scope.DistrictId == alarm.DistrictId || scope.DistrictId == alarm.CentreDistrictId);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (await _queue.Reader.WaitToReadAsync(stoppingToken).ConfigureAwait(false))
        {
            while (_queue.Reader.TryRead(out var item))
            {
                try
                {
                    var view = await alarms.GetViewAsync(item.AlarmId, stoppingToken).ConfigureAwait(false);
                    if (view is not null)
                    {
                        Deliver(new AlarmChange(view, item.Kind));
                    }
                }
                catch (Exception ex) when (ex is System.Data.Common.DbException or InvalidOperationException)
                {
                    logger.LogError(ex, "Could not load alarm {AlarmId} for the consoles", item.AlarmId);
                }
            }
        }
    }

    private void Deliver(AlarmChange change)
    {
        foreach (var s in Volatile.Read(ref _subscribers))
        {
            if (!CanSee(s.Scope, change.Alarm))
            {
                continue;
            }

            // Never wait for one console: a slow circuit must not delay the others.
            _ = DeliverOneAsync(s, change);
        }
    }

    private async Task DeliverOneAsync(Subscription s, AlarmChange change)
    {
        try
        {
            await s.OnChange(change).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            logger.LogWarning(ex, "A console failed to take alarm {AlarmId}", change.Alarm.Id);
        }
    }

    private void Remove(Subscription subscription)
    {
        lock (_lock)
        {
            _subscribers = [.. _subscribers.Where(s => !ReferenceEquals(s, subscription))];
        }
    }

    private sealed class Subscription(AlarmNotifier owner, UserScope scope, Func<AlarmChange, Task> onChange) : IDisposable
    {
        public UserScope Scope => scope;

        public Func<AlarmChange, Task> OnChange => onChange;

        public void Dispose() => owner.Remove(this);
    }
}
