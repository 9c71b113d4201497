using System.Collections.Concurrent;
using Xunit;
using Portal.Core.Alarms;
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

    /// <summary>
    /// A camera that dies right after a good probe is offline within 3 minutes; also in a storm of alarms that never
    /// pauses (<paramref name="storm"/>), when every cycle's probes wait the whole alarm hold (30 s) first.
    /// </summary>
    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public async Task Camera_FailingRightAfterAGoodProbe_OfflineWithinThreeMinutes(bool hung, bool storm)
    {
        var probe = new ScriptedCameraProbe();
        AlarmFlow? alarms = null;
        if (storm)
        {
            // The alarm flow's own clock never moves: one commit flows for ever.
            alarms = new AlarmFlow(new Microsoft.Extensions.Time.Testing.FakeTimeProvider(HealthCity.Start));
            alarms.Committed();
        }

        await using var city = new HealthCity(options: ProductOptions, cameraProbe: probe, alarms: alarms);
        probe.Time = city.Time;
        var cameras = await CamerasAsync(city, 8);
        await city.KeepOnlyAsync([.. cameras]);

        var start = city.Now;
        await DriveAsync(city, 120, _ => Task.CompletedTask); // two cycles: every camera online
        Assert.All(cameras, id => Assert.Equal(DeviceHealthState.Online, city.StateAsync(id).GetAwaiter().GetResult()));
        if (storm)
        {
            // The first cycle's probes waited the whole hold (a probe starts up to 100 ms before its offset).
            Assert.All(cameras, id => Assert.True(probe.ProbesOf(id)[0] >= start + HealthMonitor.Offset(id, city.Options.ProbeSpread) + city.Options.MaxAlarmHold - TimeSpan.FromMilliseconds(100),
                $"camera {id} first probed {(probe.ProbesOf(id)[0] - start).TotalSeconds:0.0} s into the cycle"));
        }

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

    /// <summary>
    /// The benchmark's late terminals: a deadline (last heartbeat + 170 s) that falls after one cycle's end is met by the
    /// next cycle only when that one starts on time; a long cycle or a job run Hangfire dropped (the previous cycle still
    /// held its lock) made it up to a minute late. The silence watch's own tick marks it whether cycles run or not.
    /// </summary>
    [Theory]
    [InlineData(0)]
    [InlineData(17)]
    [InlineData(58)]
    public async Task Terminal_NoCycleAfterItsLastHeartbeat_SilenceWatchMarksItWithinThreeMinutes(int phase)
    {
        await using var city = new HealthCity(options: ProductOptions);
        var schools = await city.ConnectedSchoolsAsync();
        var dying = (await city.DeviceAsync(schools[0], DeviceKind.AlarmTerminal)).Id;
        var alive = (await city.DeviceAsync(schools[1], DeviceKind.AlarmTerminal)).Id;
        await city.KeepOnlyAsync(dying, alive);
        var ct = TestContext.Current.CancellationToken;
        await city.Devices.SetLastSeenAsync([(alive, city.Now, city.Now), (dying, city.Now, city.Now)], ct);
        await city.Monitor.RunCycleAsync(ct); // the one cycle: it hands the watch its terminals

        var start = city.Now;
        var last = start;
        await DriveAsync(city, 400, async now =>
        {
            if ((int)(now - start).TotalSeconds % 60 != phase)
            {
                return;
            }

            await city.Devices.SetLastSeenAsync([(alive, now, now)], ct);
            if (now - start < TimeSpan.FromSeconds(60))
            {
                await city.Devices.SetLastSeenAsync([(dying, now, now)], ct);
                last = now;
            }
        }, cycles: false);

        var offline = Assert.Single(await city.HistoryAsync(dying), e => e.ToState == DeviceHealthState.Offline);
        var detection = offline.AtUtc - last;
        Assert.True(detection >= city.Options.SilenceForOffline && detection <= city.Options.SilenceForOffline + city.Options.SilenceCheck,
            $"offline {detection.TotalSeconds:0.0} s after the last heartbeat (deadline {city.Options.SilenceForOffline.TotalSeconds:0} s, tick {city.Options.SilenceCheckSeconds} s)");
        Assert.Equal(DeviceHealthState.Offline, await city.StateAsync(dying));
        Assert.Equal(DeviceHealthState.Online, await city.StateAsync(alive));
        Assert.DoesNotContain(await city.HistoryAsync(alive), e => e.ToState == DeviceHealthState.Offline);
    }

    /// <summary>
    /// A down camera's retries are not queued behind the interval's first probes: with one slot for first probes, held by
    /// a camera that does not answer (its time-out is long), the down camera's retry still runs at once, 20 s after its
    /// failed probe, while that slot is still held; the failure is confirmed offline.
    /// </summary>
    [Fact]
    public async Task Camera_RetryWhileTheOnlySlotIsHeld_NotQueuedBehindFirstProbes()
    {
        var ct = TestContext.Current.CancellationToken;
        var probe = new ScriptedCameraProbe();
        // A 2-minute time-out (5-minute interval, no spread) keeps the blocked probe in its slot for the whole test.
        var options = new HealthOptions { CheckIntervalSeconds = 300, ProbeTimeoutSeconds = 120, ProbeSpreadSeconds = 0, NotifyAfterSeconds = 0, MaxConcurrentProbes = 1 };
        await using var city = new HealthCity(options: options, cameraProbe: probe);
        probe.Time = city.Time;
        var cameras = (await CamerasAsync(city, 4)).Order().ToArray();
        await city.KeepOnlyAsync([.. cameras]);
        await city.Monitor.RunCycleAsync(ct); // every camera online

        var down = cameras[0]; // the lowest id: its first probe takes the slot first, then the next camera's blocks it
        probe.Modes[down] = Mode.Down;
        foreach (var id in cameras.Skip(1))
        {
            probe.Modes[id] = Mode.Blocked;
        }

        city.Time.Advance(city.Options.Interval);
        var cycle = city.Monitor.RunCycleAsync(ct);
        await WaitForAsync(() => probe.ProbesOf(down).Count == 2 && probe.Blocked == 1, "the down camera's failed probe, then a blocked probe in the slot");
        var failed = probe.ProbesOf(down)[1];

        city.Time.Advance(city.Options.RetryInterval);
        await WaitForAsync(() => probe.ProbesOf(down).Count == 3, "the down camera's retry");
        Assert.Equal(failed + city.Options.RetryInterval, probe.ProbesOf(down)[2]);
        Assert.Equal(1, probe.Blocked); // the only first-probe slot was held all along

        probe.Release.TrySetResult();
        city.Time.Advance(city.Options.RetryInterval);
        await WaitForAsync(() => probe.ProbesOf(down).Count == 4, "the down camera's second retry");
        await cycle.WaitAsync(TimeSpan.FromMinutes(2), ct);
        var offline = Assert.Single(await city.HistoryAsync(down), e => e.ToState == DeviceHealthState.Offline);
        Assert.Equal(failed + (2 * city.Options.RetryInterval), offline.AtUtc);
        Assert.All(cameras.Skip(1), id => Assert.Equal(DeviceHealthState.Online, city.StateAsync(id).GetAwaiter().GetResult()));
    }

    /// <summary>The silence watch as the portal hosts it: its own timer on the clock marks a silent terminal with no cycle after the first.</summary>
    [Fact]
    public async Task SilenceWatch_Hosted_MarksASilentTerminalWithoutCycles()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var city = new HealthCity(options: ProductOptions);
        var schools = await city.ConnectedSchoolsAsync();
        var dying = (await city.DeviceAsync(schools[0], DeviceKind.AlarmTerminal)).Id;
        await city.KeepOnlyAsync(dying);
        var last = city.Now;
        await city.Devices.SetLastSeenAsync([(dying, last, last)], ct);
        await city.Monitor.RunCycleAsync(ct);
        using var watch = new HealthSilenceWatch(city.Monitor, Microsoft.Extensions.Options.Options.Create(city.Options), city.Time,
            Microsoft.Extensions.Logging.Abstractions.NullLogger<HealthSilenceWatch>.Instance);
        await watch.StartAsync(ct);
        try
        {
            // Move the clock a tick at a time (the timer needs a moment of real time per tick) until the mark is written.
            var waited = System.Diagnostics.Stopwatch.StartNew();
            while (await city.StateAsync(dying) != DeviceHealthState.Offline)
            {
                Assert.True(waited.Elapsed < TimeSpan.FromMinutes(2), $"still {await city.StateAsync(dying)} {(city.Now - last).TotalSeconds:0} s after the last heartbeat");
                city.Time.Advance(city.Options.SilenceCheck);
                await Task.Delay(20, ct);
            }
        }
        finally
        {
            await watch.StopAsync(CancellationToken.None);
        }

        var offline = Assert.Single(await city.HistoryAsync(dying), e => e.ToState == DeviceHealthState.Offline);
        Assert.True(offline.AtUtc - last >= city.Options.SilenceForOffline, $"offline {(offline.AtUtc - last).TotalSeconds:0.0} s after the last heartbeat");
    }

    private static async Task WaitForAsync(Func<bool> condition, string what)
    {
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(waited.Elapsed < TimeSpan.FromMinutes(1), "waited a minute for " + what);
            await Task.Delay(10, TestContext.Current.CancellationToken);
        }
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
    /// Runs cycles back to back, one per interval as the per-minute job does (none when <paramref name="cycles"/> is false),
    /// and the silence watch's tick every <see cref="HealthOptions.SilenceCheckSeconds"/>, moving the fake clock a second
    /// at a time for <paramref name="seconds"/> seconds (then until the running cycle ends). Before each second the scenario acts.
    /// The cycle gets a moment of real time at each second to reach its next timer; if it is slower, the clock only runs
    /// ahead of it, which can make a measured detection time longer, never shorter.
    /// </summary>
    private static async Task DriveAsync(HealthCity city, int seconds, Func<DateTime, Task> onSecond, bool cycles = true)
    {
        var ct = TestContext.Current.CancellationToken;
        Task<HealthCycleResult>? cycle = null;
        var nextStart = city.Now;
        var tick = (int)city.Options.SilenceCheck.TotalSeconds;
        for (var s = 0; s < seconds || cycle is { IsCompleted: false }; s++)
        {
            if (s < seconds)
            {
                await onSecond(city.Now);
                if (s % tick == 0)
                {
                    // The silence watch's tick (HealthSilenceWatch), apart from the cycles.
                    await city.Monitor.CheckSilenceAsync(ct);
                }

                if (cycles && (cycle is null || cycle.IsCompleted) && city.Now >= nextStart)
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
        Blocked,
    }

    /// <summary>A camera probe the test scripts per device, on the fake clock: answers, refuses, hangs for its whole time-out, or fails once.</summary>
    private sealed class ScriptedCameraProbe : ICameraProbe
    {
        private readonly ConcurrentQueue<(int DeviceId, DateTime At)> _probes = new();
        private int _blocked;

        /// <summary>Blocked probes answer once this is set (or their time-out cancels them).</summary>
        public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Blocked probes in flight now.</summary>
        public int Blocked => Volatile.Read(ref _blocked);

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
                case Mode.Blocked:
                    Interlocked.Increment(ref _blocked);
                    try
                    {
                        await Release.Task.WaitAsync(ct);
                    }
                    finally
                    {
                        Interlocked.Decrement(ref _blocked);
                    }

                    return new ProbeResult(ProbeVerdict.Ok, "RTSP 200, late");
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
