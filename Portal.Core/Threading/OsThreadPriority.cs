using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;

namespace Portal.Core.Threading;

/// <summary>
/// The operating system's priority for the few threads an alarm waits on: the intake's writer and answer threads and
/// the SIP receive thread. On a busy server (consoles drawing, health probes, an import) a thread woken for an alarm
/// otherwise queues for a core behind every runnable thread of the same priority; a lower nice value lets it run
/// first, as telephony servers do for their signalling and media threads (Asterisk's <c>-p</c>, FreeSWITCH's
/// <c>-rp</c>). Linux only. Going below nice 0 needs <c>CAP_SYS_NICE</c> or an <c>RLIMIT_NICE</c> that allows it
/// (systemd: <c>AmbientCapabilities=CAP_SYS_NICE</c> or <c>LimitNICE=</c>); without either the threads keep the normal
/// priority and the log says so once.
/// </summary>
public static class OsThreadPriority
{
    private const int PrioProcess = 0;

    private static int _refusalLogged;

    /// <summary>The nice value for the alarm path's threads (-20 to 19; 0 leaves them alone). Set once at start-up (<c>Portal:AlarmPathNice</c>).</summary>
    public static int AlarmPathNice { get; set; }

    /// <summary>
    /// The nice value for the threads the consoles draw on (the notifier's delivery, <c>ConsoleDrawThread</c>): above 0
    /// they give way to every request thread, so a device's answer never waits behind a board's redraw. Raising a
    /// thread's nice value needs no privilege. Set once at start-up (<c>Portal:ConsoleNice</c>).
    /// </summary>
    public static int ConsoleNice { get; set; }

    /// <summary>Gives the calling thread <see cref="ConsoleNice"/> (a no-op at 0 or off Linux); true when it took.</summary>
    public static bool ApplyConsole(ILogger logger) => ApplyNice(logger, ConsoleNice);

    /// <summary>Gives the calling thread <paramref name="nice"/> (a no-op at 0 or off Linux); true when it took.</summary>
    public static bool ApplyNice(ILogger logger, int nice) =>
        Apply(logger, nice, static (logger, nice, errno) => logger.LogInformation(
            "Thread {Thread} keeps the normal priority: the system refused nice {Nice} (errno {Errno})", Thread.CurrentThread.Name, nice, errno));

    /// <summary>
    /// The real-time priority (<c>SCHED_RR</c>, 1-99; 0 turns it off) of the two threads every device alarm waits on: the
    /// intake's writer, whose commit is the device's answer, and the thread that hands the answers out. A nice value only
    /// weighs a thread against others of its scheduler group, and a group's weight is split between the cores it runs
    /// on: on a busy server the writer at nice -5, woken when its sync ended, still waited up to 8-16 ms for a core
    /// (Server-Timing's <c>sync-runq</c>). A real-time thread runs before every normal one. Both threads block between
    /// alarms and do a bounded work per batch, and the kernel keeps 5% of each second for normal threads whatever
    /// happens. Set once at start-up (<c>Portal:AlarmPathRealtimePriority</c>); needs <c>CAP_SYS_NICE</c> or an
    /// <c>RLIMIT_RTPRIO</c> that allows it (systemd: <c>LimitRTPRIO=1</c>), and without either the threads take
    /// <see cref="AlarmPathNice"/> instead and the log says so once. Not for the SIP receive thread: it parses whatever
    /// arrives, and a flood of it at real-time priority would hold a core.
    /// </summary>
    public static int AlarmPathRealtimePriority { get; set; }

    private static int _realtimeRefusalLogged;

    /// <summary>The normal policy, as <see cref="CurrentThreadScheduler"/> reports it.</summary>
    public const int SchedOther = 0;

    /// <summary>The real-time round-robin policy, as <see cref="CurrentThreadScheduler"/> reports it.</summary>
    public const int SchedRoundRobin = 2;

    /// <summary>
    /// Gives the calling thread <see cref="AlarmPathRealtimePriority"/> under <c>SCHED_RR</c>, or, when that is off or
    /// refused (one log line per process), <see cref="AlarmPathNice"/>. True when either took.
    /// </summary>
    public static bool ApplyAlarmPathRealtime(ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(logger);
        var priority = AlarmPathRealtimePriority;
        if (priority > 0 && OperatingSystem.IsLinux())
        {
            if (TrySetCurrentThreadRealtime(priority, out var errno))
            {
                logger.LogDebug("Thread {Thread} runs at real-time priority {Priority} (SCHED_RR)", Thread.CurrentThread.Name, priority);
                return true;
            }

            if (Interlocked.Exchange(ref _realtimeRefusalLogged, 1) == 0)
            {
                logger.LogInformation(
                    "The alarm writer and answer threads run without real-time priority: the system refused SCHED_RR {Priority} (errno {Errno}); grant CAP_SYS_NICE or LimitRTPRIO to allow it, or set Portal:AlarmPathRealtimePriority=0; they take nice {Nice} instead",
                    priority, errno, AlarmPathNice);
            }
        }

        return ApplyAlarmPath(logger);
    }

    /// <summary>Puts the calling thread under <c>SCHED_RR</c> at <paramref name="priority"/> (1-99); <paramref name="errno"/> tells why not.</summary>
    public static bool TrySetCurrentThreadRealtime(int priority, out int errno)
    {
        errno = 0;
        if (!OperatingSystem.IsLinux())
        {
            return false;
        }

        var param = Math.Clamp(priority, 1, 99);
        if (SetScheduler(GetThreadId(), SchedRoundRobin, ref param) == 0)
        {
            return true;
        }

        errno = Marshal.GetLastPInvokeError();
        return false;
    }

    /// <summary>Puts the calling thread back under the normal policy (<c>SCHED_OTHER</c>).</summary>
    public static bool TrySetCurrentThreadNormal()
    {
        var param = 0;
        return OperatingSystem.IsLinux() && SetScheduler(GetThreadId(), SchedOther, ref param) == 0;
    }

    /// <summary>The calling thread's id in the system (its <c>gettid</c>), or 0 off Linux.</summary>
    public static int CurrentThreadId() => OperatingSystem.IsLinux() ? GetThreadId() : 0;

    /// <summary>The calling thread's policy and real-time priority as the system reports them (0 and 0: normal), or null off Linux.</summary>
    public static (int Policy, int Priority)? CurrentThreadScheduler()
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        var tid = GetThreadId();
        var policy = GetScheduler(tid);
        var param = 0;
        return policy < 0 || GetParam(tid, ref param) != 0 ? null : (policy, param);
    }

    /// <summary>Gives the calling thread <see cref="AlarmPathNice"/>; false (and one log line per process) when the system refuses.</summary>
    public static bool ApplyAlarmPath(ILogger logger) =>
        Apply(logger, AlarmPathNice, static (logger, nice, errno) =>
        {
            if (Interlocked.Exchange(ref _refusalLogged, 1) == 0)
            {
                logger.LogInformation(
                    "The alarm path's threads keep the normal priority: the system refused nice {Nice} (errno {Errno}); grant CAP_SYS_NICE or LimitNICE to raise them, or set Portal:AlarmPathNice=0",
                    nice, errno);
            }
        });

    private static bool Apply(ILogger logger, int nice, Action<ILogger, int, int> refused)
    {
        ArgumentNullException.ThrowIfNull(logger);
        if (nice == 0 || !OperatingSystem.IsLinux())
        {
            return false;
        }

        if (TrySetCurrentThreadNice(nice, out var errno))
        {
            logger.LogDebug("Thread {Thread} runs at nice {Nice}", Thread.CurrentThread.Name, nice);
            return true;
        }

        refused(logger, nice, errno);
        return false;
    }

    /// <summary>Sets the calling thread's nice value (Linux keeps one per thread); <paramref name="errno"/> tells why not.</summary>
    public static bool TrySetCurrentThreadNice(int nice, out int errno)
    {
        errno = 0;
        if (!OperatingSystem.IsLinux())
        {
            return false;
        }

        if (SetPriority(PrioProcess, (uint)GetThreadId(), Math.Clamp(nice, -20, 19)) == 0)
        {
            return true;
        }

        errno = Marshal.GetLastPInvokeError();
        return false;
    }

    /// <summary>The calling thread's nice value as the system reports it (tests), or null off Linux.</summary>
    public static int? CurrentThreadNice()
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        Marshal.SetLastPInvokeError(0);
        var value = GetPriority(PrioProcess, (uint)GetThreadId());
        return value == -1 && Marshal.GetLastPInvokeError() != 0 ? null : value;
    }

    [DllImport("libc", EntryPoint = "setpriority", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int SetPriority(int which, uint who, int prio);

    [DllImport("libc", EntryPoint = "getpriority", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int GetPriority(int which, uint who);

    // struct sched_param is one int, the priority.
    [DllImport("libc", EntryPoint = "sched_setscheduler", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int SetScheduler(int pid, int policy, ref int param);

    [DllImport("libc", EntryPoint = "sched_getscheduler", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int GetScheduler(int pid);

    [DllImport("libc", EntryPoint = "sched_getparam", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int GetParam(int pid, ref int param);

    [DllImport("libc", EntryPoint = "gettid")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int GetThreadId();
}
