namespace Portal.Core.Alarms;

/// <summary>
/// When the intake last committed a press, and so whether alarms are being written now. The intake's WAL checkpoint
/// keeps out of the way of a flow (<see cref="AlarmIntake.CheckpointQuiet"/>); background work that
/// takes the cores for a while, not the database (the health cycle's probes: two TCP exchanges per camera, dozens a
/// second in a city), waits while alarms flow (issue 15), for a bounded time of its own choosing. The database's own
/// give-way for background writes is <see cref="Data.Db.GiveWayAsync"/>.
/// </summary>
public sealed class AlarmFlow(TimeProvider time)
{
    /// <summary>The shortest gap after a commit that counts as a pause in the flow (the WAL checkpoint's, <see cref="AlarmIntake.CheckpointQuiet"/>).</summary>
    public static readonly TimeSpan Quiet = AlarmIntake.CheckpointQuiet;

    // The last commit (TimeProvider timestamp; 0: never).
    private long _lastCommit;

    /// <summary>The intake committed a batch of presses.</summary>
    public void Committed() => Volatile.Write(ref _lastCommit, time.GetTimestamp());

    /// <summary>The time since the last commit; null before the first.</summary>
    public TimeSpan? SinceLastCommit => Volatile.Read(ref _lastCommit) is var commit and not 0 ? time.GetElapsedTime(commit) : null;

    /// <summary>A press was committed within <paramref name="window"/>.</summary>
    public bool CommittedWithin(TimeSpan window) => SinceLastCommit < window;
}
