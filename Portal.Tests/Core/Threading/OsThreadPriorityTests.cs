using Microsoft.Extensions.Logging.Abstractions;
using Portal.Core.Threading;
using Xunit;

namespace Portal.Tests.Core.Threading;

/// <summary>The alarm path's thread priority, read back from the system (a nice value is per thread on Linux).</summary>
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
}
