using System.Collections.Concurrent;
using Xunit;
using Portal.Core.Devices;
using Portal.Core.Health;

namespace Portal.Tests.Core.Health;

/// <summary>
/// How soon a dead device is found, on a fake clock driven second by second through back-to-back cycles with the
/// product's settings (60 s interval, 20 s spread, 20 s retry, 3 failures, 5 s time-out): a camera failing right after
/// a good probe, and a terminal whose heartbeats stop, are offline within 3 minutes (EN 50136's best grade); one lost
/// probe is no offline.
/// </summary>
public sealed class DetectionTimeTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromMinutes(3);

    private static HealthOptions ProductOptions => new() { NotifyAfterSeconds = 120 };

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Camera_FailingRightAfterAGoodProbe_OfflineWithinThreeMinutes(bool hung)
    {
        var probe = new ScriptedCameraProbe();
        await using var city = new HealthCity(options: ProductOptions, cameraProbe: probe);
        probe.Time = city.Time;
        var cameras = await CamerasAsync(city, 8);
        await city.KeepOnlyAsync([.. cameras]);

        await DriveAsync(city, 120, _ => Task.CompletedTask); // two cycles: every camera online
        Assert.All(cameras, id => Assert.Equal(DeviceHealthState.Online, city.StateAsync(id).GetAwaiter().GetResult()));
        foreach (var id in cameras)
        {
            probe.Modes[id] = hung ? Mode.HangAfterNextProbe : Mode.DownAfterNextProbe;
        }

        await DriveAsync(city, 300, _ => Task.CompletedTask);

        foreach (var id in cameras)
        {
            var offline = Assert.Single(await city.HistoryAsync(id), e => e.ToState == DeviceHealthState.Offline);
            var failedAt = probe.FailedAt[id];
            var detection = offline.AtUtc - failedAt;
            Assert.True(detection > TimeSpan.Zero && detection <= Bound,
                $"camera {id} (offset {HealthMonitor.Offset(id, city.Options.ProbeSpread).TotalSeconds:0.0} s) offline {detection.TotalSeconds:0.0} s after its failure");
            Assert.Equal(DeviceHealthState.Offline, await city.StateAsync(id));
        }
    }

    [Fact]
    public async Task Camera_OneProbeFailsOnce_RetriedSooner_NeverOffline()
    {
        var probe = new ScriptedCameraProbe();
        await using var city = new HealthCity(options: ProductOptions, cameraProbe: probe);
        probe.Time = city.Time;
        var camera = (await CamerasAsync(city, 1))[0];
        await city.KeepOnlyAsync(camera);

        await DriveAsync(city, 120, _ => Task.CompletedTask);
        probe.Modes[camera] = Mode.FailOnce;
        await DriveAsync(city, 240, _ => Task.CompletedTask);

        Assert.Equal(DeviceHealthState.Online, await city.StateAsync(camera));
        Assert.DoesNotContain(await city.HistoryAsync(camera), e => e.ToState == DeviceHealthState.Offline);
        Assert.Empty(await city.NotificationsForAsync(HealthCity.Bureau(null)));
        var failed = probe.FailedAt[camera];
        var probes = probe.ProbesOf(camera);
        Assert.Contains(failed + city.Options.RetryInterval, probes); // re-probed 20 s later, not an interval later
        var row = await city.Repository.GetTargetAsync(camera, TestContext.Current.CancellationToken);
        Assert.Equal(0, row!.Health.Misses);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(30)]
    [InlineData(59)]
    public async Task Terminal_HeartbeatsStop_OfflineWithinThreeMinutesOfTheLast_OneStillBeatingStaysOnline(int phase)
    {
        await using var city = new HealthCity(options: ProductOptions);
        var schools = await city.ConnectedSchoolsAsync();
        var dying = (await city.DeviceAsync(schools[0], DeviceKind.AlarmTerminal)).Id;
        var alive = (await city.DeviceAsync(schools[1], DeviceKind.AlarmTerminal)).Id;
        await city.KeepOnlyAsync(dying, alive);

        var start = city.Now;
        await city.Devices.SetLastSeenAsync([(alive, start, start), (dying, start, start)], TestContext.Current.CancellationToken);
        var stopAfter = start + TimeSpan.FromSeconds(180 + phase);
        var last = DateTime.MinValue;
        await DriveAsync(city, 600, async now =>
        {
            if ((int)(now - start).TotalSeconds % 60 != phase)
            {
                return;
            }

            await city.Devices.SetLastSeenAsync([(alive, now, now)], TestContext.Current.CancellationToken);
            if (now <= stopAfter)
            {
                await city.Devices.SetLastSeenAsync([(dying, now, now)], TestContext.Current.CancellationToken);
                last = now;
            }
        });

        var offline = Assert.Single(await city.HistoryAsync(dying), e => e.ToState == DeviceHealthState.Offline);
        var detection = offline.AtUtc - last;
        Assert.True(detection <= Bound && detection > TimeSpan.FromMinutes(2), $"offline {detection.TotalSeconds:0.0} s after the last heartbeat");
        Assert.Equal(DeviceHealthState.Online, await city.StateAsync(alive));
        Assert.DoesNotContain(await city.HistoryAsync(alive), e => e.ToState == DeviceHealthState.Offline);
    }

    private static async Task<int[]> CamerasAsync(HealthCity city, int count)
    {
        var schools = await city.ConnectedSchoolsAsync();
        var ids = new List<int>();
        foreach (var index in schools.Take(count))
        {
            ids.Add((await city.DeviceAsync(index, DeviceKind.GateCamera)).Id);
        }

        Assert.Equal(count, ids.Count);
        return [.. ids];
    }

    /// <summary>
    /// Runs cycles back to back, one per interval as the per-minute job does, moving the fake clock a second at a time
    /// for <paramref name="seconds"/> seconds (then until the running cycle ends). Before each second the scenario acts.
    /// The cycle gets a moment of real time at each second to reach its next timer; if it is slower, the clock only runs
    /// ahead of it, which can make a measured detection time longer, never shorter.
    /// </summary>
    private static async Task DriveAsync(HealthCity city, int seconds, Func<DateTime, Task> onSecond)
    {
        var ct = TestContext.Current.CancellationToken;
        Task<HealthCycleResult>? cycle = null;
        var nextStart = city.Now;
        for (var s = 0; s < seconds || cycle is { IsCompleted: false }; s++)
        {
            if (s < seconds)
            {
                await onSecond(city.Now);
                if ((cycle is null || cycle.IsCompleted) && city.Now >= nextStart)
                {
                    if (cycle is not null)
                    {
                        await cycle;
                    }

                    cycle = city.Monitor.RunCycleAsync(ct);
                    nextStart += city.Options.Interval;
                }
            }

            if (cycle is { IsCompleted: false })
            {
                await Task.WhenAny(cycle, Task.Delay(10, ct));
            }

            city.Time.Advance(TimeSpan.FromSeconds(1));
        }

        if (cycle is not null)
        {
            await cycle;
        }
    }

    private enum Mode
    {
        Up,
        DownAfterNextProbe,
        HangAfterNextProbe,
        Down,
        Hung,
        FailOnce,
    }

    /// <summary>A camera probe the test scripts per device, on the fake clock: answers, refuses, hangs for its whole time-out, or fails once.</summary>
    private sealed class ScriptedCameraProbe : ICameraProbe
    {
        private readonly ConcurrentQueue<(int DeviceId, DateTime At)> _probes = new();

        public TimeProvider Time { get; set; } = TimeProvider.System;

        public ConcurrentDictionary<int, Mode> Modes { get; } = new();

        /// <summary>When each device failed: right after its last good probe, or at its one failed probe.</summary>
        public ConcurrentDictionary<int, DateTime> FailedAt { get; } = new();

        public IReadOnlyList<DateTime> ProbesOf(int deviceId) => [.. _probes.Where(p => p.DeviceId == deviceId).Select(p => p.At)];

        public async Task<ProbeResult> ProbeAsync(HealthTarget camera, TimeSpan timeout, CancellationToken ct)
        {
            var now = Time.GetUtcNow().UtcDateTime;
            _probes.Enqueue((camera.DeviceId, now));
            switch (Modes.GetValueOrDefault(camera.DeviceId))
            {
                case Mode.DownAfterNextProbe:
                case Mode.HangAfterNextProbe:
                    FailedAt[camera.DeviceId] = now;
                    Modes[camera.DeviceId] = Modes[camera.DeviceId] == Mode.DownAfterNextProbe ? Mode.Down : Mode.Hung;
                    return new ProbeResult(ProbeVerdict.Ok, "RTSP 200");
                case Mode.Down:
                    return new ProbeResult(ProbeVerdict.Failed, "RTSP: connection refused");
                case Mode.Hung:
                    await Task.Delay(timeout, Time, ct);
                    return new ProbeResult(ProbeVerdict.Failed, "RTSP: no answer within the time-out");
                case Mode.FailOnce:
                    FailedAt[camera.DeviceId] = now;
                    Modes[camera.DeviceId] = Mode.Up;
                    return new ProbeResult(ProbeVerdict.Failed, "RTSP: connection refused");
                default:
                    return new ProbeResult(ProbeVerdict.Ok, "RTSP 200");
            }
        }
    }
}
