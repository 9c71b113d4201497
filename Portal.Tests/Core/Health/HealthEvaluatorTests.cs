using Portal.Core.Devices;
using Portal.Core.Health;
using Xunit;

namespace Portal.Tests.Core.Health;

/// <summary>The health rules, every transition and the flap suppression, on a clock the test moves.</summary>
public sealed class HealthEvaluatorTests
{
    private static readonly DateTime T0 = new(2026, 12, 2, 8, 0, 0, DateTimeKind.Utc);

    private static readonly HealthOptions Options = new() { MissedIntervalsForOffline = 3, NotifyAfterSeconds = 120, FlapTransitions = 4, FlapWindowMinutes = 30 };

    private static readonly Observation Missed = new(ObservationKind.Missed, "RTSP Unreachable: refused");

    private static DeviceHealthRecord Online => new() { State = DeviceHealthState.Online, StateSinceUtc = T0, NotifiedState = DeviceHealthState.Online };

    [Fact]
    public void Observe_TwoMisses_StaysOnlineAndCountsThem()
    {
        var first = HealthEvaluator.Observe(Online, Missed, T0.AddMinutes(1), Options);
        var second = HealthEvaluator.Observe(first.Record, Missed, T0.AddMinutes(2), Options);

        Assert.Equal(DeviceHealthState.Online, second.Record.State);
        Assert.Equal(2, second.Record.Misses);
        Assert.True(second.Write);
        Assert.Null(second.From);
    }

    [Fact]
    public void Observe_ThirdMiss_GoesOfflineWithTransition()
    {
        var record = Online;
        HealthStep step = null!;
        for (var i = 1; i <= 3; i++)
        {
            step = HealthEvaluator.Observe(record, Missed, T0.AddMinutes(i), Options);
            record = step.Record;
        }

        Assert.Equal(DeviceHealthState.Offline, record.State);
        Assert.Equal(DeviceHealthState.Online, step.From);
        Assert.Equal(T0.AddMinutes(3), record.StateSinceUtc);
        Assert.Equal(Missed.Detail, record.Detail);
    }

    [Fact]
    public void Observe_MissWhileOffline_WritesNothing()
    {
        var offline = Online with { State = DeviceHealthState.Offline, Misses = 3 };

        var step = HealthEvaluator.Observe(offline, Missed, T0.AddMinutes(5), Options);

        Assert.False(step.Write);
        Assert.Same(offline, step.Record);
    }

    [Fact]
    public void Observe_OkWhileOnline_WritesNothing()
    {
        var step = HealthEvaluator.Observe(Online, Observation.Ok(), T0.AddMinutes(1), Options);

        Assert.False(step.Write);
    }

    [Fact]
    public void Observe_OkAfterMisses_ResetsCount()
    {
        var missed = Online with { Misses = 2 };

        var step = HealthEvaluator.Observe(missed, Observation.Ok(), T0.AddMinutes(3), Options);

        Assert.True(step.Write);
        Assert.Equal(0, step.Record.Misses);
        Assert.Equal(DeviceHealthState.Online, step.Record.State);
    }

    [Fact]
    public void Observe_OkWhileOffline_BackOnlineAtOnce()
    {
        var offline = Online with { State = DeviceHealthState.Offline, Misses = 3 };

        var step = HealthEvaluator.Observe(offline, Observation.Ok(), T0.AddMinutes(9), Options);

        Assert.Equal(DeviceHealthState.Online, step.Record.State);
        Assert.Equal(DeviceHealthState.Offline, step.From);
        Assert.Equal(T0.AddMinutes(9), step.Record.LastOkUtc);
    }

    [Fact]
    public void Observe_DegradedWhileOnline_DegradedAtOnce()
    {
        var step = HealthEvaluator.Observe(Online, new Observation(ObservationKind.Degraded, "ONVIF: refused"), T0.AddMinutes(1), Options);

        Assert.Equal(DeviceHealthState.Degraded, step.Record.State);
        Assert.Equal(DeviceHealthState.Online, step.From);
        Assert.Equal("ONVIF: refused", step.Record.Detail);
    }

    [Fact]
    public void Observe_DegradedDeviceMissesThreeTimes_GoesOffline()
    {
        var record = Online with { State = DeviceHealthState.Degraded };
        for (var i = 1; i <= 3; i++)
        {
            record = HealthEvaluator.Observe(record, Missed, T0.AddMinutes(i), Options).Record;
        }

        Assert.Equal(DeviceHealthState.Offline, record.State);
    }

    [Fact]
    public void Observe_NeverSeenDeviceMisses_StaysUnknown()
    {
        var unknown = new DeviceHealthRecord();
        var record = unknown;
        for (var i = 1; i <= 5; i++)
        {
            record = HealthEvaluator.Observe(record, Missed, T0.AddMinutes(i), Options).Record;
        }

        Assert.Equal(DeviceHealthState.Unknown, record.State);
        Assert.Equal(0, record.Misses);
    }

    [Fact]
    public void Observe_NeverSeenDeviceAnswers_GoesOnline()
    {
        var step = HealthEvaluator.Observe(new DeviceHealthRecord(), Observation.Ok(), T0, Options);

        Assert.Equal(DeviceHealthState.Online, step.Record.State);
        Assert.Equal(DeviceHealthState.Unknown, step.From);
    }

    [Fact]
    public void Observe_SilentPastWindow_OfflineAtOnce()
    {
        var step = HealthEvaluator.Observe(Online, new Observation(ObservationKind.Silent, "no signal"), T0.AddMinutes(3), Options);

        Assert.Equal(DeviceHealthState.Offline, step.Record.State);
        Assert.Equal(3, step.Record.Misses);
    }

    [Fact]
    public void Decide_NewStateNotHeldLongEnough_TellsNobody()
    {
        var offline = Online with { State = DeviceHealthState.Offline, StateSinceUtc = T0 };

        var step = HealthEvaluator.Decide(offline, 1, T0.AddSeconds(119), Options);

        Assert.Null(step.Notice);
        Assert.Equal(DeviceHealthState.Online, step.Record.NotifiedState);
    }

    [Fact]
    public void Decide_OfflineHeld_TellsOfflineOnce()
    {
        var offline = Online with { State = DeviceHealthState.Offline, StateSinceUtc = T0 };

        var step = HealthEvaluator.Decide(offline, 1, T0.AddSeconds(120), Options);
        var again = HealthEvaluator.Decide(step.Record, 1, T0.AddSeconds(180), Options);

        Assert.Equal(HealthNotice.Offline, step.Notice);
        Assert.Equal(DeviceHealthState.Offline, step.Record.NotifiedState);
        Assert.Null(again.Notice);
    }

    [Fact]
    public void Decide_BackOnlineHeld_TellsBackOnline()
    {
        var back = new DeviceHealthRecord { State = DeviceHealthState.Online, StateSinceUtc = T0, NotifiedState = DeviceHealthState.Offline };

        var step = HealthEvaluator.Decide(back, 2, T0.AddMinutes(3), Options);

        Assert.Equal(HealthNotice.BackOnline, step.Notice);
    }

    [Fact]
    public void Decide_OfflineThenBackBeforeHold_TellsNothingAtAll()
    {
        // Offline for a minute, then online again: by the time either state has held, it is the state people last heard.
        var back = new DeviceHealthRecord { State = DeviceHealthState.Online, StateSinceUtc = T0.AddMinutes(1), NotifiedState = DeviceHealthState.Online };

        var step = HealthEvaluator.Decide(back, 2, T0.AddMinutes(4), Options);

        Assert.Null(step.Notice);
    }

    [Fact]
    public void Decide_FirstContact_TellsNobody()
    {
        var first = new DeviceHealthRecord { State = DeviceHealthState.Online, StateSinceUtc = T0 };

        var step = HealthEvaluator.Decide(first, 1, T0.AddMinutes(5), Options);

        Assert.Null(step.Notice);
        Assert.Equal(DeviceHealthState.Online, step.Record.NotifiedState);
    }

    [Fact]
    public void Decide_DegradedHeld_TellsDegraded()
    {
        var degraded = Online with { State = DeviceHealthState.Degraded, StateSinceUtc = T0 };

        Assert.Equal(HealthNotice.Degraded, HealthEvaluator.Decide(degraded, 1, T0.AddMinutes(2), Options).Notice);
    }

    [Fact]
    public void Decide_ManyTransitions_ReportsFlappingOnceThenSilence()
    {
        var flapping = Online with { State = DeviceHealthState.Offline, StateSinceUtc = T0 };

        var first = HealthEvaluator.Decide(flapping, 4, T0.AddSeconds(10), Options);
        var back = HealthEvaluator.Observe(first.Record, Observation.Ok(), T0.AddMinutes(1), Options).Record;
        var second = HealthEvaluator.Decide(back, 5, T0.AddMinutes(4), Options);

        Assert.Equal(HealthNotice.Flapping, first.Notice);
        Assert.True(first.Record.IsFlapping);
        Assert.Equal(T0.AddSeconds(10), first.Record.FlappingSinceUtc);
        Assert.Null(second.Notice);
        Assert.True(second.Record.IsFlapping);
    }

    [Fact]
    public void Decide_FlappingSettles_TellsWhereItSettledAndClears()
    {
        var settled = new DeviceHealthRecord
        {
            State = DeviceHealthState.Offline,
            StateSinceUtc = T0,
            NotifiedState = DeviceHealthState.Online,
            IsFlapping = true,
            FlappingSinceUtc = T0.AddMinutes(-20),
        };

        var step = HealthEvaluator.Decide(settled, 3, T0.AddMinutes(5), Options);

        Assert.Equal(HealthNotice.Offline, step.Notice);
        Assert.False(step.Record.IsFlapping);
        Assert.Equal(DeviceHealthState.Offline, step.Record.NotifiedState);
    }

    [Fact]
    public void Decide_FlappingSettlesWhereLastTold_ClearsQuietly()
    {
        var settled = Online with { IsFlapping = true, FlappingSinceUtc = T0.AddMinutes(-20) };

        var step = HealthEvaluator.Decide(settled, 1, T0.AddMinutes(5), Options);

        Assert.Null(step.Notice);
        Assert.False(step.Record.IsFlapping);
    }

    [Fact]
    public void Offset_SameDevice_SameOffsetWithinSpread()
    {
        var spread = TimeSpan.FromSeconds(20);
        var offsets = Enumerable.Range(1, 1000).Select(id => HealthMonitor.Offset(id, spread)).ToList();

        Assert.All(offsets, o => Assert.InRange(o, TimeSpan.Zero, spread));
        Assert.Equal(HealthMonitor.Offset(42, spread), HealthMonitor.Offset(42, spread));

        // Neighbouring ids spread over the window: each quarter holds a fair share.
        for (var q = 0; q < 4; q++)
        {
            Assert.InRange(offsets.Count(o => o >= spread * q / 4 && o < spread * (q + 1) / 4), 200, 300);
        }
    }

    [Theory]
    [InlineData(60, "* * * * *", 1)]
    [InlineData(15, "* * * * *", 4)]
    [InlineData(120, "*/2 * * * *", 1)]
    [InlineData(7, "* * * * *", 1)]
    public void Options_Interval_CronAndCyclesPerRun(int seconds, string cron, int cycles)
    {
        var options = new HealthOptions { CheckIntervalSeconds = seconds };

        Assert.Equal(cron, options.Cron);
        Assert.Equal(cycles, options.CyclesPerRun);
    }
}
