namespace Portal.Core.Alarms;

/// <summary>
/// Whether alarms are being written now: the intake committed a press within <see cref="Quiet"/>. Background work that
/// takes the cores for a while, not the database (the health cycle's probes: two TCP exchanges per camera, dozens a
/// second in a city), waits while alarms flow (issue 15), for a bounded time of its own choosing. The database's own
/// give-way for background writes is <see cref="Data.Db.GiveWayAsync"/>.
/// </summary>
public sealed class AlarmFlow(TimeProvider time)
{
    /// <summary>Alarms stop "flowing" this long after the last commit (the WAL checkpoint's quiet gap, <see cref="AlarmIntake.CheckpointQuiet"/>).</summary>
    public static readonly TimeSpan Quiet = AlarmIntake.CheckpointQuiet;

    // The last commit (TimeProvider timestamp; 0: never).
    private long _lastCommit;

    /// <summary>The intake committed a batch of presses.</summary>
    public void Committed() => Volatile.Write(ref _lastCommit, time.GetTimestamp());

    /// <summary>A press was committed within <see cref="Quiet"/>.</summary>
    public bool Flowing => CommittedWithin(Quiet);

    /// <summary>A press was committed within <paramref name="window"/>.</summary>
    public bool CommittedWithin(TimeSpan window) => Volatile.Read(ref _lastCommit) is var commit and not 0 && time.GetElapsedTime(commit) < window;
}
