using System.Collections.Concurrent;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Portal.Core.Security;
using Portal.Core.Threading;

namespace Portal.Core.Alarms;

/// <summary>
/// Live push of alarm changes to every signed-in console whose scope covers the alarm, before or after the
/// change (a console whose centre passed an alarm on is told, so it stops ringing for it). The one place alarms
/// are published from, so a backplane between instances (Redis pub/sub) plugs in here: publish the id there, and
/// deliver what arrives to this instance's subscribers.
/// Lives in Core beside the scope rule it applies (STYLE.md puts it in Portal/Services; the filter is
/// domain logic and is tested here without a browser).
/// </summary>
public sealed class AlarmNotifier(AlarmRepository alarms, ILogger<AlarmNotifier> logger) : BackgroundService
{
    /// <summary>
    /// At most this many changes are read and delivered together: under a burst each console takes one call per
    /// batch, not one per alarm, and the views are read over one connection.
    /// </summary>
    public const int MaxBatch = 256;

    /// <summary>The first wait after a failed read; it doubles up to <see cref="MaxRetryDelay"/>. Nothing is dropped meanwhile.</summary>
    public static readonly TimeSpan RetryDelay = TimeSpan.FromMilliseconds(100);

    public static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(5);

    private readonly ConcurrentQueue<Published> _queue = new();

    // Set when something is published; the delivery thread sleeps on it.
    private readonly ManualResetEventSlim _wake = new(false, spinCount: 1);

    private ILogger Logger => logger;
    private readonly Lock _lock = new();
    private Subscription[] _subscribers = [];

    /// <summary>
    /// Announces that an alarm changed; returns at once (delivery happens off the caller's path).
    /// <paramref name="formerCentreDistrictId"/> is the district of the centre that held the alarm before a
    /// transfer or an escalation, so that centre's consoles hear of it too.
    /// </summary>
    public void Publish(int alarmId, AlarmEventKind kind, int? formerCentreDistrictId = null)
    {
        _queue.Enqueue(new Published(alarmId, kind, formerCentreDistrictId));
        _wake.Set();
    }

    /// <summary>
    /// Delivers every change the scope may see to <paramref name="onChanges"/> until disposed, several at a time
    /// under a burst (in the order they were published). Calls for one subscriber never overlap.
    /// </summary>
    public IDisposable SubscribeBatches(UserScope scope, Func<IReadOnlyList<AlarmChange>, Task> onChanges)
    {
        var subscription = new Subscription(this, scope, onChanges);
        lock (_lock)
        {
            _subscribers = [.. _subscribers, subscription];
        }

        return subscription;
    }

    /// <summary>Delivers every change the scope may see to <paramref name="onChange"/>, one at a time, until disposed.</summary>
    public IDisposable Subscribe(UserScope scope, Func<AlarmChange, Task> onChange) =>
        SubscribeBatches(scope, async changes =>
        {
            foreach (var change in changes)
            {
                await onChange(change).ConfigureAwait(false);
            }
        });

    /// <summary>How many consoles of one user are subscribed now (diagnostics: a signed-out console must have none).</summary>
    public int CountSubscriptions(int userId) => Volatile.Read(ref _subscribers).Count(s => s.Scope.UserId == userId);

    /// <summary>The scope rule for one alarm: city-wide sees all; a district its schools' alarms and those at its centre; a principal the school's.</summary>
    public static bool CanSee(UserScope scope, AlarmView alarm) =>
        (scope.SchoolId is null || scope.SchoolId == alarm.SchoolId)
        && (scope.DistrictId is null || scope.DistrictId == alarm.DistrictId || scope.DistrictId == alarm.CentreDistrictId);

    /// <summary>
    /// Whether the alarm rings on a console of this scope: it waits for an answer from this console's centre. A district
    /// console rings for its own centre's alarms and for those the city holds (an escalated alarm still rings in its
    /// district), not for one its centre passed on to another district's.
    /// </summary>
    public static bool RingsFor(UserScope scope, AlarmView alarm) =>
        alarm.IsRinging && (scope.DistrictId is null || alarm.CentreDistrictId is null || alarm.CentreDistrictId == scope.DistrictId);

    /// <summary>Who hears of a change: whoever sees the alarm now, and the police of the centre that held it before.</summary>
    public static bool ShouldHear(UserScope scope, AlarmChange change) =>
        CanSee(scope, change.Alarm)
        || (scope.SchoolId is null && change.FormerCentreDistrictId is { } former && scope.DistrictId == former);

    /// <summary>
    /// Delivery runs on a thread of its own: reading the views (SQLite reads are synchronous underneath) and drawing
    /// the consoles whose dispatcher is free (Blazor runs InvokeAsync inline then) would otherwise hold thread-pool
    /// threads, which the device API's requests need to be answered.
    /// </summary>
    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                OsThreadPriority.ApplyConsole(logger); // it draws the consoles whose dispatcher is free: below the requests
                Run(stoppingToken);
            }
            finally
            {
                done.TrySetResult();
            }
        })
        {
            IsBackground = true,
            Name = "Alarm notifier",
        };
        thread.Start();
        return done.Task;
    }

    public override void Dispose()
    {
        _wake.Dispose();
        base.Dispose();
    }

    private void Run(CancellationToken stoppingToken)
    {
        var batch = new List<Published>(MaxBatch);
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                _wake.Wait(stoppingToken);
                _wake.Reset();
                while (!_queue.IsEmpty)
                {
                    batch.Clear();
                    while (batch.Count < MaxBatch && _queue.TryDequeue(out var item))
                    {
                        batch.Add(item);
                    }

                    Deliver(ReadUntilDone(batch, stoppingToken));
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>
    /// Reads the alarms' views, retrying on failure with a growing pause: a change is never dropped because the
    /// database was busy or briefly gone (the consoles would keep ringing for an answered alarm, or never ring).
    /// </summary>
    private List<AlarmChange> ReadUntilDone(List<Published> batch, CancellationToken ct)
    {
        var delay = RetryDelay;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var views = alarms.GetViews([.. batch.Select(p => p.AlarmId).Distinct()]);
                return [.. batch.Where(p => views.ContainsKey(p.AlarmId)).Select(p => new AlarmChange(views[p.AlarmId], p.Kind, p.FormerCentreDistrictId))];
            }
            catch (Exception ex) when (!ct.IsCancellationRequested)
            {
                logger.LogError(ex, "Could not read {Count} changed alarms for the consoles (attempt {Attempt}); retrying in {Delay}",
                    batch.Count, attempt, delay);
                if (ct.WaitHandle.WaitOne(delay))
                {
                    ct.ThrowIfCancellationRequested();
                }

                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaxRetryDelay.Ticks));
            }
        }
    }

    private void Deliver(List<AlarmChange> changes)
    {
        if (changes.Count == 0)
        {
            return;
        }

        foreach (var s in Volatile.Read(ref _subscribers))
        {
            var visible = changes.Where(c => ShouldHear(s.Scope, c)).ToList();
            if (visible.Count > 0)
            {
                // Never wait for one console: a slow circuit must not delay the others.
                s.Enqueue(visible);
            }
        }
    }

    private void Remove(Subscription subscription)
    {
        lock (_lock)
        {
            _subscribers = [.. _subscribers.Where(s => !ReferenceEquals(s, subscription))];
        }
    }

    private sealed record Published(int AlarmId, AlarmEventKind Kind, int? FormerCentreDistrictId);

    /// <summary>One console's subscription: its calls run one after another (a slow console queues its own changes only).</summary>
    private sealed class Subscription(AlarmNotifier owner, UserScope scope, Func<IReadOnlyList<AlarmChange>, Task> onChanges) : IDisposable
    {
        private readonly Lock _gate = new();
        private List<AlarmChange>? _waiting;
        private bool _running;
        private bool _disposed;

        public UserScope Scope => scope;

        public void Enqueue(List<AlarmChange> changes)
        {
            lock (_gate)
            {
                if (_disposed)
                {
                    return;
                }

                if (_running)
                {
                    // Merged into the next call: a console that is behind takes everything it missed at once.
                    (_waiting ??= []).AddRange(changes);
                    return;
                }

                _running = true;
            }

            _ = RunAsync(changes);
        }

        public void Dispose()
        {
            lock (_gate)
            {
                _disposed = true;
                _waiting = null;
            }

            owner.Remove(this);
        }

        private async Task RunAsync(List<AlarmChange> changes)
        {
            while (true)
            {
                try
                {
                    await onChanges(changes).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    owner.Logger.LogWarning(ex, "A console failed to take {Count} alarm changes", changes.Count);
                }

                lock (_gate)
                {
                    if (_waiting is null || _disposed)
                    {
                        _running = false;
                        return;
                    }

                    changes = _waiting;
                    _waiting = null;
                }
            }
        }
    }
}
