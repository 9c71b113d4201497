using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

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

    // Each thread's own open file: /proc/thread-self names the thread that opens it, and a file read again from its
    // start gives the figures afresh. Opened once per thread, read without allocating: the alarm writer reads it twice
    // per timed commit, and File.ReadAllText allocated about 6 KB each time (in the alarm benchmark, a twelfth of the
    // portal's allocations, so of its garbage collections, which pause the presses).
    [ThreadStatic]
    private static SafeFileHandle? _file;

    /// <summary>(ns on a core, ns waiting in the run queue) so far, or null.</summary>
    public static (long CpuNs, long RunQueueNs)? Read()
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        try
        {
            _file ??= File.OpenHandle(Path, FileMode.Open, FileAccess.Read);
            Span<byte> line = stackalloc byte[128];
            var length = RandomAccess.Read(_file, line, 0);
            return Parse(line[..length]) is { } stat && ThreadCpuNs() is { } cpu ? (cpu, stat.RunQueueNs) : null;
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
        return Parse(System.Text.Encoding.UTF8.GetBytes(text));
    }

    /// <summary>Parses the file's one line as read (ASCII), "cpu-ns runqueue-ns timeslices"; null when it is not that.</summary>
    public static (long CpuNs, long RunQueueNs)? Parse(ReadOnlySpan<byte> line)
    {
        var rest = line;
        return Number(ref rest) is { } cpu && Number(ref rest) is { } runq ? (cpu, runq) : null;
    }

    // The next space-separated field as a count (decimal digits only), or null.
    private static long? Number(ref ReadOnlySpan<byte> rest)
    {
        rest = rest.TrimStart(" \t\n"u8);
        var end = rest.IndexOfAny(" \t\n"u8);
        var field = end < 0 ? rest : rest[..end];
        rest = rest[field.Length..];
        if (field.IsEmpty || field.Length > 18 || field.ContainsAnyExceptInRange((byte)'0', (byte)'9'))
        {
            return null;
        }

        var value = 0L;
        foreach (var digit in field)
        {
            value = (value * 10) + (digit - '0');
        }

        return value;
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
