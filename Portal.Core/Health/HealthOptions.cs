namespace Portal.Core.Health;

/// <summary>
/// How devices are checked and when people are told (configuration section <c>Portal:Health</c>). The defaults
/// follow GB/T 28181's keep-alive rule (a signal every 60 s, offline after 3 missed) and EN 50136's 3-minute report.
/// </summary>
public sealed record HealthOptions
{
    public const string Section = "Portal:Health";

    /// <summary>False stops the scheduled checks (the job still exists on the dashboard, and does nothing).</summary>
    public bool Enabled { get; init; } = true;

    /// <summary>One check cycle per interval: 60 s, a whole number of minutes, or (tests, demos) a divisor of 60 s.</summary>
    public int CheckIntervalSeconds { get; init; } = 60;

    /// <summary>
    /// Consecutive failed checks after which a device is offline (a "hard" state): the first failure of a device that was
    /// alive is only "soft", and the device is re-probed every <see cref="RetryIntervalSeconds"/> until it answers or
    /// has failed this many times in a row.
    /// </summary>
    public int MissedIntervalsForOffline { get; init; } = 3;

    /// <summary>
    /// Re-probe interval after a probed device's first failure (Nagios/Icinga's "retry interval"): a camera or SIP terminal
    /// that stops answering is re-probed this often, not once an interval, until the failure is confirmed or it answers
    /// again; so a dead camera is offline about <c>2 × retry</c> after its first failed probe, within 3 minutes of its
    /// failure. 0 turns the retries off (one probe per interval).
    /// </summary>
    public int RetryIntervalSeconds { get; init; } = 20;

    /// <summary>
    /// Slack for pushed signals (heartbeat, SIP registration refresh): a signal up to one interval plus this old is fresh,
    /// and a device silent for <see cref="MissedIntervalsForOffline"/> intervals minus this is offline, so that the mark
    /// (read from DevicePresence's in-memory sightings, written at the deadline) lands within 3 intervals of the last signal.
    /// </summary>
    public int SignalGraceSeconds { get; init; } = 10;

    /// <summary>
    /// How often the silence watch (<see cref="HealthSilenceWatch"/>) looks for terminals judged by their signals whose
    /// silence has reached <see cref="SilenceForOffline"/>: an in-memory scan, apart from the cycles, so a terminal is
    /// offline at most this long after its deadline whenever the cycles run (a long cycle, a skipped job run).
    /// </summary>
    public int SilenceCheckSeconds { get; init; } = 5;

    /// <summary>Whole-probe time-out per device (RTSP and ONVIF each, SIP OPTIONS); a device that takes longer has missed.</summary>
    public int ProbeTimeoutSeconds { get; init; } = 5;

    /// <summary>Probes in flight at once.</summary>
    public int MaxConcurrentProbes { get; init; } = 64;

    /// <summary>
    /// Probes start spread over this many seconds at the beginning of each cycle, each device at its own fixed offset
    /// (jitter by device id), so the load is even and each device is probed exactly one interval apart.
    /// </summary>
    public int ProbeSpreadSeconds { get; init; } = 20;

    /// <summary>
    /// The longest a cycle's first probes wait for alarms, in all (issue 15: alarms first). While presses are being
    /// committed, and for <see cref="AlarmQuietSeconds"/> after the last (<see cref="Alarms.AlarmFlow"/>: the consoles are still
    /// drawing them), the cycle's start clock stands still, so no new probe starts, and the
    /// probes go on at their offsets once the alarms pause or this is used up: a city's storm of presses is not slowed by
    /// hundreds of probes a second, and a failure found in a storm is found at most this much later. Never more than the
    /// interval leaves after the spread and the time-outs (<see cref="MaxAlarmHold"/>). 0: probes never wait.
    /// </summary>
    public int AlarmHoldSeconds { get; init; } = 30;

    /// <summary>Flap suppression: a new state must hold this long before anyone is told.</summary>
    public int NotifyAfterSeconds { get; init; } = 120;

    /// <summary>A device that changed state this many times within <see cref="FlapWindowMinutes"/> is flapping: told once.</summary>
    public int FlapTransitions { get; init; } = 4;

    public int FlapWindowMinutes { get; init; } = 30;

    /// <summary>Transitions, check runs and notifications older than this are deleted by the retention job.</summary>
    public int RetentionDays { get; init; } = 90;

    public TimeSpan Interval => TimeSpan.FromSeconds(Math.Max(1, CheckIntervalSeconds));

    public TimeSpan ProbeTimeout => TimeSpan.FromSeconds(Math.Max(1, ProbeTimeoutSeconds));

    public TimeSpan SignalGrace => TimeSpan.FromSeconds(Math.Max(0, SignalGraceSeconds));

    public TimeSpan NotifyAfter => TimeSpan.FromSeconds(Math.Max(0, NotifyAfterSeconds));

    public TimeSpan FlapWindow => TimeSpan.FromMinutes(Math.Max(1, FlapWindowMinutes));

    public TimeSpan SilenceCheck => TimeSpan.FromSeconds(Math.Max(1, SilenceCheckSeconds));

    public TimeSpan RetryInterval => TimeSpan.FromSeconds(Math.Max(0, RetryIntervalSeconds));

    /// <summary>
    /// A pushing device is offline once silent this long: the missed intervals less the grace (170 s by default), never
    /// less than one interval plus the grace.
    /// </summary>
    public TimeSpan SilenceForOffline
    {
        get
        {
            var silence = (Interval * Math.Max(1, MissedIntervalsForOffline)) - SignalGrace;
            var floor = Interval + SignalGrace + TimeSpan.FromSeconds(1);
            return silence > floor ? silence : floor;
        }
    }

    /// <summary>The probe spread, never longer than the interval minus room for the time-out.</summary>
    public TimeSpan ProbeSpread
    {
        get
        {
            var spread = TimeSpan.FromSeconds(Math.Max(0, ProbeSpreadSeconds));
            var room = Interval - ProbeTimeout - ProbeTimeout;
            return room <= TimeSpan.Zero ? TimeSpan.Zero : spread < room ? spread : room;
        }
    }

    /// <summary>
    /// The probes wait until no press has been committed for this long (within <see cref="AlarmHoldSeconds"/>). Presses
    /// come in waves, and probes that went on in a lull slowed the next wave: with 250 ms, probes that resumed the
    /// moment a burst's presses were in slowed its drawing (bursts of 2.3-2.7 s, the simulated cameras' process busy
    /// meanwhile); with 2 s, probes that resumed in the alarm benchmark's 6 s between its warm-up and its steady phase
    /// held back the steady phase's first cards by up to 0.8 s (card p99 329-620 ms in four runs whose steady phase began
    /// 18-23 s into the minute; 119 ms with the health checks off).
    /// </summary>
    public int AlarmQuietSeconds { get; init; } = 10;

    /// <summary><see cref="AlarmQuietSeconds"/>, at least a quarter of a second (<see cref="Alarms.AlarmFlow.Quiet"/>).</summary>
    public TimeSpan AlarmQuiet => AlarmQuietSeconds > 0 ? TimeSpan.FromSeconds(AlarmQuietSeconds) : Alarms.AlarmFlow.Quiet;

    /// <summary>The alarm hold, never longer than the interval leaves after the probe spread and two time-outs.</summary>
    public TimeSpan MaxAlarmHold
    {
        get
        {
            var hold = TimeSpan.FromSeconds(Math.Max(0, AlarmHoldSeconds));
            var room = Interval - ProbeTimeout - ProbeTimeout - ProbeSpread;
            return room <= TimeSpan.Zero ? TimeSpan.Zero : hold < room ? hold : room;
        }
    }

    /// <summary>
    /// The Hangfire cron: every minute, or every N minutes for an interval of N whole minutes. A shorter interval that
    /// divides the minute (tests, demos) runs as several cycles inside the one per-minute job (<see cref="CyclesPerRun"/>).
    /// </summary>
    public string Cron => CheckIntervalSeconds > 60 && CheckIntervalSeconds % 60 == 0 && 60 % (CheckIntervalSeconds / 60) == 0
        ? $"*/{CheckIntervalSeconds / 60} * * * *"
        : "* * * * *";

    /// <summary>Cycles one run of the job makes: 60 / interval for an interval that divides the minute, else one.</summary>
    public int CyclesPerRun => CheckIntervalSeconds is > 0 and < 60 && 60 % CheckIntervalSeconds == 0 ? 60 / CheckIntervalSeconds : 1;
}
