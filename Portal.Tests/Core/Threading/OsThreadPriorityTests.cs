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
        var thread = new Thread(() =>
        {
            set = OsThreadPriority.TrySetCurrentThreadNice(7, out _);
            other = OsThreadPriority.CurrentThreadNice();
        });
        thread.Start();
        thread.Join();

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
            var thread = new Thread(() =>
            {
                before = OsThreadPriority.CurrentThreadNice();
                applied = OsThreadPriority.ApplyAlarmPath(NullLogger.Instance);
                after = OsThreadPriority.CurrentThreadNice();
            });
            thread.Start();
            thread.Join();

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
        var (savedPriority, savedNice) = (OsThreadPriority.AlarmPathRealtimePriority, OsThreadPriority.AlarmPathNice);
        try
        {
            // Raising the nice value needs no privilege: when real-time is refused, the fallback takes for any user.
            OsThreadPriority.AlarmPathRealtimePriority = 1;
            OsThreadPriority.AlarmPathNice = 3;
            var applied = false;
            (int Policy, int Priority)? scheduler = null;
            int? nice = null;
            var thread = new Thread(() =>
            {
                applied = OsThreadPriority.ApplyAlarmPathRealtime(NullLogger.Instance);
                scheduler = OsThreadPriority.CurrentThreadScheduler();
                nice = OsThreadPriority.CurrentThreadNice();
            });
            thread.Start();
            thread.Join();

            if (!OperatingSystem.IsLinux())
            {
                Assert.False(applied);
                return;
            }

            Assert.True(applied);
            if (scheduler != (2, 1))
            {
                // Refused (no CAP_SYS_NICE, no RLIMIT_RTPRIO): the normal policy, at the alarm path's nice value.
                Assert.Equal((0, 0), scheduler);
                Assert.Equal(3, nice);
            }

            // The thread that started it is untouched.
            Assert.Equal((0, 0), OsThreadPriority.CurrentThreadScheduler());
        }
        finally
        {
            (OsThreadPriority.AlarmPathRealtimePriority, OsThreadPriority.AlarmPathNice) = (savedPriority, savedNice);
        }
    }

    [Fact]
    public void AlarmPathRealtime_Zero_KeepsTheNormalPolicy()
    {
        var (savedPriority, savedNice) = (OsThreadPriority.AlarmPathRealtimePriority, OsThreadPriority.AlarmPathNice);
        try
        {
            OsThreadPriority.AlarmPathRealtimePriority = 0;
            OsThreadPriority.AlarmPathNice = 0;
            var applied = true;
            (int Policy, int Priority)? scheduler = null;
            var thread = new Thread(() =>
            {
                applied = OsThreadPriority.ApplyAlarmPathRealtime(NullLogger.Instance);
                scheduler = OsThreadPriority.CurrentThreadScheduler();
            });
            thread.Start();
            thread.Join();

            Assert.False(applied);
            if (OperatingSystem.IsLinux())
            {
                Assert.Equal((0, 0), scheduler);
            }
        }
        finally
        {
            (OsThreadPriority.AlarmPathRealtimePriority, OsThreadPriority.AlarmPathNice) = (savedPriority, savedNice);
        }
    }
}
