using System.Data;
using System.Data.Common;
using System.Diagnostics;
using Microsoft.Data.SqlClient;
using Microsoft.Data.Sqlite;

namespace Portal.Core.Data;

public enum SqlDialect
{
    SqlServer,
    Sqlite,
}

/// <summary>
/// The whole database abstraction: which engine, how to open a connection, and the few places where
/// the two dialects differ (STYLE.md §3). Everything else is portable SQL beside the code that runs it.
/// </summary>
public sealed class Db(string connectionString, SqlDialect dialect)
{
    static Db() => DapperSetup.EnsureRegistered();

    /// <summary>
    /// The longest one <see cref="GiveWayAsync"/> holds a background write back, however long the alarms keep coming:
    /// the background writes slow down under a flood of presses, they do not stop.
    /// </summary>
    public static readonly TimeSpan MaxGiveWay = TimeSpan.FromSeconds(1);

    /// <summary>After the alarm writer's last batch of more than one press, background writes wait this long (a burst).</summary>
    public static readonly TimeSpan BurstQuiet = TimeSpan.FromMilliseconds(100);

    // How many alarm writers wait for SQLite's write lock now (WriterTransaction.Begin).
    private int _lockWaiters;

    // When the alarm writer last began a batch of more than one press (Stopwatch timestamp; 0: never).
    private long _lastBurstBatch;

    public SqlDialect Dialect => dialect;

    public string ConnectionString => connectionString;

    /// <summary>
    /// Whether the background writes should wait now: an alarm writer waits for SQLite's write lock, or it is writing
    /// a burst (it began a batch of more than one press within <see cref="BurstQuiet"/>).
    /// </summary>
    public bool AlarmsFirst =>
        Volatile.Read(ref _lockWaiters) > 0
        || (Volatile.Read(ref _lastBurstBatch) is var burst and not 0 && Stopwatch.GetElapsedTime(burst) < BurstQuiet);

    /// <summary>The alarm writer found the write lock taken (true) or got it, or gave up (false).</summary>
    internal void AlarmWriterWaits(bool waiting)
    {
        if (waiting)
        {
            Interlocked.Increment(ref _lockWaiters);
        }
        else
        {
            Interlocked.Decrement(ref _lockWaiters);
        }
    }

    /// <summary>The alarm writer begins a batch of <paramref name="presses"/>.</summary>
    internal void AlarmWriterBatch(int presses)
    {
        if (presses > 1)
        {
            Volatile.Write(ref _lastBurstBatch, Stopwatch.GetTimestamp());
        }
    }

    /// <summary>
    /// Called by a background write (the sightings' flush, the first-sighting marks, the health checks) before each of
    /// its transactions, on SQLite: it pauses a millisecond, and for as long as <see cref="AlarmsFirst"/> (at most
    /// <see cref="MaxGiveWay"/>). Issue 15: the alarm writer asks for the lock every millisecond, so a background write
    /// that began its next transaction at once after a commit could take the lock again before it, and in a burst the
    /// background transactions (hundreds of sightings, dozens of first-sighting marks) ran between the writer's batches,
    /// slowed by the busy cores. Under the alarm benchmark's burst of 1,000 presses the writer's wait for the lock reached
    /// 38-190 ms at p99 in 11 runs before; 1.0-5.0 ms at most in 4 runs after. On SQL Server (row locks) at once.
    /// </summary>
    public async Task GiveWayAsync(CancellationToken ct = default)
    {
        if (dialect != SqlDialect.Sqlite)
        {
            return;
        }

        // A cancelled wait ends the pause without throwing: the caller's own next step decides what cancellation means.
        var started = Stopwatch.GetTimestamp();
        do
        {
            await Task.Delay(1, ct).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
        while (!ct.IsCancellationRequested && AlarmsFirst && Stopwatch.GetElapsedTime(started) < MaxGiveWay);
    }

    public DbConnection Open()
    {
        if (dialect == SqlDialect.SqlServer)
        {
            return new SqlConnection(connectionString);
        }

        var connection = new SqliteConnection(connectionString);
        connection.StateChange += OnSqliteOpened;
        return connection;
    }

    /// <summary>
    /// Microsoft.Data.Sqlite answers a locked database by sleeping 150 ms before it tries again; SQLite's own
    /// busy handler waits in steps of 1 to 100 ms. With it, a writer queued behind a commit of a millisecond
    /// waits about a millisecond: the alarm intake showed 150 ms stalls behind the escalator's commits.
    /// No connection opened here checkpoints the WAL by itself (SQLite's default does, inside whichever commit finds the
    /// WAL past 1,000 pages, holding the write lock meanwhile): the alarm intake's checkpointer does, between alarms
    /// (AlarmIntake.CheckpointAsync). EF Core's stores (Identity, OpenIddict) open their own connections and keep the
    /// default; they write at sign-ins and token issues, rarely next to a flood of alarms. With the sightings' and
    /// installation's commits checkpointing too, the alarm writer waited for the write lock up to 4 ms at p99 under the
    /// alarm benchmark; after, 0.1-0.2 ms.
    /// </summary>
    private static void OnSqliteOpened(object? sender, StateChangeEventArgs e)
    {
        if (e.CurrentState == ConnectionState.Open && sender is SqliteConnection connection)
        {
            using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA busy_timeout = 10000; PRAGMA wal_autocheckpoint = 0;";
            command.ExecuteNonQuery();
        }
    }

    /// <summary>
    /// For a write the platform derives again when it is lost (a first sighting's mark: the device's next sighting marks
    /// it again): on SQLite, the commits on <paramref name="connection"/> skip their own sync of the WAL
    /// (synchronous=NORMAL) until <see cref="RestoreSyncAsync"/>. Such a commit is durable with the next synced commit of
    /// any connection (the alarm writer syncs the WAL at each of its commits, and that covers every frame before it); a
    /// power cut before that loses it. Issue 15: a mark of one device held SQLite's write lock through its own sync, and
    /// under the alarm benchmark that sync took up to 200 ms while a press waited for the lock. Returns the
    /// connection's level to restore (null: nothing changed, SQL Server).
    /// </summary>
    internal async Task<long?> DeferSyncAsync(DbConnection connection, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(connection);
        if (dialect != SqlDialect.Sqlite)
        {
            return null;
        }

        await using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA synchronous;";
        var level = Convert.ToInt64(await command.ExecuteScalarAsync(ct).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture);
        command.CommandText = "PRAGMA synchronous = NORMAL;";
        await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        return level;
    }

    /// <summary>
    /// Gives <paramref name="connection"/> back the sync level <see cref="DeferSyncAsync"/> returned, before it goes back
    /// to the pool; when that fails, the pool drops the connection rather than lend it out without its syncs.
    /// </summary>
    internal static async Task RestoreSyncAsync(DbConnection connection, long? level)
    {
        ArgumentNullException.ThrowIfNull(connection);
        if (level is not { } restore)
        {
            return;
        }

        try
        {
            await using var command = connection.CreateCommand();
            command.CommandText = FormattableString.Invariant($"PRAGMA synchronous = {restore};");
            await command.ExecuteNonQueryAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch (SqliteException)
        {
            SqliteConnection.ClearPool((SqliteConnection)connection);
            throw;
        }
    }

    public async Task<DbConnection> OpenAsync(CancellationToken ct = default)
    {
        var connection = Open();
        await connection.OpenAsync(ct).ConfigureAwait(false);
        return connection;
    }

    /// <summary>
    /// A transaction that only reads: on SQLite a deferred one (a consistent snapshot under WAL that never takes the
    /// write lock; Microsoft.Data.Sqlite's default BEGIN IMMEDIATE takes it at once), on SQL Server read committed.
    /// </summary>
    public async Task<DbTransaction> BeginReadTransactionAsync(DbConnection connection, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        return dialect == SqlDialect.Sqlite && connection is SqliteConnection sqlite
            ? sqlite.BeginTransaction(IsolationLevel.Serializable, deferred: true)
            : await connection.BeginTransactionAsync(IsolationLevel.ReadCommitted, ct).ConfigureAwait(false);
    }

    /// <summary>Goes after ORDER BY; binds @Skip and @Take.</summary>
    public string Paging => dialect == SqlDialect.SqlServer
        ? "OFFSET @Skip ROWS FETCH NEXT @Take ROWS ONLY"
        : "LIMIT @Take OFFSET @Skip";

    public string Pick(string sqlServer, string sqlite) => dialect == SqlDialect.SqlServer ? sqlServer : sqlite;

    /// <summary>
    /// Builds the SQLite connection string for a database file: foreign keys on (SQLite has them off by
    /// default) and a busy timeout so that a writer waits instead of failing while another commits.
    /// </summary>
    public static string SqliteConnectionString(string path) => new SqliteConnectionStringBuilder
    {
        DataSource = path,
        ForeignKeys = true,
        Pooling = true,
        DefaultTimeout = 30,
    }.ToString();
}
