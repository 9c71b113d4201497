using Portal.Core.Devices;

namespace Portal.Core.Health;

/// <summary>What one observation does to a device's health row.</summary>
/// <param name="Record">The row after the observation.</param>
/// <param name="Write">True when the row changed and must be written (only changes are written).</param>
/// <param name="From">The state before, when the state changed (a transition for the history).</param>
public sealed record HealthStep(DeviceHealthRecord Record, bool Write, DeviceHealthState? From);

/// <summary>What people are told about a device, once its state has held (flap suppression).</summary>
public enum HealthNotice
{
    Offline = 0,
    BackOnline = 1,
    Degraded = 2,
    Flapping = 3,
}

/// <summary>The notification decision for one device: its row afterwards and what to tell, if anything.</summary>
public sealed record NoticeStep(DeviceHealthRecord Record, HealthNotice? Notice);

/// <summary>
/// The health rules, pure and clock-free (the caller passes "now"), so every transition and the flap suppression
/// are tested without sockets or waiting:
/// <list type="bullet">
/// <item>an answer makes a device online (or degraded when it is impaired) at once;</item>
/// <item>a device is offline after <see cref="HealthOptions.MissedIntervalsForOffline"/> missed intervals in a row;
/// a device never seen alive stays unknown (installed, not yet on the network: not "offline");</item>
/// <item>people hear of a new state only once it has held <see cref="HealthOptions.NotifyAfter"/>; a device that changed
/// <see cref="HealthOptions.FlapTransitions"/> times within the flap window is reported once as flapping, then not
/// again until it settles.</item>
/// </list>
/// </summary>
public static class HealthEvaluator
{
    public static HealthStep Observe(DeviceHealthRecord current, Observation observation, DateTime now, HealthOptions options)
    {
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(observation);
        ArgumentNullException.ThrowIfNull(options);
        var limit = Math.Max(1, options.MissedIntervalsForOffline);
        var next = observation.Kind switch
        {
            ObservationKind.Ok => current with { State = DeviceHealthState.Online, Misses = 0, LastOkUtc = now },
            ObservationKind.Degraded => current with { State = DeviceHealthState.Degraded, Misses = 0, LastOkUtc = now },
            ObservationKind.Missed when current.State == DeviceHealthState.Unknown => current,
            ObservationKind.Missed => Missed(current, Math.Min(limit, current.Misses + 1), limit),
            ObservationKind.Silent when current.State == DeviceHealthState.Unknown => current,
            ObservationKind.Silent => Missed(current, limit, limit),
            _ => current,
        };

        if (next.State != current.State)
        {
            next = next with { StateSinceUtc = now, Detail = Trim(observation.Detail) };
            return new HealthStep(next, true, current.State);
        }

        // Unchanged state: write only when the miss count moved (a device on its way to offline, or back from it).
        // LastOkUtc alone is not worth a write per device per cycle: an online device is alive as of the last cycle.
        return next.Misses != current.Misses
            ? new HealthStep(next with { LastOkUtc = current.LastOkUtc ?? next.LastOkUtc, Detail = Trim(observation.Detail) ?? current.Detail }, true, null)
            : new HealthStep(current, false, null);
    }

    /// <summary>
    /// Whom to tell what, for a device whose state differs from what people were last told, or that is flapping.
    /// <paramref name="recentTransitions"/> counts its transitions within the flap window, the latest included.
    /// </summary>
    public static NoticeStep Decide(DeviceHealthRecord current, int recentTransitions, DateTime now, HealthOptions options)
    {
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(options);
        var held = current.StateSinceUtc is not { } since || now - since >= options.NotifyAfter;
        var flapping = recentTransitions >= Math.Max(2, options.FlapTransitions);
        if (current.IsFlapping)
        {
            if (flapping || !held)
            {
                return new NoticeStep(current, null);
            }

            // Settled: say where it settled, if that differs from what people last heard.
            var settled = current with { IsFlapping = false, FlappingSinceUtc = null };
            return Tell(settled);
        }

        if (flapping)
        {
            return new NoticeStep(current with { IsFlapping = true, FlappingSinceUtc = now }, HealthNotice.Flapping);
        }

        return held ? Tell(current) : new NoticeStep(current, null);
    }

    private static NoticeStep Tell(DeviceHealthRecord current)
    {
        if (current.State == current.NotifiedState || current.State == DeviceHealthState.Unknown)
        {
            return new NoticeStep(current with { NotifiedState = current.State }, null);
        }

        HealthNotice? notice = (current.NotifiedState, current.State) switch
        {
            // First contact: a device coming online for the first time is no news.
            (DeviceHealthState.Unknown, DeviceHealthState.Online) => null,
            (_, DeviceHealthState.Offline) => HealthNotice.Offline,
            (_, DeviceHealthState.Degraded) => HealthNotice.Degraded,
            (_, DeviceHealthState.Online) => HealthNotice.BackOnline,
            _ => null,
        };
        return new NoticeStep(current with { NotifiedState = current.State }, notice);
    }

    private static DeviceHealthRecord Missed(DeviceHealthRecord current, int misses, int limit) =>
        current with { Misses = misses, State = misses >= limit ? DeviceHealthState.Offline : current.State };

    private static string? Trim(string? detail) => detail is null ? null : detail.Length <= 250 ? detail : detail[..250];
}
