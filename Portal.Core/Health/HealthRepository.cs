using System.Data.Common;
using Dapper;
using Portal.Core.Data;
using Portal.Core.Devices;

namespace Portal.Core.Health;

/// <summary>A transition of one device, as the history keeps it.</summary>
public sealed record DeviceHealthEvent
{
    public long Id { get; init; }

    public int DeviceId { get; init; }

    public DeviceHealthState FromState { get; init; }

    public DeviceHealthState ToState { get; init; }

    public DateTime AtUtc { get; init; }

    public string? Detail { get; init; }
}

/// <summary>One check cycle's summary.</summary>
public sealed record HealthCheckRun
{
    public long Id { get; init; }

    public DateTime StartedUtc { get; init; }

    public DateTime FinishedUtc { get; init; }

    public int Devices { get; init; }

    public int Probed { get; init; }

    public int Failed { get; init; }

    public int Changes { get; init; }

    public int ElapsedMs { get; init; }
}

/// <summary>A device whose people have not heard its current state yet, or that is flapping, with what a notice names.</summary>
public sealed record PendingNotice
{
    public int DeviceId { get; init; }

    public int SchoolId { get; init; }

    public int DistrictId { get; init; }

    public required string SchoolName { get; init; }

    public DeviceKind Kind { get; init; }

    public required string SerialNumber { get; init; }

    public int Transitions { get; init; }

    public DeviceHealthRecord Health { get; init; } = new();
}

/// <summary>
/// Owns DeviceHealth, DeviceHealthEvent and HealthCheckRun: what the checks keep between cycles, every transition,
/// and one row per cycle. Device.HealthState, the state everyone reads, is written through <see cref="DeviceRepository"/>
/// in the same transaction as the transition.
/// </summary>
public sealed class HealthRepository(Db db)
{
    // A device checked for the first time starts from the state the registry shows (the demo city's, or one set
    // by the device intake), as already told: nobody hears of a device's state merely because checks began.
    private const string SelectMissingRows = """
        SELECT d.Id FROM Device d
        WHERE d.Enabled = 1 AND d.InstallState >= @Installed AND NOT EXISTS (SELECT 1 FROM DeviceHealth h WHERE h.DeviceId = d.Id)
        ORDER BY d.Id
        """;

    private const string InsertMissingRows = """
        INSERT INTO DeviceHealth (DeviceId, State, StateSinceUtc, Misses, LastOkUtc, Detail, NotifiedState, IsFlapping, FlappingSinceUtc, UpdatedUtc)
        SELECT d.Id, d.HealthState, @Now, 0, d.LastSeenUtc, NULL, d.HealthState, 0, NULL, @Now
        FROM Device d
        WHERE d.Id >= @From AND d.Id <= @To AND d.Enabled = 1 AND d.InstallState >= @Installed
            AND NOT EXISTS (SELECT 1 FROM DeviceHealth h WHERE h.DeviceId = d.Id)
        """;

    private const string TargetColumns = """
        d.Id AS DeviceId, d.SchoolId, s.DistrictId, s.Name AS SchoolName, d.Kind, d.SerialNumber, d.SipAccount, d.RtspUrl, d.OnvifUrl,
        d.Username, d.SecretProtected, d.InstallState, d.LastSeenUtc, d.HealthState AS PublishedState,
        h.State, h.StateSinceUtc, h.Misses, h.LastOkUtc, h.Detail, h.NotifiedState, h.IsFlapping, h.FlappingSinceUtc
        """;

    private const string SelectTargets = "SELECT " + TargetColumns + """

        FROM Device d JOIN School s ON s.Id = d.SchoolId JOIN DeviceHealth h ON h.DeviceId = d.Id
        WHERE d.Enabled = 1 AND d.InstallState >= @Installed
        ORDER BY d.Id
        """;

    private const string SelectTarget = "SELECT " + TargetColumns + """

        FROM Device d JOIN School s ON s.Id = d.SchoolId JOIN DeviceHealth h ON h.DeviceId = d.Id
        WHERE d.Id = @DeviceId
        """;

    private const string UpdateRow = """
        UPDATE DeviceHealth SET State = @State, StateSinceUtc = @StateSinceUtc, Misses = @Misses, LastOkUtc = @LastOkUtc, Detail = @Detail,
            NotifiedState = @NotifiedState, IsFlapping = @IsFlapping, FlappingSinceUtc = @FlappingSinceUtc, UpdatedUtc = @Now
        WHERE DeviceId = @DeviceId
        """;

    private const string InsertEvent = """
        INSERT INTO DeviceHealthEvent (DeviceId, FromState, ToState, AtUtc, Detail) VALUES (@DeviceId, @FromState, @ToState, @AtUtc, @Detail)
        """;

    private const string SelectPending = """
        SELECT h.DeviceId, d.SchoolId, s.DistrictId, s.Name AS SchoolName, d.Kind, d.SerialNumber,
            (SELECT COUNT(*) FROM DeviceHealthEvent e WHERE e.DeviceId = h.DeviceId AND e.AtUtc >= @Since) AS Transitions,
            h.State, h.StateSinceUtc, h.Misses, h.LastOkUtc, h.Detail, h.NotifiedState, h.IsFlapping, h.FlappingSinceUtc
        FROM DeviceHealth h JOIN Device d ON d.Id = h.DeviceId JOIN School s ON s.Id = d.SchoolId
        WHERE (h.State <> h.NotifiedState OR h.IsFlapping = 1) AND d.Enabled = 1
        """;

    private const string InsertRun = """
        INSERT INTO HealthCheckRun (StartedUtc, FinishedUtc, Devices, Probed, Failed, Changes, ElapsedMs)
        VALUES (@StartedUtc, @FinishedUtc, @Devices, @Probed, @Failed, @Changes, @ElapsedMs)
        """;

    private const string SelectLastRun = """
        SELECT Id, StartedUtc, FinishedUtc, Devices, Probed, Failed, Changes, ElapsedMs FROM HealthCheckRun
        WHERE Id = (SELECT MAX(Id) FROM HealthCheckRun)
        """;

    private const string DeleteOldEvents = "DELETE FROM DeviceHealthEvent WHERE AtUtc < @Before";

    private const string DeleteOldRuns = "DELETE FROM HealthCheckRun WHERE StartedUtc < @Before";

    private const string SelectSignals = "SELECT Id, LastSeenUtc FROM Device WHERE Kind = @Terminal AND LastSeenUtc IS NOT NULL AND LastSeenUtc < @Before";

    /// <summary>The most health rows one transaction of <see cref="EnsureRowsAsync"/> inserts.</summary>
    internal const int MaxRowsPerInsert = 256;

    /// <summary>
    /// Gives every checked device without a health row its row (devices added since the last cycle). The devices
    /// lacking one are found in a read, and their rows inserted by ranges of at most <see cref="MaxRowsPerInsert"/>,
    /// each after giving way to the alarm writer. Issue 15: this was one insert over every device, which holds SQLite's
    /// write lock from its start, through its scan of all devices, even when it inserts nothing; a city's first cycle
    /// (7,000 rows in the alarm benchmark's demo city, or a registry import's next cycle) held it for all its rows. In runs
    /// of that benchmark the alarm writer waited for the lock up to 24 and 250 ms in the seconds after a cycle began.
    /// </summary>
    public async Task<int> EnsureRowsAsync(DateTime now, CancellationToken ct = default)
    {
        await using var connection = db.Open();
        var installed = (int)DeviceInstallState.Installed;
        var missing = (await connection.QueryAsync<int>(new CommandDefinition(SelectMissingRows, new { Installed = installed }, cancellationToken: ct)).ConfigureAwait(false)).AsList();
        var inserted = 0;
        foreach (var chunk in missing.Chunk(MaxRowsPerInsert))
        {
            await db.GiveWayAsync(ct).ConfigureAwait(false);
            inserted += await connection.ExecuteAsync(new CommandDefinition(InsertMissingRows,
                new { Now = now, Installed = installed, From = chunk[0], To = chunk[^1] }, cancellationToken: ct)).ConfigureAwait(false);
        }

        return inserted;
    }

    /// <summary>Every device a cycle checks: enabled and at least installed, with its health row.</summary>
    public async Task<IReadOnlyList<HealthTarget>> GetTargetsAsync(CancellationToken ct = default)
    {
        await using var connection = db.Open();
        return await QueryTargetsAsync(connection, SelectTargets, new { Installed = (int)DeviceInstallState.Installed }, ct).ConfigureAwait(false);
    }

    public async Task<HealthTarget?> GetTargetAsync(int deviceId, CancellationToken ct = default)
    {
        await using var connection = db.Open();
        var rows = await QueryTargetsAsync(connection, SelectTarget, new { DeviceId = deviceId }, ct).ConfigureAwait(false);
        return rows.Count == 0 ? null : rows[0];
    }

    /// <summary>Terminals whose last signal is older than <paramref name="before"/>, with that signal's time.</summary>
    public async Task<IReadOnlyDictionary<int, DateTime>> GetSignalsOlderThanAsync(DateTime before, CancellationToken ct = default)
    {
        await using var connection = db.Open();
        var rows = await connection.QueryAsync<(int Id, DateTime LastSeenUtc)>(new CommandDefinition(SelectSignals,
            new { Terminal = (int)DeviceKind.AlarmTerminal, Before = before }, cancellationToken: ct)).ConfigureAwait(false);
        return rows.ToDictionary(r => r.Id, r => r.LastSeenUtc);
    }

    /// <summary>
    /// The most changes one transaction of <see cref="WriteAsync"/> holds. Issue 15: a cycle's changes were one
    /// transaction, however many (the demo city's first cycle changes up to 2,010 cameras), holding SQLite's write lock
    /// while alarms waited for it. Under the alarm benchmark the alarm writer's wait for the lock reached 10 ms or more
    /// (once 97 ms) in 12 of 26 runs; with the health checks off, at most 5.5 ms in 3 runs; with these transactions, at
    /// most 8 ms in 3 runs.
    /// </summary>
    internal const int MaxChangesPerTransaction = 64;

    /// <summary>
    /// Writes one cycle's changes: each changed row, a history row per transition, and the device's published state
    /// (through <see cref="DeviceRepository"/>) where it differs. A device's change is written whole, in one transaction
    /// with at most <see cref="MaxChangesPerTransaction"/> - 1 others, and each transaction first gives way to the alarm
    /// writer (<see cref="Db.GiveWayAsync"/>), so the alarm writer never waits long for the lock.
    /// </summary>
    public async Task WriteAsync(IReadOnlyList<HealthChange> changes, DateTime now, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(changes);
        if (changes.Count == 0)
        {
            return;
        }

        await using var connection = await db.OpenAsync(ct).ConfigureAwait(false);
        foreach (var chunk in changes.Chunk(MaxChangesPerTransaction))
        {
            await db.GiveWayAsync(ct).ConfigureAwait(false);
            await WriteChunkAsync(connection, chunk, now, ct).ConfigureAwait(false);
        }
    }

    private static async Task WriteChunkAsync(DbConnection connection, HealthChange[] changes, DateTime now, CancellationToken ct)
    {
        await using var tx = await connection.BeginTransactionAsync(ct).ConfigureAwait(false);
        foreach (var change in changes)
        {
            await WriteRowAsync(tx, change.DeviceId, change.Record, now, ct).ConfigureAwait(false);
            if (change.From is { } from)
            {
                await connection.ExecuteAsync(new CommandDefinition(InsertEvent, new
                {
                    change.DeviceId,
                    FromState = (int)from,
                    ToState = (int)change.Record.State,
                    AtUtc = now,
                    change.Record.Detail,
                }, tx, cancellationToken: ct)).ConfigureAwait(false);
            }

            if (change.Publish)
            {
                await DeviceRepository.SetHealthAsync(tx, change.DeviceId, change.Record.State, ct).ConfigureAwait(false);
            }
        }

        await tx.CommitAsync(ct).ConfigureAwait(false);
    }

    /// <summary>Devices whose people have not heard their current state, or that flap, with their transitions since <paramref name="since"/>.</summary>
    public async Task<IReadOnlyList<PendingNotice>> GetPendingNoticesAsync(DateTime since, CancellationToken ct = default)
    {
        await using var connection = db.Open();
        var rows = await connection.QueryAsync<PendingNotice, DeviceHealthRecord, PendingNotice>(
            new CommandDefinition(SelectPending, new { Since = since }, cancellationToken: ct),
            (notice, health) => notice with { Health = health },
            splitOn: "State").ConfigureAwait(false);
        return [.. rows];
    }

    /// <summary>Writes decided notices' rows (what was told, flapping) and runs <paramref name="alsoInTransaction"/> (the notifications) with them.</summary>
    public async Task WriteNoticesAsync(IReadOnlyList<(int DeviceId, DeviceHealthRecord Record)> rows, DateTime now,
        Func<DbTransaction, Task> alsoInTransaction, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(alsoInTransaction);
        await using var connection = await db.OpenAsync(ct).ConfigureAwait(false);
        await using var tx = await connection.BeginTransactionAsync(ct).ConfigureAwait(false);
        foreach (var (deviceId, record) in rows)
        {
            await WriteRowAsync(tx, deviceId, record, now, ct).ConfigureAwait(false);
        }

        await alsoInTransaction(tx).ConfigureAwait(false);
        await tx.CommitAsync(ct).ConfigureAwait(false);
    }

    public async Task AddRunAsync(HealthCheckRun run, CancellationToken ct = default)
    {
        await using var connection = db.Open();
        await connection.ExecuteAsync(new CommandDefinition(InsertRun, run, cancellationToken: ct)).ConfigureAwait(false);
    }

    public async Task<HealthCheckRun?> GetLastRunAsync(CancellationToken ct = default)
    {
        await using var connection = db.Open();
        return await connection.QuerySingleOrDefaultAsync<HealthCheckRun>(new CommandDefinition(SelectLastRun, cancellationToken: ct)).ConfigureAwait(false);
    }

    /// <summary>Deletes transitions and cycle rows older than <paramref name="before"/>; returns how many rows went.</summary>
    public async Task<int> DeleteOlderThanAsync(DateTime before, CancellationToken ct = default)
    {
        await using var connection = db.Open();
        var events = await connection.ExecuteAsync(new CommandDefinition(DeleteOldEvents, new { Before = before }, cancellationToken: ct)).ConfigureAwait(false);
        var runs = await connection.ExecuteAsync(new CommandDefinition(DeleteOldRuns, new { Before = before }, cancellationToken: ct)).ConfigureAwait(false);
        return events + runs;
    }

    private static Task<int> WriteRowAsync(DbTransaction tx, int deviceId, DeviceHealthRecord r, DateTime now, CancellationToken ct) =>
        tx.Connection!.ExecuteAsync(new CommandDefinition(UpdateRow, new
        {
            DeviceId = deviceId,
            State = (int)r.State,
            r.StateSinceUtc,
            r.Misses,
            r.LastOkUtc,
            r.Detail,
            NotifiedState = (int)r.NotifiedState,
            r.IsFlapping,
            r.FlappingSinceUtc,
            Now = now,
        }, tx, cancellationToken: ct));

    private static async Task<IReadOnlyList<HealthTarget>> QueryTargetsAsync(DbConnection connection, string sql, object args, CancellationToken ct)
    {
        var rows = await connection.QueryAsync<HealthTarget, DeviceHealthRecord, HealthTarget>(
            new CommandDefinition(sql, args, cancellationToken: ct),
            (target, health) => target with { Health = health },
            splitOn: "State").ConfigureAwait(false);
        return [.. rows];
    }
}

/// <summary>One device's row to write after a cycle: the new row, the state before if it changed, and whether Device.HealthState must follow.</summary>
public sealed record HealthChange(int DeviceId, DeviceHealthRecord Record, DeviceHealthState? From, bool Publish);
