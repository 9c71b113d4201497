using System.Collections.Concurrent;
using Microsoft.Extensions.Time.Testing;
using Xunit;
using Portal.Core.Alarms;
using Portal.Core.Devices;
using Portal.Core.Health;
using Portal.Tests.Core.Alarms;

namespace Portal.Tests.Core.Health;

/// <summary>
/// Alarms first (issue 15): while the intake is committing presses, and until none has come for AlarmQuietSeconds (10 s), a health cycle starts no probe; its start clock
/// stands still, for at most <see cref="HealthOptions.MaxAlarmHold"/>, and the probes then go on at their offsets,
/// later by the time it stood still. On the fake clock; the alarm flow has a clock of its own that the test holds still
/// (a commit on it flows until the test moves it), so "flowing" is a switch the test turns.
/// </summary>
public sealed class AlarmHoldTests
{
    private static readonly TimeSpan Step = TimeSpan.FromMilliseconds(100);

    // StartClock releases a probe up to this much before its offset (its batch).
    private static readonly TimeSpan Early = TimeSpan.FromMilliseconds(100);

    [Fact]
    public async Task AlarmFlow_FlowsForAQuarterSecondAfterTheIntakeCommitsAPress()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var city = new AlarmTestCity(schools: 4);
        var (school, _) = await city.SchoolInDistrictAsync((await city.Districts.GetAllAsync())[0].Code);
        Assert.False(city.Flow.CommittedWithin(AlarmFlow.Quiet));

        await city.Intake.SubmitAsync(new AlarmSignal(school.Id, school.DistrictId, null, AlarmSource.PortalTest, false, false, "127.0.0.1"), ct);
        Assert.True(city.Flow.CommittedWithin(AlarmFlow.Quiet));
        city.Time.Advance(AlarmFlow.Quiet - TimeSpan.FromMilliseconds(1));
        Assert.True(city.Flow.CommittedWithin(AlarmFlow.Quiet));
        city.Time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.False(city.Flow.CommittedWithin(AlarmFlow.Quiet));
    }

    [Fact]
    public async Task Cycle_AlarmsFlowing_NoProbeStarts_ThenEachAtItsOffsetLaterByTheHold()
    {
        var ct = TestContext.Current.CancellationToken;
        var flowClock = new FakeTimeProvider(HealthCity.Start);
        var flow = new AlarmFlow(flowClock);
        var probe = new RecordingProbe();
        await using var city = new HealthCity(options: new HealthOptions { NotifyAfterSeconds = 120 }, cameraProbe: probe, alarms: flow);
        probe.Time = city.Time;
        var cameras = await CamerasAsync(city, 8);
        await city.KeepOnlyAsync(cameras);
        var flowing = TimeSpan.FromSeconds(12);
        // Without the hold, some of these cameras would have been probed while the alarms flowed.
        Assert.Contains(cameras, id => HealthMonitor.Offset(id, city.Options.ProbeSpread) < flowing - TimeSpan.FromSeconds(2));

        flow.Committed();
        var start = city.Now;
        var cycle = city.Monitor.RunCycleAsync(ct);
        await StepAsync(city, cycle, flowing);
        Assert.Empty(probe.Probes);

        // The alarms pause: the probes still wait while the consoles draw the last of them (AlarmQuiet), then go on.
        flowClock.Advance(city.Options.AlarmQuiet - TimeSpan.FromMilliseconds(1));
        await StepAsync(city, cycle, TimeSpan.FromSeconds(1));
        Assert.Empty(probe.Probes);
        flowClock.Advance(TimeSpan.FromMilliseconds(1));
        await StepAsync(city, cycle, city.Options.Interval * 2);
        var result = await cycle.WaitAsync(TimeSpan.FromMinutes(1), ct);

        // It stood still no longer than the alarms flowed (and the step it was in when they paused); how much of that it
        // saw depends on when the cycle reached its clock, so the lower bound is only that it did.
        Assert.InRange(result.AlarmHold, TimeSpan.FromTicks(1), flowing + TimeSpan.FromSeconds(2));
        Assert.Equal(cameras.Length, result.Probed);
        foreach (var id in cameras)
        {
            var at = Assert.Single(probe.Probes, p => p.DeviceId == id).At;
            var offset = HealthMonitor.Offset(id, city.Options.ProbeSpread);
            Assert.True(at >= start + offset + result.AlarmHold - Early,
                $"camera {id} (offset {offset.TotalSeconds:0.0} s) probed {(at - start).TotalSeconds:0.0} s into the cycle, the hold {result.AlarmHold.TotalSeconds:0.0} s");
            Assert.Equal(DeviceHealthState.Online, await city.StateAsync(id));
        }
    }

    [Fact]
    public async Task Cycle_AlarmsNeverPause_ProbesWaitOnlyTheHoldThenRun()
    {
        var ct = TestContext.Current.CancellationToken;
        var flow = new AlarmFlow(new FakeTimeProvider(HealthCity.Start));
        var probe = new RecordingProbe();
        var options = new HealthOptions { NotifyAfterSeconds = 120, AlarmHoldSeconds = 3 };
        await using var city = new HealthCity(options: options, cameraProbe: probe, alarms: flow);
        probe.Time = city.Time;
        var cameras = await CamerasAsync(city, 4);
        await city.KeepOnlyAsync(cameras);

        flow.Committed(); // and never a pause
        var start = city.Now;
        var cycle = city.Monitor.RunCycleAsync(ct);
        await StepAsync(city, cycle, city.Options.Interval * 2);
        var result = await cycle.WaitAsync(TimeSpan.FromMinutes(1), ct);

        Assert.True(flow.CommittedWithin(city.Options.AlarmQuiet));
        Assert.Equal(TimeSpan.FromSeconds(3), result.AlarmHold);
        Assert.Equal(cameras.Length, result.Probed);
        foreach (var id in cameras)
        {
            var at = Assert.Single(probe.Probes, p => p.DeviceId == id).At;
            Assert.True(at >= start + HealthMonitor.Offset(id, city.Options.ProbeSpread) + TimeSpan.FromSeconds(3) - Early, $"camera {id} probed {(at - start).TotalSeconds:0.0} s into the cycle");
        }
    }

    [Theory]
    [InlineData(60, 5, 20, 30, 30)] // the product's settings: 50 s of room, 20 s of spread, the whole hold
    [InlineData(60, 5, 20, 45, 30)] // more than the room: what is left
    [InlineData(60, 5, 40, 30, 10)] // a long spread leaves 10 s
    [InlineData(60, 5, 50, 30, 0)] // none left
    [InlineData(60, 5, 20, 0, 0)] // turned off
    [InlineData(60, 5, 20, -5, 0)]
    public void MaxAlarmHold_NeverMoreThanTheIntervalLeaves(int interval, int timeout, int spread, int hold, int expected)
    {
        var options = new HealthOptions { CheckIntervalSeconds = interval, ProbeTimeoutSeconds = timeout, ProbeSpreadSeconds = spread, AlarmHoldSeconds = hold };
        Assert.Equal(TimeSpan.FromSeconds(expected), options.MaxAlarmHold);
    }

    [Theory]
    [InlineData(10, 10_000)]
    [InlineData(1, 1_000)]
    [InlineData(0, 250)] // never less than the flow's own quarter second
    [InlineData(-3, 250)]
    public void AlarmQuiet_FromItsSeconds(int seconds, int expectedMs)
    {
        Assert.Equal(TimeSpan.FromMilliseconds(expectedMs), new HealthOptions { AlarmQuietSeconds = seconds }.AlarmQuiet);
    }

    /// <summary>
    /// Moves the clock a step at a time for <paramref name="span"/>, or until the cycle ends, with a moment of real time
    /// per step for the start clock to reach its next timer (if it is slower, the clock only runs ahead of it).
    /// </summary>
    private static async Task StepAsync(HealthCity city, Task cycle, TimeSpan span)
    {
        for (var moved = TimeSpan.Zero; moved < span && !cycle.IsCompleted; moved += Step)
        {
            await Task.WhenAny(cycle, Task.Delay(5, TestContext.Current.CancellationToken));
            city.Time.Advance(Step);
        }
    }

    private static async Task<int[]> CamerasAsync(HealthCity city, int count)
    {
        var ids = new List<int>();
        foreach (var index in (await city.ConnectedSchoolsAsync()).Take(count))
        {
            ids.Add((await city.DeviceAsync(index, DeviceKind.GateCamera)).Id);
        }

        Assert.Equal(count, ids.Count);
        return [.. ids];
    }

    /// <summary>A camera probe that records when each camera was probed (on the fake clock) and finds it healthy.</summary>
    private sealed class RecordingProbe : ICameraProbe
    {
        private readonly ConcurrentQueue<(int DeviceId, DateTime At)> _probes = new();

        public TimeProvider Time { get; set; } = TimeProvider.System;

        public IReadOnlyList<(int DeviceId, DateTime At)> Probes => [.. _probes];

        public Task<ProbeResult> ProbeAsync(HealthTarget camera, TimeSpan timeout, CancellationToken ct)
        {
            _probes.Enqueue((camera.DeviceId, Time.GetUtcNow().UtcDateTime));
            return Task.FromResult(new ProbeResult(ProbeVerdict.Ok, "H.264"));
        }
    }
}
