using System.Diagnostics;
using Portal.Core.Diagnostics;
using Xunit;

namespace Portal.Tests.Core.Diagnostics;

public sealed class RequestStampsTests
{
    private static long Ms(double ms) => (long)(ms * Stopwatch.Frequency / 1000);

    [Fact]
    public void ToServerTiming_EveryStampTaken_EachStageInMsAndTheBatchSize()
    {
        var t0 = Ms(1_000);
        var stamps = new RequestStamps
        {
            Arrived = t0,
            Handler = t0 + Ms(1),
            BodyRead = t0 + Ms(1.5),
            Verified = t0 + Ms(2),
            SchoolRead = t0 + Ms(3),
            Queued = t0 + Ms(3.25),
            BatchStarted = t0 + Ms(5),
            Committed = t0 + Ms(9),
            Resumed = t0 + Ms(9.5),
            BatchSize = 7,
        };

        Assert.Equal(
            $"pipeline;dur=1.000, read;dur=0.500, verify;dur=0.500, school;dur=1.000, submit;dur=0.250, queue;dur=1.750, commit;dur=4.000, resume;dur=0.500, answer;dur=2.500, total;dur=12.000, batch;desc=7, arrived;desc={t0}",
            stamps.ToServerTiming(t0 + Ms(12)));
    }

    [Fact]
    public void ToServerTiming_RefusedBeforeTheWriter_OnlyTheStagesItPassed()
    {
        var t0 = Ms(1_000);
        var stamps = new RequestStamps { Arrived = t0, Handler = t0 + Ms(1), BodyRead = t0 + Ms(2), Verified = t0 + Ms(4) };

        Assert.Equal($"pipeline;dur=1.000, read;dur=1.000, verify;dur=2.000, total;dur=5.000, batch;desc=0, arrived;desc={t0}", stamps.ToServerTiming(t0 + Ms(5)));
    }

    [Fact]
    public void ToServerTiming_WithTheWritersSchedulerFigures_SplitsTheSync()
    {
        var t0 = Ms(1_000);
        var stamps = new RequestStamps
        {
            Arrived = t0,
            Written = t0 + Ms(1),
            Committed = t0 + Ms(5),
            SyncSched = (0.75, 2.5),
        };

        Assert.Equal(
            $"sync;dur=4.000, sync-cpu;dur=0.750, sync-runq;dur=2.500, total;dur=6.000, batch;desc=0, arrived;desc={t0}",
            stamps.ToServerTiming(t0 + Ms(6)));
    }

    [Fact]
    public void ToServerTiming_GarbageCollectionsMeanwhile_CountAndPauseBeforeTheRawClock()
    {
        var t0 = Ms(1_000);
        var stamps = new RequestStamps { Arrived = t0, BatchSize = 1, GcCount = 2, GcPauseMs = 5.25 };

        Assert.Equal($"total;dur=8.000, batch;desc=1, gc;desc=2, gc-pause;dur=5.250, arrived;desc={t0}", stamps.ToServerTiming(t0 + Ms(8)));
    }

    [Fact]
    public void ToServerTiming_GcPauseClock_BothReadingsWithTheAnswersRawClock()
    {
        var t0 = Ms(1_000);
        var stamps = new RequestStamps { Arrived = t0, GcPauseClock = (120.5, 126.25) };

        Assert.Equal(
            $"total;dur=3.000, batch;desc=0, arrived;desc={t0}, gc-clock-in;desc=120.500, gc-clock-out;desc=126.250, answered;desc={t0 + Ms(3)}",
            stamps.ToServerTiming(t0 + Ms(3)));
    }
}
