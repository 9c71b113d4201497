using Portal.Core.Diagnostics;
using Xunit;

namespace Portal.Tests.Core.Diagnostics;

/// <summary>The writer's scheduler figures over its commit (<c>sync-cpu</c>, <c>sync-runq</c> in Server-Timing).</summary>
public sealed class ThreadSchedStatTests
{
    [Fact]
    public void Parse_TheKernelsLine_CpuAndRunQueueInNs()
    {
        Assert.Equal((123_456_789L, 42L), ThreadSchedStat.Parse("123456789 42 17\n"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("\n")]
    [InlineData("123456789")]
    [InlineData("abc 42 17")]
    [InlineData("-5 42 17")]
    [InlineData("1 0x2A 17")]
    [InlineData("99999999999999999999999 42 17")]
    [InlineData("123 +42 17")]
    [InlineData("123\u00a0 42 17")]
    public void Parse_NotTheKernelsLine_Null(string text)
    {
        Assert.Null(ThreadSchedStat.Parse(text));
    }

    [Fact]
    public void Read_AfterTheThreadSpins_ItsCpuTimeHasGrown()
    {
        var before = ThreadSchedStat.Read();
        if (!OperatingSystem.IsLinux())
        {
            Assert.Null(before);
            return;
        }

        Assert.NotNull(before);
        var spin = System.Diagnostics.Stopwatch.StartNew();
        var x = 0UL;
        while (spin.ElapsedMilliseconds < 30)
        {
            x = (x * 6364136223846793005UL) + 1442695040888963407UL;
        }

        GC.KeepAlive(x);
        var after = ThreadSchedStat.Read();
        Assert.NotNull(after);

        // 30 ms of wall time spinning: some of it on a core, however busy the machine (the thread's CPU clock is read up to
        // date); the run-queue time never goes back.
        Assert.True(after.Value.CpuNs > before.Value.CpuNs, $"cpu {before.Value.CpuNs} ns, then {after.Value.CpuNs} ns");
        Assert.True(after.Value.RunQueueNs >= before.Value.RunQueueNs);
    }

    [Fact]
    public void Read_AgainOnTheSameThread_AllocatesNothing()
    {
        if (!OperatingSystem.IsLinux())
        {
            Assert.Null(ThreadSchedStat.Read());
            return;
        }

        Assert.NotNull(ThreadSchedStat.Read()); // opens this thread's file
        var read = 0;
        var allocated = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 100; i++)
        {
            read += ThreadSchedStat.Read() is null ? 0 : 1;
        }

        var spent = GC.GetAllocatedBytesForCurrentThread() - allocated;

        // Read twice per timed commit: an allocation here is one per press, and the garbage collections it brings pause them.
        Assert.Equal(100, read);
        Assert.Equal(0, spent);
    }
}
