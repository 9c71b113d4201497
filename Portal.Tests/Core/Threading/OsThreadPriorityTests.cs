using Microsoft.Extensions.Logging.Abstractions;
using Portal.Core.Threading;
using Xunit;

namespace Portal.Tests.Core.Threading;

/// <summary>The alarm path's thread priority, read back from the system (a nice value is per thread on Linux).</summary>
// One collection with the other tests that set OsThreadPriority's process-wide levels: never side by side.
[Collection("Thread priorities")]
public sealed class OsThreadPriorityTests
{
    [Fact]
    public void NiceValue_SetOnOneThread_IsThatThreadsAlone()
    {
        int? mine = OsThreadPriority.CurrentThreadNice();
        int? other = null;
        var set = false;

        // Raising the nice value (lowering the priority) needs no privilege, so this holds for any user.
        OnNewThread(() =>
        {
            set = OsThreadPriority.TrySetCurrentThreadNice(7, out _);
            other = OsThreadPriority.CurrentThreadNice();
        });

        Assert.True(set);
        Assert.Equal(7, other);
        Assert.Equal(mine, OsThreadPriority.CurrentThreadNice());
    }

    [Fact]
    public void AlarmPath_Zero_LeavesTheThreadAlone()
    {
        var saved = OsThreadPriority.AlarmPathNice;
        try
        {
            OsThreadPriority.AlarmPathNice = 0;
            int? before = null, after = null;
            var applied = true;
            OnNewThread(() =>
            {
                before = OsThreadPriority.CurrentThreadNice();
                applied = OsThreadPriority.ApplyAlarmPath(NullLogger.Instance);
                after = OsThreadPriority.CurrentThreadNice();
            });

            Assert.False(applied);
            Assert.Equal(before, after);
        }
        finally
        {
            OsThreadPriority.AlarmPathNice = saved;
        }
    }

    [Fact]
    public void AlarmPathRealtime_RoundRobin_OrTheNiceValueWhenRefused_OnThatThreadAlone()
    {
        // Raising the nice value needs no privilege: when real-time is refused, the fallback takes for any user.
        WithAlarmPathLevels(realtime: 1, nice: 3, () =>
        {
            var applied = false;
            (int Policy, int Priority)? scheduler = null;
            int? nice = null;
            OnNewThread(() =>
            {
                applied = OsThreadPriority.ApplyAlarmPathRealtime(NullLogger.Instance);
                scheduler = OsThreadPriority.CurrentThreadScheduler();
                nice = OsThreadPriority.CurrentThreadNice();
            });

            if (!OperatingSystem.IsLinux())
            {
                Assert.False(applied);
                return;
            }

            Assert.True(applied);
            if (scheduler != (OsThreadPriority.SchedRoundRobin, 1))
            {
                // Refused (no CAP_SYS_NICE, no RLIMIT_RTPRIO): the normal policy, at the alarm path's nice value.
                Assert.Equal((OsThreadPriority.SchedOther, 0), scheduler);
                Assert.Equal(3, nice);
            }

            // The thread that started it is untouched.
            Assert.Equal((OsThreadPriority.SchedOther, 0), OsThreadPriority.CurrentThreadScheduler());
        });
    }

    [Fact]
    public void AlarmPathRealtime_Zero_KeepsTheNormalPolicy()
    {
        WithAlarmPathLevels(realtime: 0, nice: 0, () =>
        {
            var applied = true;
            (int Policy, int Priority)? scheduler = null;
            OnNewThread(() =>
            {
                applied = OsThreadPriority.ApplyAlarmPathRealtime(NullLogger.Instance);
                scheduler = OsThreadPriority.CurrentThreadScheduler();
            });

            Assert.False(applied);
            if (OperatingSystem.IsLinux())
            {
                Assert.Equal((OsThreadPriority.SchedOther, 0), scheduler);
            }
        });
    }

    // A priority set on a thread stays with it: each case runs on a thread of its own, which ends with it.
    private static void OnNewThread(Action body)
    {
        var thread = new Thread(() => body());
        thread.Start();
        thread.Join();
    }

    // The alarm path's process-wide levels for one case, put back after it (the collection keeps other cases out meanwhile).
    private static void WithAlarmPathLevels(int realtime, int nice, Action body)
    {
        var (savedRealtime, savedNice) = (OsThreadPriority.AlarmPathRealtimePriority, OsThreadPriority.AlarmPathNice);
        try
        {
            (OsThreadPriority.AlarmPathRealtimePriority, OsThreadPriority.AlarmPathNice) = (realtime, nice);
            body();
        }
        finally
        {
            (OsThreadPriority.AlarmPathRealtimePriority, OsThreadPriority.AlarmPathNice) = (savedRealtime, savedNice);
        }
    }
}
