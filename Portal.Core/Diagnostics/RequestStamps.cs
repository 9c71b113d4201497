using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Portal.Core.Diagnostics;

/// <summary>
/// Where one device alarm request's time went inside the portal (issue 15: the device answer under console load):
/// <see cref="Stopwatch"/> timestamps taken along the path, from the first middleware to the answer, including the
/// alarm writer's (queued, batch taken up, committed). Off unless <c>Portal:DeviceServerTiming</c> is set (the
/// alarm benchmark sets it): the door then answers with a <c>Server-Timing</c> header built by
/// <see cref="ToServerTiming"/>. Off, <see cref="Current"/> is null and every stamp is a null check.
/// </summary>
public sealed class RequestStamps
{
    /// <summary>The request being timed in this async flow (the writer thread gets it through its queue item).</summary>
    public static readonly AsyncLocal<RequestStamps?> CurrentFlow = new();

    public static RequestStamps? Current => CurrentFlow.Value;

    public long Arrived { get; set; }
    public long Handler { get; set; }
    public long BodyRead { get; set; }
    public long Verified { get; set; }
    public long SchoolRead { get; set; }
    public long Queued { get; set; }
    public long BatchStarted { get; set; }
    public long Locked { get; set; }
    public long Written { get; set; }
    public long Committed { get; set; }
    public long Resumed { get; set; }
    public int BatchSize { get; set; }

    /// <summary>
    /// Garbage collections that paused the process while this request was in the portal: how many began (a gen0 count, which
    /// every collection raises) and the process's pause time over the request (<see cref="GC.GetTotalPauseDuration"/>, so a
    /// collection that began just before the request counts whole). Set by the middleware at the answer; 0 when none ran.
    /// </summary>
    public int GcCount { get; set; }

    /// <inheritdoc cref="GcCount"/>
    public double GcPauseMs { get; set; }

    /// <summary>
    /// The process's whole garbage-collection pause so far (<see cref="GC.GetTotalPauseDuration"/>, ms), read at the first
    /// middleware and at the answer. With the raw clock at both, a client on this machine that gathers them from many
    /// requests can tell whether a collection paused the portal while one request was still on its way in (Kestrel, before
    /// the first middleware) or on its way out: the pause time grown between the nearest readings around that stretch.
    /// </summary>
    public (double AtArrivalMs, double AtAnswerMs)? GcPauseClock { get; set; }

    /// <summary>The writer thread's scheduler figures over the commit (<see cref="ThreadSchedStat"/>): on a core, waiting for one.</summary>
    public (double CpuMs, double RunQueueMs)? SyncSched { get; set; }

    public static long Now() => Stopwatch.GetTimestamp();

    /// <summary>
    /// The stages as a Server-Timing header value, each in ms: pipeline (first middleware to the handler), read (the
    /// body), verify (signature, device row, key), school, submit (school read to queued), queue (waiting for the
    /// writer), commit (the batch's transaction and its sync; <c>batch</c> says how many it held; split into lock: taking
    /// the database's write lock, write: the statements, sync: the commit and its sync, of which sync-cpu is the writer
    /// thread's time on a core and sync-runq its wait for one, the rest being the wait for the disk), resume (commit to
    /// the request's code running again: the thread pool), answer (to the answer's headers), total; <c>gc</c> and
    /// <c>gc-pause</c> when garbage collections paused the process meanwhile (<see cref="GcCount"/>); <c>arrived</c>,
    /// the first middleware's raw <see cref="Stopwatch"/> timestamp; and, when set, <see cref="GcPauseClock"/> as
    /// <c>gc-clock-in</c> and <c>gc-clock-out</c> with <c>answered</c>, the answer's raw timestamp.
    /// </summary>
    public string ToServerTiming(long answered)
    {
        var s = new StringBuilder(256);
        Add(s, "pipeline", Arrived, Handler);
        Add(s, "read", Handler, BodyRead);
        Add(s, "verify", BodyRead, Verified);
        Add(s, "school", Verified, SchoolRead);
        Add(s, "submit", SchoolRead, Queued);
        Add(s, "queue", Queued, BatchStarted);
        Add(s, "commit", BatchStarted, Committed);
        Add(s, "lock", BatchStarted, Locked);
        Add(s, "write", Locked, Written);
        Add(s, "sync", Written, Committed);
        if (SyncSched is { } sched)
        {
            s.Append(CultureInfo.InvariantCulture, $"sync-cpu;dur={sched.CpuMs:0.000}, sync-runq;dur={sched.RunQueueMs:0.000}, ");
        }

        Add(s, "resume", Committed, Resumed);
        Add(s, "answer", Resumed, answered);
        Add(s, "total", Arrived, answered);
        s.Append(CultureInfo.InvariantCulture, $"batch;desc={BatchSize}");
        if (GcCount > 0)
        {
            s.Append(CultureInfo.InvariantCulture, $", gc;desc={GcCount}, gc-pause;dur={GcPauseMs:0.000}");
        }

        if (Arrived != 0)
        {
            // The raw clock (Stopwatch ticks: on Linux the system's monotonic clock, the same in every process) at the
            // first middleware, so that a client on this machine can split what lies outside the portal's pipeline
            // into the way in (its send to here) and the way out.
            s.Append(CultureInfo.InvariantCulture, $", arrived;desc={Arrived}");
            if (GcPauseClock is { } clock)
            {
                s.Append(CultureInfo.InvariantCulture, $", gc-clock-in;desc={clock.AtArrivalMs:0.000}, gc-clock-out;desc={clock.AtAnswerMs:0.000}, answered;desc={answered}");
            }
        }

        return s.ToString();
    }

    private static void Add(StringBuilder s, string name, long from, long to)
    {
        if (from != 0 && to != 0)
        {
            s.Append(CultureInfo.InvariantCulture, $"{name};dur={Stopwatch.GetElapsedTime(from, to).TotalMilliseconds:0.000}, ");
        }
    }
}
