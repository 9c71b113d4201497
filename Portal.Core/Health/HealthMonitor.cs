using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Portal.Core.Alarms;
using Portal.Core.Devices;
using Portal.Core.Installation;
using Portal.Core.Notifications;

namespace Portal.Core.Health;

/// <summary>
/// What one check cycle did. <c>FirstProbes</c>: when every device's first probe of the interval had its answer (retry
/// chains go on after it, within <c>ProbePhase</c>). <c>AlarmHold</c>: how long its first probes waited for alarms being
/// written (<see cref="HealthOptions.AlarmHoldSeconds"/>).
/// </summary>
public sealed record HealthCycleResult(int Devices, int Probed, int Failed, int Changes, int Notices, TimeSpan ProbePhase, TimeSpan Elapsed, TimeSpan FirstProbes = default,
    TimeSpan AlarmHold = default);

/// <summary>
/// One check cycle over every installed device (DESIGN.md "Health"): devices that push (heartbeats, SIP registrations)
/// are judged by how fresh their last signal is; cameras, and terminals without a fresh signal when a SIP user agent
/// is there, are probed. Probes fan out as async tasks with bounded concurrency, each device at its own fixed offset
/// within <see cref="HealthOptions.ProbeSpread"/> (so each is probed exactly one interval apart and the load is even),
/// each bounded by its time-out: a device that hangs, answers garbage or breaks off costs its own slot and nothing more.
/// Then the rules (<see cref="HealthEvaluator"/>) run, only changes are written, and people are told once a state has held.
/// </summary>
/// <remarks>
/// Within 3 minutes of a failure (EN 50136's best grade), the way Nagios/Icinga confirm a failure with a retry interval:
/// a probed device that was alive and fails once is only in a "soft" failure and is re-probed every
/// <see cref="HealthOptions.RetryInterval"/> (20 s) until it answers (no false offline for one lost probe) or has failed
/// <see cref="HealthOptions.MissedIntervalsForOffline"/> times in a row, then it is offline and written at once. A chain the
/// cycle has no room for carries its count into the next cycle, which probes that device first; retries have a concurrency
/// bound of their own, never queued behind the interval's first probes. A terminal judged by its signals is marked offline
/// by the silence watch (<see cref="CheckSilenceAsync"/>, every <see cref="HealthOptions.SilenceCheckSeconds"/>, apart from
/// the cycles) once <see cref="HealthOptions.SilenceForOffline"/> has passed since its last signal (in-memory sightings from
/// DevicePresence, no flush lag).
/// </remarks>
public sealed class HealthMonitor(
    HealthRepository repository,
    NotificationRepository notifications,
    NotificationCenter center,
    InstallationService installation,
    ICameraProbe cameraProbe,
    ISipOptionsProbe sipProbe,
    IOptions<HealthOptions> options,
    TimeProvider time,
    ILogger<HealthMonitor> logger,
    DevicePresence? presence = null,
    AlarmFlow? alarms = null)
{
    // Terminals judged by their signals alone, as the last cycle read them (and the silence watch re-read them since).
    private readonly System.Collections.Concurrent.ConcurrentDictionary<int, Sighted> _signalJudged = new();
    private int _silenceRunning;
    private int _silencedSinceCycle;

    public HealthOptions Options => options.Value;

    /// <summary>Runs one cycle (Hangfire never runs two at once: <see cref="DeviceHealthCheckJob"/>).</summary>
    public async Task<HealthCycleResult> RunCycleAsync(CancellationToken ct)
    {
        var o = options.Value;
        var clock = Stopwatch.StartNew();
        var started = time.GetUtcNow().UtcDateTime;
        await repository.EnsureRowsAsync(started, ct).ConfigureAwait(false);
        var targets = (await repository.GetTargetsAsync(ct).ConfigureAwait(false)).Select(WithPresence).ToList();

        // Terminals judged by their signals alone are the silence watch's (CheckSilenceAsync, on its own short tick): the
        // cycle hands it the list and marks the ones already past their deadline now; the batch leaves their silence alone.
        Track(targets);
        await CheckSilenceAsync(ct).ConfigureAwait(false);

        // Retries (a probed device's failure being confirmed) start no later than this, so the cycle ends within its interval.
        var retryCutoff = started + o.Interval - o.ProbeTimeout - TimeSpan.FromSeconds(2);
        // Confirmation probes (retries, and a chain carried over from the last cycle) have a bound of their own, so they
        // are never queued behind the interval's first probes of thousands of healthy devices.
        using var firstGate = new SemaphoreSlim(Math.Max(1, o.MaxConcurrentProbes));
        using var retryGate = new SemaphoreSlim(Math.Max(1, o.MaxConcurrentProbes));
        var starts = alarms is null ? new StartClock(time) : new StartClock(time, () => alarms.CommittedWithin(o.AlarmQuiet), o.MaxAlarmHold);
        var gates = new Gates(firstGate, retryGate, clock, starts);
        var checks = new Task<Check>[targets.Count];
        for (var i = 0; i < targets.Count; i++)
        {
            checks[i] = CheckAsync(targets[i], started, retryCutoff, gates, o, ct);
        }

        // Every first probe waiting for its offset has been queued above (synchronously): one timer now releases them.
        var starting = gates.Starts.RunAsync(ct);
        var results = await Task.WhenAll(checks).ConfigureAwait(false);
        await starting.ConfigureAwait(false);
        var probePhase = clock.Elapsed;
        var now = time.GetUtcNow().UtcDateTime;
        var changes = new List<HealthChange>();
        var toWrite = new List<HealthChange>();
        var firstSeen = new List<int>();
        var probed = 0;
        var failed = 0;
        for (var i = 0; i < targets.Count; i++)
        {
            var check = results[i];
            probed += check.Probed ? 1 : 0;
            failed += check.Observation.Kind is ObservationKind.Missed or ObservationKind.Silent ? 1 : 0;
            if (check.Folded is { } folded)
            {
                changes.Add(folded);
                if (!check.Written)
                {
                    toWrite.Add(folded);
                }
            }
            else if (!check.Handled && Apply(targets[i], check.Observation, now, o) is { } change)
            {
                changes.Add(change);
                toWrite.Add(change);
            }

            if (check.Observation.Kind is ObservationKind.Ok or ObservationKind.Degraded && targets[i].InstallState < DeviceInstallState.Connected)
            {
                firstSeen.Add(targets[i].DeviceId);
            }
        }

        await repository.WriteAsync(toWrite, now, ct).ConfigureAwait(false);
        Retrack(toWrite);
        await MarkFirstSeenAsync(firstSeen, ct).ConfigureAwait(false);
        var fromSignals = Interlocked.Exchange(ref _silencedSinceCycle, 0);
        failed += fromSignals;
        var notices = await NotifyAsync(now, o, ct).ConfigureAwait(false);

        var finished = time.GetUtcNow().UtcDateTime;
        var transitions = changes.Count(c => c.From is not null) + fromSignals;
        await repository.AddRunAsync(new HealthCheckRun
        {
            StartedUtc = started,
            FinishedUtc = finished,
            Devices = targets.Count,
            Probed = probed,
            Failed = failed,
            Changes = transitions,
            ElapsedMs = (int)probePhase.TotalMilliseconds,
        }, ct).ConfigureAwait(false);
        if (starts.Held > o.AlarmQuiet + TimeSpan.FromSeconds(5))
        {
            // (A lone press holds the probes for HealthOptions.AlarmQuiet, 10 s: not worth a line each time.)
            logger.LogInformation("Health check: the probes waited {Held} ms for alarms being written", (int)starts.Held.TotalMilliseconds);
        }

        if (transitions > 0 || notices > 0)
        {
            logger.LogInformation("Health check: {Devices} devices, {Probed} probed, {Failed} without sign of life, {Transitions} transitions, {Notices} notices in {Elapsed} ms",
                targets.Count, probed, failed, transitions, notices, (int)probePhase.TotalMilliseconds);
        }

        return new HealthCycleResult(targets.Count, probed, failed, transitions, notices, probePhase, clock.Elapsed, TimeSpan.FromTicks(gates.FirstDoneTicks), starts.Held);
    }

    /// <summary>
    /// What one device's check found: its last observation; after retries, the change they add up to (<paramref name="Folded"/>,
    /// already written when <paramref name="Written"/>); <paramref name="Handled"/>: nothing for the batch to do.
    /// </summary>
    private sealed record Check(Observation Observation, bool Probed, HealthChange? Folded = null, bool Written = false, bool Handled = false);

    /// <summary>The change one observation makes to a device, or null when nothing needs writing.</summary>
    private static HealthChange? Apply(HealthTarget target, Observation observation, DateTime now, HealthOptions o)
    {
        var step = HealthEvaluator.Observe(target.Health, observation, now, o);
        var publish = step.Record.State != target.PublishedState;
        return step.Write || publish ? new HealthChange(target.DeviceId, step.Record, step.From, publish) : null;
    }

    /// <summary>The newest sighting: the database's or, fresher, DevicePresence's in memory (not yet flushed).</summary>
    private DateTime? LastSeen(HealthTarget target) =>
        presence?.GetLastSeenUtc(target.DeviceId) is { } live && (target.LastSeenUtc is not { } stored || live > stored) ? live : target.LastSeenUtc;

    private HealthTarget WithPresence(HealthTarget target) =>
        LastSeen(target) is { } seen && seen != target.LastSeenUtc ? target with { LastSeenUtc = seen } : target;

    /// <summary>A terminal judged by its signals alone: no SIP user agent to ask.</summary>
    private bool SignalJudged(HealthTarget target) =>
        target.Kind == DeviceKind.AlarmTerminal && !(sipProbe.IsAvailable && !string.IsNullOrEmpty(target.SipAccount));

    private async Task<Check> CheckAsync(HealthTarget target, DateTime started, DateTime retryCutoff, Gates gate, HealthOptions o, CancellationToken ct)
    {
        if (target.Kind == DeviceKind.AlarmTerminal)
        {
            if (target.LastSeenUtc is { } seen && started - seen <= o.Interval + o.SignalGrace)
            {
                return new Check(Observation.Ok("signal"), false);
            }

            if (!SignalJudged(target))
            {
                // An answer means alive. No answer from a terminal silent past the whole window: offline at once, its
                // missed intervals counted by its silence; otherwise one more failure, re-asked until confirmed.
                var sip = await ProbeWithRetriesAsync(target, sipProbe.ProbeAsync, started, retryCutoff, gate, o, (result, at) =>
                    result.Verdict != ProbeVerdict.Failed ? ToObservation(result)
                    : LastSeen(target) is { } heard && at - heard <= o.Interval + o.SignalGrace ? Observation.Ok("signal")
                    : Silent(LastSeen(target), at, o) ? new Observation(ObservationKind.Silent, result.Detail)
                    : ToObservation(result), ct).ConfigureAwait(false);
                if (sip.Observation.Kind != ObservationKind.None || sip.Folded is not null || sip.Handled)
                {
                    return sip;
                }
            }

            // Judged by its signals alone: its silence is the watch's (CheckSilenceAsync), marked at its deadline.
            return new Check(!SignalJudged(target) && Silent(target.LastSeenUtc, started, o) ? new Observation(ObservationKind.Silent, "no signal") : Observation.Nothing, false);
        }

        return await ProbeWithRetriesAsync(target, cameraProbe.ProbeAsync, started, retryCutoff, gate, o, (result, _) => ToObservation(result), ct).ConfigureAwait(false);
    }

    /// <summary>
    /// Probes a device at its offset; when a device that was alive fails (a "soft" failure), re-probes it every
    /// <see cref="HealthOptions.RetryInterval"/> until it answers, the failure is confirmed (offline: a "hard" state), or the
    /// cycle has no room left (the count is kept, and the next cycle probes the device first). A confirmed change is
    /// written at once, not at the end of the probe phase.
    /// </summary>
    private async Task<Check> ProbeWithRetriesAsync(HealthTarget target, Func<HealthTarget, TimeSpan, CancellationToken, Task<ProbeResult>> probe,
        DateTime started, DateTime retryCutoff, Gates gates, HealthOptions o, Func<ProbeResult, DateTime, Observation> observe, CancellationToken ct)
    {
        // A device in a soft failure (the last cycle ran out of room) is probed first thing, not at its offset.
        var soft = target.Health.Misses > 0 && target.Health.State is DeviceHealthState.Online or DeviceHealthState.Degraded;
        var offset = soft ? TimeSpan.Zero : Offset(target.DeviceId, o.ProbeSpread);
        if (offset > TimeSpan.Zero)
        {
            await gates.Starts.WaitAsync(offset).ConfigureAwait(false);
        }

        var probeStart = time.GetUtcNow().UtcDateTime;
        var result = await ProbeAsync(target, probe, soft ? gates.Retries : gates.First, o, ct).ConfigureAwait(false);
        gates.FirstDone();
        if (result.Verdict == ProbeVerdict.Unsupported)
        {
            return new Check(Observation.Nothing, false);
        }

        var observation = observe(result, time.GetUtcNow().UtcDateTime);
        if (o.RetryInterval <= TimeSpan.Zero || !Confirming(target.Health, observation))
        {
            return new Check(observation, true);
        }

        var record = target.Health;
        DeviceHealthState? from = null;
        while (true)
        {
            var step = HealthEvaluator.Observe(record, observation, time.GetUtcNow().UtcDateTime, o);
            from ??= step.From;
            record = step.Record;
            var next = probeStart + o.RetryInterval;
            if (!Confirming(record, observation) || next > retryCutoff)
            {
                break;
            }

            var wait = next - time.GetUtcNow().UtcDateTime;
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, time, ct).ConfigureAwait(false);
            }

            probeStart = time.GetUtcNow().UtcDateTime;
            result = await ProbeAsync(target, probe, gates.Retries, o, ct).ConfigureAwait(false);
            observation = observe(result, time.GetUtcNow().UtcDateTime);
        }

        if (record.State == target.Health.State)
        {
            // Still soft, or answered again: the batch writes the miss count if it moved (only changes are written).
            var publish = record.State != target.PublishedState;
            return record.Misses == target.Health.Misses && !publish
                ? new Check(observation, true, Handled: true)
                : new Check(observation, true, new HealthChange(target.DeviceId, record with { LastOkUtc = target.Health.LastOkUtc ?? record.LastOkUtc }, null, publish));
        }

        var change = new HealthChange(target.DeviceId, record, from ?? target.Health.State, record.State != target.PublishedState);
        await repository.WriteAsync([change], time.GetUtcNow().UtcDateTime, ct).ConfigureAwait(false);
        return new Check(observation, true, change, Written: true);
    }

    /// <summary>A device that was alive has failed and is not yet confirmed offline: retry it.</summary>
    private static bool Confirming(DeviceHealthRecord record, Observation observation) =>
        observation.Kind == ObservationKind.Missed && record.State is DeviceHealthState.Online or DeviceHealthState.Degraded;

    private static bool Silent(DateTime? lastSeen, DateTime now, HealthOptions o) =>
        lastSeen is { } seen && now - seen >= o.SilenceForOffline;

    private static Observation ToObservation(ProbeResult result) => result.Verdict switch
    {
        ProbeVerdict.Ok => Observation.Ok(result.Detail),
        ProbeVerdict.Degraded => new Observation(ObservationKind.Degraded, result.Detail),
        ProbeVerdict.Failed => new Observation(ObservationKind.Missed, result.Detail),
        _ => Observation.Nothing,
    };

    /// <summary>
    /// Runs one probe, within the concurrency bound and a hard time-out of its own (the probe's
    /// time-out plus a second): whatever the device does, this returns in time and never throws for it.
    /// </summary>
    private async Task<ProbeResult> ProbeAsync(HealthTarget target, Func<HealthTarget, TimeSpan, CancellationToken, Task<ProbeResult>> probe,
        SemaphoreSlim gate, HealthOptions o, CancellationToken ct)
    {
        await gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            using var bound = CancellationTokenSource.CreateLinkedTokenSource(ct);
            var limit = o.ProbeTimeout + TimeSpan.FromSeconds(1);
            bound.CancelAfter(limit);
            var running = probe(target, o.ProbeTimeout, bound.Token);
            try
            {
                // WaitAsync's timer is dropped as soon as the probe ends (a Task.Delay beside it would tick on for every probe).
                return await running.WaitAsync(limit, CancellationToken.None).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                // The probe ignored its own time-out; leave it to end by itself (its token is cancelled) and move on.
                _ = running.ContinueWith(t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
                return new ProbeResult(ProbeVerdict.Failed, $"no answer within {limit.TotalSeconds:0} s");
            }
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return new ProbeResult(ProbeVerdict.Failed, "time-out");
        }
        catch (Exception ex) when (ex is not OperationCanceledException and not OutOfMemoryException)
        {
            // A probe's own bug marks its device, not the cycle.
            logger.LogWarning(ex, "Probe of device {DeviceId} failed", target.DeviceId);
            return new ProbeResult(ProbeVerdict.Failed, ex.GetType().Name + ": " + ex.Message);
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>A device's fixed place within the spread: the same every cycle, so its probes are exactly one interval apart.</summary>
    internal static TimeSpan Offset(int deviceId, TimeSpan spread)
    {
        if (spread <= TimeSpan.Zero)
        {
            return TimeSpan.Zero;
        }

        var mixed = unchecked((uint)deviceId * 2654435761u); // Knuth's multiplicative hash spreads neighbouring ids
        return TimeSpan.FromTicks((long)(spread.Ticks * (mixed / (double)uint.MaxValue)));
    }

    private async Task MarkFirstSeenAsync(List<int> deviceIds, CancellationToken ct)
    {
        foreach (var id in deviceIds)
        {
            // The first successful check moves the device to Connected and, once both devices of the school are
            // seen, writes the school's "devices online" installation step.
            await installation.MarkDeviceSeenAsync(id, ct).ConfigureAwait(false);
        }
    }

    /// <summary>Tells people about every device whose new state has held long enough (or that started flapping).</summary>
    private async Task<int> NotifyAsync(DateTime now, HealthOptions o, CancellationToken ct)
    {
        var pending = await repository.GetPendingNoticesAsync(now - o.FlapWindow, ct).ConfigureAwait(false);
        if (pending.Count == 0)
        {
            return 0;
        }

        var rows = new List<(int, DeviceHealthRecord)>();
        var toCreate = new List<Notification>();
        foreach (var p in pending)
        {
            var step = HealthEvaluator.Decide(p.Health, p.Transitions, now, o);
            if (step.Record != p.Health)
            {
                rows.Add((p.DeviceId, step.Record));
            }

            if (step.Notice is { } notice)
            {
                toCreate.Add(new Notification
                {
                    Kind = notice switch
                    {
                        HealthNotice.Offline => NotificationKind.DeviceOffline,
                        HealthNotice.BackOnline => NotificationKind.DeviceBackOnline,
                        HealthNotice.Degraded => NotificationKind.DeviceDegraded,
                        _ => NotificationKind.DeviceFlapping,
                    },
                    Audience = AudienceFor(notice, p.Kind),
                    DistrictId = p.DistrictId,
                    SchoolId = p.SchoolId,
                    DeviceId = p.DeviceId,
                    SchoolName = p.SchoolName,
                    DeviceKind = p.Kind,
                    SerialNumber = p.SerialNumber,
                    CreatedUtc = now,
                });
            }
        }

        if (rows.Count == 0 && toCreate.Count == 0)
        {
            return 0;
        }

        var created = new List<Notification>();
        await repository.WriteNoticesAsync(rows, now, async tx =>
        {
            foreach (var n in toCreate)
            {
                created.Add(await notifications.CreateAsync(tx, n, ct).ConfigureAwait(false));
            }
        }, ct).ConfigureAwait(false);
        center.Publish(created);
        return created.Count;
    }

    /// <summary>
    /// Principals, the bureau and administrators hear of every device; the police also of alarm terminals, since an
    /// offline terminal is a school without a panic button. A degraded device is the installers' business, not the police's.
    /// </summary>
    internal static NotificationAudience AudienceFor(HealthNotice notice, DeviceKind kind)
    {
        var audience = NotificationAudience.Principal | NotificationAudience.Bureau | NotificationAudience.Admin;
        return kind == DeviceKind.AlarmTerminal && notice is HealthNotice.Offline or HealthNotice.BackOnline or HealthNotice.Flapping
            ? audience | NotificationAudience.Police
            : audience;
    }

    /// <summary>
    /// Marks offline each terminal judged by its signals alone (no SIP user agent to ask) that was alive and has now been
    /// silent <see cref="HealthOptions.SilenceForOffline"/>: an in-memory scan of the terminals the last cycle handed over
    /// against their newest sighting (DevicePresence's, not yet flushed, or the database's), so it costs no database
    /// read unless a terminal is due, and that one is re-read before it is marked (its state and stored sighting win).
    /// <see cref="HealthSilenceWatch"/> runs it every <see cref="HealthOptions.SilenceCheckSeconds"/>, apart from the
    /// cycles, so a deadline between two cycles (or during a long or skipped one) is met within that tick; each cycle also
    /// runs it at its start. Never runs twice at once (a call while one runs returns 0: that one does the work).
    /// Returns how many terminals it marked offline.
    /// </summary>
    public async Task<int> CheckSilenceAsync(CancellationToken ct)
    {
        if (Interlocked.Exchange(ref _silenceRunning, 1) == 1)
        {
            return 0;
        }

        try
        {
            var o = options.Value;
            var now = time.GetUtcNow().UtcDateTime;
            List<int>? due = null;
            foreach (var (id, known) in _signalJudged)
            {
                if (known.State is DeviceHealthState.Online or DeviceHealthState.Degraded && Silent(Newest(known.LastSeenUtc, id), now, o))
                {
                    (due ??= []).Add(id);
                }
            }

            if (due is null)
            {
                return 0;
            }

            var changes = new List<HealthChange>();
            foreach (var id in due)
            {
                var target = await repository.GetTargetAsync(id, ct).ConfigureAwait(false);
                if (target is null || !SignalJudged(target))
                {
                    _signalJudged.TryRemove(id, out _);
                    continue;
                }

                var seen = LastSeen(target);
                var at = time.GetUtcNow().UtcDateTime;
                var change = target.Health.State is DeviceHealthState.Online or DeviceHealthState.Degraded && Silent(seen, at, o)
                    ? Apply(target, new Observation(ObservationKind.Silent, "no signal"), at, o)
                    : null;
                _signalJudged[id] = new Sighted(seen, change?.Record.State ?? target.Health.State);
                if (change is not null)
                {
                    changes.Add(change);
                }
            }

            await repository.WriteAsync(changes, time.GetUtcNow().UtcDateTime, ct).ConfigureAwait(false);
            var marked = changes.Count(c => c.From is not null);
            Interlocked.Add(ref _silencedSinceCycle, marked);
            if (marked > 0)
            {
                logger.LogInformation("Health check: {Count} terminals silent for {Seconds} s marked offline", marked, (int)o.SilenceForOffline.TotalSeconds);
            }

            return marked;
        }
        finally
        {
            Volatile.Write(ref _silenceRunning, 0);
        }
    }

    /// <summary>Hands the silence watch this cycle's terminals judged by their signals (devices gone from the list drop out).</summary>
    private void Track(List<HealthTarget> targets)
    {
        var current = new HashSet<int>();
        foreach (var t in targets)
        {
            if (SignalJudged(t))
            {
                current.Add(t.DeviceId);
                _signalJudged[t.DeviceId] = new Sighted(t.LastSeenUtc, t.Health.State);
            }
        }

        foreach (var id in _signalJudged.Keys)
        {
            if (!current.Contains(id))
            {
                _signalJudged.TryRemove(id, out _);
            }
        }
    }

    /// <summary>After the batch: a watched terminal whose state the cycle changed (back online) is watched in its new state.</summary>
    private void Retrack(List<HealthChange> written)
    {
        foreach (var change in written)
        {
            if (_signalJudged.TryGetValue(change.DeviceId, out var known))
            {
                _signalJudged[change.DeviceId] = known with { State = change.Record.State };
            }
        }
    }

    private DateTime? Newest(DateTime? stored, int deviceId) =>
        presence?.GetLastSeenUtc(deviceId) is { } live && (stored is not { } s || live > s) ? live : stored;

    private readonly record struct Sighted(DateTime? LastSeenUtc, DeviceHealthState State);

    /// <summary>
    /// Starts each device's first probe at its offset from the cycle's start, all from one timer: thousands of timers of
    /// their own (a Task.Delay per device) cost a timer-thread wake and a thread-pool hand-off each, and the timer queue
    /// scanned them all. Each wake releases every probe due within <see cref="Batch"/>, a little early rather than late.
    /// While <paramref name="alarmsFlowing"/> holds, the clock stands still (no probe starts), for at most
    /// <paramref name="maxHold"/> in all (<see cref="HealthOptions.AlarmHoldSeconds"/>); then the probes go on at their
    /// offsets, later by that much, not all at once.
    /// </summary>
    private sealed class StartClock(TimeProvider time, Func<bool>? alarmsFlowing = null, TimeSpan maxHold = default)
    {
        private static readonly TimeSpan Batch = TimeSpan.FromMilliseconds(100);
        private readonly long _start = time.GetTimestamp();
        private readonly PriorityQueue<TaskCompletionSource, TimeSpan> _waiting = new();
        private long _heldTicks;
        private bool _done;

        /// <summary>How long the clock has stood still for alarms.</summary>
        public TimeSpan Held => TimeSpan.FromTicks(Interlocked.Read(ref _heldTicks));

        // The cycle's time as the offsets count it: the time since the start, less the hold.
        private TimeSpan Now => time.GetElapsedTime(_start) - Held;

        // Whether the clock may still stand still for alarms.
        private bool MayHold => alarmsFlowing is not null && Held < maxHold;

        public Task WaitAsync(TimeSpan offset)
        {
            var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (_waiting)
            {
                if (_done)
                {
                    // Queued after the clock ran out (not the cycle's way): a timer of its own.
                    var left = offset - Now;
                    return left > TimeSpan.Zero ? Task.Delay(left, time) : Task.CompletedTask;
                }

                _waiting.Enqueue(start, offset);
            }

            return start.Task;
        }

        /// <summary>Releases the queued probes at their offsets, until none is left; on cancellation, cancels those still waiting.</summary>
        public async Task RunAsync(CancellationToken ct)
        {
            try
            {
                while (true)
                {
                    if (MayHold && alarmsFlowing!())
                    {
                        // Alarms are being written: stand still for a step (or what is left of the hold), then look again.
                        var step = maxHold - Held < Batch ? maxHold - Held : Batch;
                        var before = time.GetTimestamp();
                        await Task.Delay(step, time, ct).ConfigureAwait(false);
                        var stood = time.GetElapsedTime(before);
                        Interlocked.Add(ref _heldTicks, (Held + stood > maxHold ? maxHold - Held : stood).Ticks);
                        continue;
                    }

                    TimeSpan next;
                    lock (_waiting)
                    {
                        var now = Now;
                        while (_waiting.TryPeek(out var due, out var offset) && offset <= now + Batch)
                        {
                            _waiting.Dequeue();
                            due.TrySetResult();
                        }

                        if (!_waiting.TryPeek(out _, out next))
                        {
                            _done = true;
                            return;
                        }

                        next -= now;
                        if (MayHold && next > Batch)
                        {
                            // Wake at least every step, so alarms that start meanwhile stop the clock before the next probes.
                            next = Batch;
                        }
                    }

                    await Task.Delay(next, time, ct).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException)
            {
                lock (_waiting)
                {
                    while (_waiting.TryDequeue(out var due, out _))
                    {
                        due.TrySetCanceled(ct);
                    }
                }
            }
        }
    }

    /// <summary>The two concurrency bounds of a cycle (first probes of the interval, confirmation probes), its start clock, and when the last first probe ended.</summary>
    private sealed class Gates(SemaphoreSlim first, SemaphoreSlim retries, Stopwatch clock, StartClock starts)
    {
        private long _firstDone;

        public StartClock Starts => starts;

        public SemaphoreSlim First => first;

        public SemaphoreSlim Retries => retries;

        public long FirstDoneTicks => Interlocked.Read(ref _firstDone);

        public void FirstDone()
        {
            var at = clock.Elapsed.Ticks;
            long seen;
            while (at > (seen = Interlocked.Read(ref _firstDone)) && Interlocked.CompareExchange(ref _firstDone, at, seen) != seen)
            {
            }
        }
    }
}
