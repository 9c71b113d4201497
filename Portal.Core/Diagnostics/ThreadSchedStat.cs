using System.Globalization;
using System.Runtime.InteropServices;

namespace Portal.Core.Diagnostics;

/// <summary>
/// The calling thread's scheduler statistics on Linux: time on a core (<c>CLOCK_THREAD_CPUTIME_ID</c>) and time runnable
/// but waiting for one (<c>/proc/thread-self/schedstat</c>), in ns. Two readings around a step split its wall time into
/// running, waiting for a core, and blocked (the rest: I/O, locks). Diagnostics only (<see cref="RequestStamps"/>); null
/// off Linux or when the kernel does not keep them.
/// </summary>
/// <remarks>
/// The file's own first figure, the time on a core, is brought up to date only at the scheduler's events (a tick, a
/// switch): read on a running thread it can lag by a tick, and a step's difference came out longer than the step
/// itself. The thread's CPU clock is read up to date. The run-queue time is added when a wait ends, and a thread
/// reading it is running, so every wait before the reading is in it.
/// </remarks>
public static class ThreadSchedStat
{
    private const string Path = "/proc/thread-self/schedstat";

    /// <summary>(ns on a core, ns waiting in the run queue) so far, or null.</summary>
    public static (long CpuNs, long RunQueueNs)? Read()
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        try
        {
            return Parse(File.ReadAllText(Path)) is { } stat && ThreadCpuNs() is { } cpu ? (cpu, stat.RunQueueNs) : null;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Parses the file's one line, "cpu-ns runqueue-ns timeslices"; null when it is not that.</summary>
    public static (long CpuNs, long RunQueueNs)? Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var parts = text.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return parts.Length >= 2
            && long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var cpu)
            && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var runq)
            ? (cpu, runq)
            : null;
    }

    /// <summary>The calling thread's CPU time in ns, up to date, or null.</summary>
    public static long? ThreadCpuNs()
    {
        if (!OperatingSystem.IsLinux() || ClockGetTime(ClockThreadCpuTimeId, out var time) != 0)
        {
            return null;
        }

        return (time.Seconds * 1_000_000_000) + time.Nanoseconds;
    }

    private const int ClockThreadCpuTimeId = 3;

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [DllImport("libc", EntryPoint = "clock_gettime")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int ClockGetTime(int clock, out TimeSpec time);
}
