using System.Data.Common;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using Microsoft.Data.Sqlite;
using Portal.Core.Data;
using SQLitePCL;

namespace Portal.Core.Alarms;

/// <summary>
/// The alarm writer's transaction. On SQL Server an ordinary one (row locks: other writers do not hold the alarms up).
/// On SQLite the database has one write lock, and the writer asks for it itself: <c>BEGIN IMMEDIATE</c> on a
/// connection without a busy handler, asked again every millisecond while another connection holds the lock.
/// <para>
/// Why (issue 15): SQLite's busy handler sleeps in growing steps (1, 2, 5, 10, 15, 20, 25 ms, ...) between its tries,
/// and under console load the other writers (a terminal's first sighting marks it Connected, the sightings' flush,
/// the health checks) took the lock again and again in between, so a press waited for the lock up to 80 ms at p99
/// and 180 ms at worst, the steps' sums, while no single commit took more than a few milliseconds. Asking every
/// millisecond, the writer waits about as long as the commit in its way. It sleeps between its tries rather than
/// spinning: it runs above the others' priority, and spinning would take the core from the connection it waits for.
/// </para>
/// <para>
/// The transaction is SQLite's own (begun and ended with SQL on the handle), so commands run with no
/// <see cref="DbTransaction"/>: <see cref="Transaction"/> is null there.
/// </para>
/// </summary>
internal sealed class WriterTransaction : IDisposable
{
    /// <summary>How long the writer asks before the batch fails (its callers are told); SQLite's own wait was 10 s.</summary>
    internal static readonly TimeSpan LockTimeout = TimeSpan.FromSeconds(10);

    private readonly SqliteConnection? _sqlite;
    private bool _done;

    private WriterTransaction(DbTransaction? transaction, SqliteConnection? sqlite)
    {
        Transaction = transaction;
        _sqlite = sqlite;
    }

    /// <summary>The ADO.NET transaction to pass to commands (null on SQLite: the connection's own transaction).</summary>
    public DbTransaction? Transaction { get; }

    /// <param name="db">The database, told while the writer waits for the lock (<see cref="Db.GiveWayAsync"/>).</param>
    /// <param name="connection">The writer's open connection (on SQLite: without a busy handler).</param>
    /// <param name="retries">Counts each time the lock was found taken and asked for again (the writer's own count).</param>
    /// <param name="ct">Stops the asking.</param>
    public static WriterTransaction Begin(Db db, DbConnection connection, StrongBox<long> retries, CancellationToken ct)
    {
        if (connection is not SqliteConnection sqlite)
        {
            return new WriterTransaction(connection.BeginTransaction(), null);
        }

        var handle = sqlite.Handle ?? throw new InvalidOperationException("The writer's connection is not open.");
        long waitingSince = 0;
        try
        {
            while (true)
            {
                var rc = raw.sqlite3_exec(handle, "BEGIN IMMEDIATE;");
                if (rc == raw.SQLITE_OK)
                {
                    return new WriterTransaction(null, sqlite);
                }

                if ((rc & 0xFF) != raw.SQLITE_BUSY)
                {
                    SqliteException.ThrowExceptionForRC(rc, handle);
                }

                if (waitingSince == 0)
                {
                    // Taken: the background writes give way from now on (Db.GiveWayAsync) until the writer has it.
                    waitingSince = Stopwatch.GetTimestamp();
                    db.AlarmWriterWaits(true);
                }
                else if (Stopwatch.GetElapsedTime(waitingSince) >= LockTimeout)
                {
                    throw new TimeoutException($"The database's write lock stayed taken for {LockTimeout.TotalSeconds:0} s; the batch is not written.");
                }

                ct.ThrowIfCancellationRequested();
                Interlocked.Increment(ref retries.Value);
                Thread.Sleep(1);
            }
        }
        finally
        {
            if (waitingSince != 0)
            {
                db.AlarmWriterWaits(false);
            }
        }
    }

    public void Commit()
    {
        if (_sqlite is null)
        {
            Transaction!.Commit();
        }
        else
        {
            var rc = raw.sqlite3_exec(_sqlite.Handle, "COMMIT;");
            if (rc != raw.SQLITE_OK)
            {
                SqliteException.ThrowExceptionForRC(rc, _sqlite.Handle);
            }
        }

        _done = true;
    }

    /// <summary>Rolls back what was not committed (a failed batch).</summary>
    public void Dispose()
    {
        if (_sqlite is null)
        {
            Transaction!.Dispose();
            return;
        }

        if (!_done && _sqlite.Handle is { } handle && raw.sqlite3_get_autocommit(handle) == 0)
        {
            raw.sqlite3_exec(handle, "ROLLBACK;");
        }
    }
}
