using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Portal.Core.Devices;
using Portal.Core.Installation;
using Portal.Core.Notifications;

namespace Portal.Core.Health;

/// <summary>What one check cycle did.</summary>
public sealed record HealthCycleResult(int Devices, int Probed, int Failed, int Changes, int Notices, TimeSpan ProbePhase, TimeSpan Elapsed);

/// <summary>
/// One check cycle over every installed device (DESIGN.md "Health"): devices that push (heartbeats, SIP registrations)
/// are judged by how fresh their last signal is; cameras, and terminals without a fresh signal when a SIP user agent
/// is there, are probed. Probes fan out as async tasks with bounded concurrency, each device at its own fixed offset
/// within <see cref="HealthOptions.ProbeSpread"/> (so each is probed exactly one interval apart and the load is even),
/// each bounded by its time-out: a device that hangs, answers garbage or breaks off costs its own slot and nothing more.
/// Then the rules (<see cref="HealthEvaluator"/>) run, only changes are written, and people are told once a state has held.
/// </summary>
/// <remarks>
/// A pushing device goes offline the moment it has been silent for the missed intervals plus the grace: terminals
/// whose deadline falls inside this cycle are re-read at their deadline (the cycle waits for them, cheaply, until just
/// before the next cycle), so a dead terminal is marked within 3 intervals of its last signal instead of up to one more
/// interval later at the next cycle.
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
    ILogger<HealthMonitor> logger)
{
    public HealthOptions Options => options.Value;

    /// <summary>Runs one cycle (Hangfire never runs two at once: <see cref="DeviceHealthCheckJob"/>).</summary>
    public async Task<HealthCycleResult> RunCycleAsync(CancellationToken ct)
    {
        var o = options.Value;
        var clock = Stopwatch.StartNew();
        var started = time.GetUtcNow().UtcDateTime;
        await repository.EnsureRowsAsync(started, ct).ConfigureAwait(false);
        var targets = await repository.GetTargetsAsync(ct).ConfigureAwait(false);

        using var gate = new SemaphoreSlim(Math.Max(1, o.MaxConcurrentProbes));
        var checks = new Task<(Observation Observation, bool Probed)>[targets.Count];
        for (var i = 0; i < targets.Count; i++)
        {
            checks[i] = CheckAsync(targets[i], started, gate, o, ct);
        }

        var results = await Task.WhenAll(checks).ConfigureAwait(false);
        var probePhase = clock.Elapsed;
        var now = time.GetUtcNow().UtcDateTime;
        var changes = new List<HealthChange>();
        var firstSeen = new List<int>();
        var probed = 0;
        var failed = 0;
        for (var i = 0; i < targets.Count; i++)
        {
            var (observation, wasProbed) = results[i];
            probed += wasProbed ? 1 : 0;
            failed += observation.Kind is ObservationKind.Missed or ObservationKind.Silent ? 1 : 0;
            if (Apply(targets[i], observation, now, o) is { } change)
            {
                changes.Add(change);
            }

            if (observation.Kind is ObservationKind.Ok or ObservationKind.Degraded && targets[i].InstallState < DeviceInstallState.Connected)
            {
                firstSeen.Add(targets[i].DeviceId);
            }
        }

        await repository.WriteAsync(changes, now, ct).ConfigureAwait(false);
        await MarkFirstSeenAsync(firstSeen, ct).ConfigureAwait(false);
        var notices = await NotifyAsync(now, o, ct).ConfigureAwait(false);
        changes.AddRange(await WatchSignalsAsync(targets, results, started, o, ct).ConfigureAwait(false));

        var finished = time.GetUtcNow().UtcDateTime;
        var transitions = changes.Count(c => c.From is not null);
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
        if (transitions > 0 || notices > 0)
        {
            logger.LogInformation("Health check: {Devices} devices, {Probed} probed, {Failed} without sign of life, {Transitions} transitions, {Notices} notices in {Elapsed} ms",
                targets.Count, probed, failed, transitions, notices, (int)probePhase.TotalMilliseconds);
        }

        return new HealthCycleResult(targets.Count, probed, failed, transitions, notices, probePhase, clock.Elapsed);
    }

    /// <summary>The change one observation makes to a device, or null when nothing needs writing.</summary>
    private static HealthChange? Apply(HealthTarget target, Observation observation, DateTime now, HealthOptions o)
    {
        var step = HealthEvaluator.Observe(target.Health, observation, now, o);
        var publish = step.Record.State != target.PublishedState;
        return step.Write || publish ? new HealthChange(target.DeviceId, step.Record, step.From, publish) : null;
    }

    private async Task<(Observation, bool)> CheckAsync(HealthTarget target, DateTime started, SemaphoreSlim gate, HealthOptions o, CancellationToken ct)
    {
        if (target.Kind == DeviceKind.AlarmTerminal)
        {
            if (target.LastSeenUtc is { } seen && started - seen <= o.Interval + o.SignalGrace)
            {
                return (Observation.Ok("signal"), false);
            }

            if (sipProbe.IsAvailable && !string.IsNullOrEmpty(target.SipAccount))
            {
                var sip = await ProbeAsync(target, sipProbe.ProbeAsync, gate, o, ct).ConfigureAwait(false);
                if (sip.Verdict != ProbeVerdict.Unsupported)
                {
                    // An answer means alive. No answer from a terminal silent past the whole window: offline at once,
                    // its missed intervals counted by its silence; otherwise one more missed interval.
                    return sip.Verdict == ProbeVerdict.Failed && Silent(target, started, o)
                        ? (new Observation(ObservationKind.Silent, sip.Detail), true)
                        : (ToObservation(sip), true);
                }
            }

            return (Silent(target, started, o) ? new Observation(ObservationKind.Silent, "no signal") : Observation.Nothing, false);
        }

        var result = await ProbeAsync(target, cameraProbe.ProbeAsync, gate, o, ct).ConfigureAwait(false);
        return (ToObservation(result), result.Verdict != ProbeVerdict.Unsupported);
    }

    private static bool Silent(HealthTarget target, DateTime now, HealthOptions o) =>
        target.LastSeenUtc is { } seen && now - seen >= o.SilenceForOffline;

    private static Observation ToObservation(ProbeResult result) => result.Verdict switch
    {
        ProbeVerdict.Ok => Observation.Ok(result.Detail),
        ProbeVerdict.Degraded => new Observation(ObservationKind.Degraded, result.Detail),
        ProbeVerdict.Failed => new Observation(ObservationKind.Missed, result.Detail),
        _ => Observation.Nothing,
    };

    /// <summary>
    /// Runs one probe at the device's offset, within the concurrency bound and a hard time-out of its own (the probe's
    /// time-out plus a second): whatever the device does, this returns in time and never throws for it.
    /// </summary>
    private async Task<ProbeResult> ProbeAsync(HealthTarget target, Func<HealthTarget, TimeSpan, CancellationToken, Task<ProbeResult>> probe,
        SemaphoreSlim gate, HealthOptions o, CancellationToken ct)
    {
        var offset = Offset(target.DeviceId, o.ProbeSpread);
        if (offset > TimeSpan.Zero)
        {
            await Task.Delay(offset, time, ct).ConfigureAwait(false);
        }

        await gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            using var bound = CancellationTokenSource.CreateLinkedTokenSource(ct);
            var limit = o.ProbeTimeout + TimeSpan.FromSeconds(1);
            bound.CancelAfter(limit);
            var running = probe(target, o.ProbeTimeout, bound.Token);
            var finished = await Task.WhenAny(running, Task.Delay(limit, CancellationToken.None)).ConfigureAwait(false);
            if (finished != running)
            {
                // The probe ignored its own time-out; leave it to end by itself (its token is cancelled) and move on.
                _ = running.ContinueWith(t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
                return new ProbeResult(ProbeVerdict.Failed, $"no answer within {limit.TotalSeconds:0} s");
            }

            return await running.ConfigureAwait(false);
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
    /// Re-reads, at its deadline, each terminal judged by its signals whose offline deadline falls before the next
    /// cycle, and marks it offline if still silent. Returns the changes written.
    /// </summary>
    private async Task<List<HealthChange>> WatchSignalsAsync(IReadOnlyList<HealthTarget> targets, (Observation Observation, bool Probed)[] results,
        DateTime started, HealthOptions o, CancellationToken ct)
    {
        var written = new List<HealthChange>();
        var end = started + o.Interval - TimeSpan.FromSeconds(1);
        var due = new List<(DateTime Deadline, int DeviceId)>();
        for (var i = 0; i < targets.Count; i++)
        {
            var t = targets[i];
            if (t.Kind == DeviceKind.AlarmTerminal && !results[i].Probed && t.LastSeenUtc is { } seen
                && t.Health.State is DeviceHealthState.Online or DeviceHealthState.Degraded
                && results[i].Observation.Kind != ObservationKind.Silent)
            {
                var deadline = seen + o.SilenceForOffline;
                if (deadline > started && deadline < end)
                {
                    due.Add((deadline, t.DeviceId));
                }
            }
        }

        foreach (var (deadline, deviceId) in due.OrderBy(d => d.Deadline))
        {
            var wait = deadline - time.GetUtcNow().UtcDateTime;
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, time, ct).ConfigureAwait(false);
            }

            var target = await repository.GetTargetAsync(deviceId, ct).ConfigureAwait(false);
            var now = time.GetUtcNow().UtcDateTime;
            if (target is null || !Silent(target, now, o))
            {
                continue;
            }

            if (Apply(target, new Observation(ObservationKind.Silent, "no signal"), now, o) is { } change)
            {
                await repository.WriteAsync([change], now, ct).ConfigureAwait(false);
                written.Add(change);
            }
        }

        return written;
    }
}
