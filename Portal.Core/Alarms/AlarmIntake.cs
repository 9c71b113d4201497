using System.Collections.Concurrent;
using System.Data.Common;
using System.Globalization;
using Dapper;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Portal.Core.Data;
using Portal.Core.Diagnostics;
using Portal.Core.Threading;

namespace Portal.Core.Alarms;

/// <summary>A signal from a device or a test request, waiting to be written.</summary>
public sealed record AlarmSignal(
    int SchoolId,
    int DistrictId,
    int? DeviceId,
    AlarmSource Source,
    bool IsTest,
    bool IsAcceptance,
    string? RemoteAddress,
    int? UserId = null,
    string? UserName = null,
    string? Nonce = null);

/// <summary>
/// What the device is told once the alarm is durable: its id, and whether it joined an open one; or that
/// its nonce was spent already (a replay: nothing was written); or that no 110 centre covers the school's
/// district and the city has none either (nothing was written: the caller refuses the device and alerts).
/// </summary>
public sealed record AlarmReceipt(int AlarmId, bool Joined, bool Replay = false, bool NoCentre = false);

/// <summary>
/// The one way an alarm enters the system, whatever its source (SIP, signed device API, portal test).
/// A single writer drains the queue and commits each batch in one durable transaction (group commit), so
/// a burst costs one fsync per batch rather than one per alarm; each caller's task completes only after
/// its alarm is committed, and only then is it announced to consoles, off the request path.
/// <para>
/// The writer is a thread of its own with a connection of its own, so a device's answer never waits behind the
/// consoles' work: not for a thread-pool thread (Blazor renders there), not for a pooled connection, and not for a
/// checkpoint (its connection never checkpoints; <see cref="CheckpointInterval"/> says who does). A batch that fails
/// is retried alarm by alarm, so one bad signal fails alone; whatever else goes wrong fails that batch's callers,
/// every one of them, and the writer carries on.
/// </para>
/// <para>
/// A caller that asks for it (<c>answerInline</c>: the signed device API) is answered by a thread of its own too: its
/// code after the await runs on the "Alarm answers" thread as soon as the batch is committed, instead of waiting in
/// the thread pool's queue behind the consoles' renders (issue 15: that wait was up to a quarter of a second of the
/// device's answer under console load); beyond <see cref="MaxInlineAnswers"/> at once (a burst) the rest are answered
/// from the pool. Such a caller must not block after the await: every answer behind it waits.
/// Everyone else's continuation runs on the thread pool, and the writer never runs a caller's code.
/// </para>
/// </summary>
public sealed class AlarmIntake(Db db, AlarmNotifier notifier, TimeProvider time, ILogger<AlarmIntake> logger, AlarmFlow? flow = null) : BackgroundService
{
    private const int MaxBatch = 256;

    /// <summary>
    /// At most this many answers waiting are given on the answer thread itself; beyond it (a burst) the rest go to the
    /// thread pool at once, so they are written side by side rather than each behind all those before it (one thread
    /// gets a small share of two busy cores: 255 answers in a row took half a second there).
    /// </summary>
    internal const int MaxInlineAnswers = 16;

    /// <summary>
    /// A writer at real-time priority (<see cref="OsThreadPriority.AlarmPathRealtimePriority"/>) that finds this many
    /// presses queued after a commit is in a burst: it goes back to the normal policy (at the alarm path's nice value)
    /// until the queue is empty. At real-time priority it took each press the moment it came, so a burst of a thousand
    /// was committed in batches of 7-25 (p50) instead of 75-82, with that many more syncs, and the request threads that
    /// verify the presses waited behind it: in three alternating pairs of alarm benchmark runs the burst was accepted
    /// after 0.77-0.87 s instead of 0.55-0.61 s. One alarm at a time (the steady flow) keeps the real-time priority:
    /// there the writer's wait for a core was the answer's slowest part. With this rule, three alternating pairs against
    /// the writer at nice -5 throughout: burst batches p50 44-122, accepted after 0.56-0.84 s, on every console after
    /// 1.39-1.99 s (nice -5: 1.54-2.10 s), and the steady answer's p99 8.1-9.4 ms (9.5-15.3 ms).
    /// </summary>
    internal const int BurstDepth = 8;

    /// <summary>
    /// How often the WAL is copied back into the database file (SQLite), on another connection than the writer's:
    /// an automatic checkpoint runs inside the commit that crosses 1,000 pages, so about one press in a hundred
    /// would have waited for it.
    /// </summary>
    public static readonly TimeSpan CheckpointInterval = TimeSpan.FromSeconds(1);

    /// <summary>
    /// While alarms are being written (one committed within this time), the checkpoint waits: its two syncs (the WAL,
    /// then the database file with the pages it copied) share the file system's journal with the writer's own sync,
    /// and an alarm committed beside one waited for both. Measured with ten consoles at 50 alarms/s: the commit's sync
    /// p99 4.3-4.7 ms with a checkpoint every second, 2.0 ms without.
    /// </summary>
    public static readonly TimeSpan CheckpointQuiet = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// A flow of alarms holds the checkpoint back at most this long (the WAL grows meanwhile; readers pay for a long one).
    /// Short, so that a checkpoint in a flow copies little. Under the alarm benchmark (ten consoles, 50 alarms/s, the
    /// health checks off), three alternating pairs: held back 10 s, the commit's sync p99 5.3-7.5 ms (max 8.9-11.9) and
    /// the device answer's p99 10.0-12.3 ms; held back 2 s, sync p99 3.7-4.6 ms (max 5.5-8.6), answer p99 7.6-9.5 ms.
    /// Over six runs of each, the answer's p99: 8.1, 10.0, 10.1, 10.9, 12.3 and 13.6 ms held back 10 s; 7.6, 7.6, 8.9,
    /// 9.1, 9.5 and 9.5 ms held back 2 s.
    /// </summary>
    public static readonly TimeSpan CheckpointMaxDelay = TimeSpan.FromSeconds(2);

    private const string FindOpen = "SELECT Id FROM Alarm WHERE DeviceId = @DeviceId AND State < @Closed";

    private const string JoinOpen = "UPDATE Alarm SET SignalCount = SignalCount + 1, LastSignalUtc = @Now WHERE Id = @Id";

    private const string SelectCentres = "SELECT Id, DistrictId, AnswerDeadlineSeconds FROM PoliceCentre";

    private const string InsertSqlite = """
        INSERT INTO Alarm (SchoolId, DistrictId, DeviceId, CentreId, Source, IsTest, IsAcceptance, State, RaisedUtc, LastSignalUtc, SignalCount, AnswerDeadlineUtc)
        VALUES (@SchoolId, @DistrictId, @DeviceId, @CentreId, @Source, @IsTest, @IsAcceptance, 0, @Now, @Now, 1, @Deadline)
        RETURNING Id
        """;

    private const string InsertSqlServer = """
        INSERT INTO Alarm (SchoolId, DistrictId, DeviceId, CentreId, Source, IsTest, IsAcceptance, State, RaisedUtc, LastSignalUtc, SignalCount, AnswerDeadlineUtc)
        OUTPUT INSERTED.Id
        VALUES (@SchoolId, @DistrictId, @DeviceId, @CentreId, @Source, @IsTest, @IsAcceptance, 0, @Now, @Now, 1, @Deadline)
        """;

    private readonly ConcurrentQueue<Pending> _queue = new();

    // Set when something is queued; the writer sleeps on it (no spinning: the machine's cores belong to the consoles meanwhile).
    private readonly ManualResetEventSlim _wake = new(false, spinCount: 1);

    // Committed signals whose callers asked to be answered inline, for the answer thread.
    private readonly ConcurrentQueue<(Pending Pending, AlarmReceipt Receipt)> _answers = new();
    private readonly ManualResetEventSlim _answerWake = new(false, spinCount: 1);
    private volatile bool _writerDone;
    private volatile bool _stopped;
    private DbConnection? _connection;
    private WriterStatements? _statements;
    private long _batchesStarted;
    private int _writerSynchronous = -1;

    // How many times the writer found SQLite's write lock taken and asked again (WriterTransaction).
    private readonly System.Runtime.CompilerServices.StrongBox<long> _lockRetries = new();

    // When the writer last committed: for the checkpoint to keep out of its way, and for the health probes (AlarmFlow).
    private readonly AlarmFlow _flow = flow ?? new AlarmFlow(time);

    /// <summary>How many times this writer found the database's write lock taken and asked for it again.</summary>
    internal long LockRetries => Interlocked.Read(ref _lockRetries.Value);

    /// <summary>How many batches the writer has taken up (tests wait on it to know a batch is in hand).</summary>
    internal long BatchesStarted => Interlocked.Read(ref _batchesStarted);

    /// <summary>The writer thread's id in the system once it runs (tests read its scheduling policy), else 0.</summary>
    internal int WriterThreadId => Volatile.Read(ref _writerThreadId);

    private int _writerThreadId;

    /// <summary>How many times the writer left real-time priority for a burst (diagnostics and tests).</summary>
    internal long BurstsShared => Interlocked.Read(ref _burstsShared);

    private long _burstsShared;

    /// <summary>
    /// The writer connection's <c>PRAGMA synchronous</c> as SQLite reports it once set (2 = FULL: every commit is
    /// synced before a caller hears back); -1 before the writer opened it, or on SQL Server (always durable).
    /// </summary>
    internal int WriterSynchronous => Volatile.Read(ref _writerSynchronous);

    /// <summary>Queues the signal and completes once it is committed. Throws if the write failed or the intake is shut down.</summary>
    public Task<AlarmReceipt> SubmitAsync(AlarmSignal signal, CancellationToken ct = default) => SubmitAsync(signal, answerInline: false, ct);

    /// <summary>
    /// <inheritdoc cref="SubmitAsync(AlarmSignal, CancellationToken)"/> With <paramref name="answerInline"/> the caller's
    /// continuation runs on the intake's answer thread once committed, not queued to the thread pool: for a caller
    /// whose code after the await is short and never blocks (the device API's answer).
    /// </summary>
    public Task<AlarmReceipt> SubmitAsync(AlarmSignal signal, bool answerInline, CancellationToken ct = default)
    {
        if (_stopped)
        {
            throw new InvalidOperationException("The alarm intake is shut down.");
        }

        var pending = new Pending(signal, new TaskCompletionSource<AlarmReceipt>(answerInline ? TaskCreationOptions.None : TaskCreationOptions.RunContinuationsAsynchronously),
            RequestStamps.Current);
        pending.Stamps?.Queued = RequestStamps.Now();
        _queue.Enqueue(pending);
        _wake.Set();
        if (_stopped)
        {
            // Stopped between the check and the enqueue: the writer may have drained its last batch already.
            FailQueued();
        }

        return pending.Done.Task.WaitAsync(ct);
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var writer = new Thread(() =>
        {
            try
            {
                Volatile.Write(ref _writerThreadId, OsThreadPriority.CurrentThreadId());
                OsThreadPriority.ApplyAlarmPathRealtime(logger);
                Run(OsThreadPriority.CurrentThreadScheduler() is { Policy: OsThreadPriority.SchedRoundRobin }, stoppingToken);
            }
            finally
            {
                done.TrySetResult();
            }
        })
        {
            IsBackground = true,
            Name = "Alarm intake",
        };
        var answered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var answers = new Thread(() =>
        {
            try
            {
                OsThreadPriority.ApplyAlarmPathRealtime(logger);
                Answer();
            }
            finally
            {
                answered.TrySetResult();
            }
        })
        {
            IsBackground = true,
            Name = "Alarm answers",
        };
        answers.Start();
        writer.Start();
        return Task.WhenAll(done.Task, answered.Task, CheckpointAsync(stoppingToken));
    }

    /// <summary>
    /// Stops the loops (the base cancels the stopping token). The two events are left to the collector, not disposed:
    /// the writer and answer threads may still be waking on them (a host whose start failed disposes its services
    /// without waiting for them to stop: a start on a port in use ended in SIGABRT that way), and an event whose wait
    /// handle is never asked for holds nothing to release.
    /// </summary>
    public override void Dispose()
    {
        _stopped = true;
        base.Dispose();
        _wake.Set();
        _answerWake.Set();
    }

    /// <summary>
    /// The answer thread: completes the inline callers' tasks, so their code runs here at once. Runs until the writer
    /// has stopped and every answer it handed over is given.
    /// </summary>
    private void Answer()
    {
        var waiting = new List<(Pending Pending, AlarmReceipt Receipt)>(MaxBatch);
        while (true)
        {
            _answerWake.Wait();
            _answerWake.Reset();
            var last = _writerDone; // read before draining: whatever the writer handed over before it stopped is drained below
            while (!_answers.IsEmpty)
            {
                waiting.Clear();
                while (_answers.TryDequeue(out var item))
                {
                    waiting.Add(item);
                }

                // The first ones here, at once; the rest of a burst to the pool first, so they start meanwhile.
                for (var i = MaxInlineAnswers; i < waiting.Count; i++)
                {
                    ThreadPool.UnsafeQueueUserWorkItem(static item => item.Pending.Done.TrySetResult(item.Receipt), waiting[i], preferLocal: false);
                }

                for (var i = 0; i < Math.Min(MaxInlineAnswers, waiting.Count); i++)
                {
                    try
                    {
                        waiting[i].Pending.Done.TrySetResult(waiting[i].Receipt);
                    }
                    catch (Exception ex)
                    {
                        // A caller's continuation threw on this thread (an async method's own code never does): the others still hear back.
                        logger.LogError(ex, "An alarm caller's continuation failed on the answer thread");
                    }
                }
            }

            if (last)
            {
                return;
            }
        }
    }

    /// <summary>
    /// Fails or cancels a caller that has not been answered: on the thread pool for an inline caller, so neither the
    /// writer nor a submitting thread runs its code.
    /// </summary>
    private static void Settle(Pending p, Action<TaskCompletionSource<AlarmReceipt>> settle)
    {
        if (p.Handed)
        {
            return;
        }

        if ((p.Done.Task.CreationOptions & TaskCreationOptions.RunContinuationsAsynchronously) != 0)
        {
            settle(p.Done);
        }
        else
        {
            ThreadPool.UnsafeQueueUserWorkItem(static state => state.Settle(state.Done), (Settle: settle, p.Done), preferLocal: false);
        }
    }

    private void Run(bool realtime, CancellationToken stoppingToken)
    {
        var batch = new List<Pending>(MaxBatch);
        var shared = false;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                if (shared && _queue.IsEmpty)
                {
                    // The burst is over: the next alarm is one alone again.
                    shared = !OsThreadPriority.TrySetCurrentThreadRealtime(OsThreadPriority.AlarmPathRealtimePriority, out _);
                }

                _wake.Wait(stoppingToken);
                _wake.Reset();
                while (!_queue.IsEmpty)
                {
                    if (realtime && !shared && _queue.Count >= BurstDepth && OsThreadPriority.TrySetCurrentThreadNormal())
                    {
                        OsThreadPriority.TrySetCurrentThreadNice(OsThreadPriority.AlarmPathNice, out _);
                        shared = true;
                        Interlocked.Increment(ref _burstsShared);
                    }

                    batch.Clear();
                    while (batch.Count < MaxBatch && _queue.TryDequeue(out var next))
                    {
                        batch.Add(next);
                    }

                    Interlocked.Increment(ref _batchesStarted);
                    Stamp(batch, static (s, now, _) => s.BatchStarted = now);
                    try
                    {
                        WriteBatch(batch, stoppingToken);
                    }
                    catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
                    {
                        // Not a failure of one signal (those are handled in WriteBatch): fail this batch, keep going.
                        logger.LogError(ex, "Alarm batch of {Count} could not be written; its callers are told", batch.Count);
                        Fail(batch, ex);
                        DropConnection();
                    }

                    // Every caller of this batch is answered or on its way to be (the answer thread): none may be cancelled below.
                    batch.Clear();
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            // Shutting down: nobody waits forever, neither the batch in hand nor what is still queued.
            _stopped = true;
            foreach (var p in batch)
            {
                Settle(p, done => done.TrySetCanceled(stoppingToken));
            }

            FailQueued();
            DropConnection();
            _writerDone = true;
            _answerWake.Set();
        }
    }

    private void FailQueued()
    {
        while (_queue.TryDequeue(out var p))
        {
            Settle(p, done => done.TrySetException(new InvalidOperationException("The alarm intake is shut down.")));
        }
    }

    private static void Fail(List<Pending> batch, Exception ex)
    {
        foreach (var p in batch)
        {
            Settle(p, done => done.TrySetException(ex));
        }
    }

    private void WriteBatch(List<Pending> batch, CancellationToken ct)
    {
        AlarmReceipt[] receipts;
        try
        {
            receipts = Commit(batch, ct);
        }
        catch (Exception ex) when (batch.Count > 1 && !ct.IsCancellationRequested)
        {
            // One bad signal must not take the others down with it: write them one by one.
            logger.LogWarning(ex, "Alarm batch of {Count} failed; retrying each alone", batch.Count);
            DropConnection();
            foreach (var p in batch)
            {
                WriteBatch([p], ct);
            }

            return;
        }
        catch (Exception ex) when (!ct.IsCancellationRequested)
        {
            logger.LogError(ex, "Alarm signal from school {SchoolId} could not be written; the caller is told", batch[0].Signal.SchoolId);
            Settle(batch[0], done => done.TrySetException(ex));
            DropConnection();
            return;
        }

        Stamp(batch, static (s, now, count) => (s.Committed, s.BatchSize) = (now, count));
        var inline = false;
        for (var i = 0; i < batch.Count; i++)
        {
            if ((batch[i].Done.Task.CreationOptions & TaskCreationOptions.RunContinuationsAsynchronously) != 0)
            {
                batch[i].Done.TrySetResult(receipts[i]);
            }
            else
            {
                batch[i].Handed = true;
                _answers.Enqueue((batch[i], receipts[i]));
                inline = true;
            }
        }

        if (inline)
        {
            _answerWake.Set();
        }

        // Announce after the commit; consoles read the full view from the database.
        foreach (var r in receipts.Where(r => r.AlarmId != 0).DistinctBy(r => r.AlarmId))
        {
            notifier.Publish(r.AlarmId, r.Joined ? AlarmEventKind.SignalJoined : AlarmEventKind.Raised);
        }
    }

    /// <summary>Writes the batch in one transaction and commits it (one sync for the lot).</summary>
    private AlarmReceipt[] Commit(List<Pending> batch, CancellationToken ct)
    {
        var connection = Connection();
        var receipts = new AlarmReceipt[batch.Count];
        db.AlarmWriterBatch(batch.Count);
        using var tx = WriterTransaction.Begin(db, connection, _lockRetries, ct);
        Stamp(batch, static (s, now, _) => s.Locked = now);
        var centres = connection.Query<(long Id, long? DistrictId, long Seconds)>(SelectCentres, transaction: tx.Transaction).ToList();
        var now = time.GetUtcNow().UtcDateTime;
        var statements = _statements!.In(tx.Transaction);
        for (var i = 0; i < batch.Count; i++)
        {
            ct.ThrowIfCancellationRequested();
            receipts[i] = WriteOne(statements, batch[i].Signal, centres, now);
        }

        Stamp(batch, static (s, now, _) => s.Written = now);
        var timed = batch[0].Stamps is not null;
        var before = timed ? ThreadSchedStat.Read() : null;
        tx.Commit();
        if (timed && before is { } b && ThreadSchedStat.Read() is { } a)
        {
            var sched = ((a.CpuNs - b.CpuNs) / 1e6, (a.RunQueueNs - b.RunQueueNs) / 1e6);
            foreach (var p in batch)
            {
                p.Stamps?.SyncSched = sched;
            }
        }

        _flow.Committed();
        return receipts;
    }

    /// <summary>
    /// The writer's own connection, opened once: durable commits (on SQLite, synchronous=FULL: WAL syncs at every
    /// commit, and group commit keeps that to one sync per batch) and no automatic checkpoint inside its commits.
    /// Never pooled, so neither setting leaks to another connection.
    /// </summary>
    private DbConnection Connection()
    {
        if (_connection is { State: System.Data.ConnectionState.Open } open)
        {
            return open;
        }

        DropConnection();
        var connection = db.Open();
        if (connection is SqliteConnection sqlite)
        {
            sqlite.ConnectionString = new SqliteConnectionStringBuilder(sqlite.ConnectionString) { Pooling = false }.ToString();
            connection.Open();
            // No busy handler: WriterTransaction asks for the write lock itself, every millisecond (see there).
            // (No automatic checkpoint: Db sets wal_autocheckpoint=0 on every connection it opens.)
            connection.Execute("PRAGMA synchronous=FULL; PRAGMA busy_timeout=0;");
            Volatile.Write(ref _writerSynchronous, (int)connection.ExecuteScalar<long>("PRAGMA synchronous;"));
        }
        else
        {
            connection.Open();
        }

        _statements = new WriterStatements(db, connection);
        return _connection = connection;
    }

    private void DropConnection()
    {
        _statements?.Dispose();
        _statements = null;
        _connection?.Dispose();
        _connection = null;
    }

    /// <summary>
    /// Copies the WAL back into the database file every <see cref="CheckpointInterval"/> (a passive checkpoint: it
    /// never blocks the writer, which goes on appending to the WAL meanwhile), but not while alarms are being written
    /// (<see cref="CheckpointQuiet"/>), for at most <see cref="CheckpointMaxDelay"/>. SQLite only.
    /// </summary>
    private async Task CheckpointAsync(CancellationToken ct)
    {
        if (db.Dialect != SqlDialect.Sqlite)
        {
            return;
        }

        using var timer = new PeriodicTimer(CheckpointQuiet, time);
        var lastCheckpoint = time.GetTimestamp();
        try
        {
            while (await timer.WaitForNextTickAsync(ct).ConfigureAwait(false))
            {
                if (!CheckpointDue(time.GetElapsedTime(lastCheckpoint), _flow.SinceLastCommit))
                {
                    continue;
                }

                lastCheckpoint = time.GetTimestamp();
                try
                {
                    await using var connection = await db.OpenAsync(ct).ConfigureAwait(false);
                    await connection.ExecuteAsync(new CommandDefinition("PRAGMA wal_checkpoint(PASSIVE);", cancellationToken: ct)).ConfigureAwait(false);
                }
                catch (Exception ex) when (!ct.IsCancellationRequested)
                {
                    logger.LogWarning(ex, "WAL checkpoint failed; trying again in {Interval}", CheckpointInterval);
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }

    /// <summary>
    /// Whether the checkpoint runs now, <paramref name="sinceCheckpoint"/> after the last one and
    /// <paramref name="sinceCommit"/> after the writer's last commit (null: none yet).
    /// </summary>
    internal static bool CheckpointDue(TimeSpan sinceCheckpoint, TimeSpan? sinceCommit) =>
        sinceCheckpoint >= CheckpointInterval && (sinceCommit is not { } c || c >= CheckpointQuiet || sinceCheckpoint >= CheckpointMaxDelay);

    private static AlarmReceipt WriteOne(WriterStatements statements, AlarmSignal s, List<(long Id, long? DistrictId, long Seconds)> centres, DateTime now)
    {
        // The device API's nonce is spent in the same transaction as the alarm: one commit per batch, and a
        // replay inside the same batch is caught too.
        if (s.Nonce is not null && s.DeviceId is { } nonceDevice)
        {
            var spent = statements.Nonce.Set("DeviceId", nonceDevice).Set("Nonce", s.Nonce).Set("Now", now).Execute();
            if (spent == 0)
            {
                return new AlarmReceipt(0, false, Replay: true);
            }
        }

        if (s.DeviceId is { } deviceId)
        {
            var open = statements.FindOpen.Set("DeviceId", deviceId).Set("Closed", (int)AlarmState.Closed).Scalar();
            if (open is not (null or DBNull))
            {
                var openId = Convert.ToInt32(open, CultureInfo.InvariantCulture);
                statements.JoinOpen.Set("Id", openId).Set("Now", now).Execute();
                statements.AddEvent(Event(openId, AlarmEventKind.SignalJoined, s, now));
                return new AlarmReceipt(openId, true);
            }
        }

        // The district's centre, else the city's; with neither (a city set up without its centres) the alarm
        // cannot be routed, and the caller is told so instead of the batch failing.
        var centre = centres.FirstOrDefault(c => c.DistrictId == s.DistrictId);
        if (centre.Id == 0)
        {
            centre = centres.FirstOrDefault(c => c.DistrictId is null);
            if (centre.Id == 0)
            {
                return new AlarmReceipt(0, false, NoCentre: true);
            }
        }

        var id = Convert.ToInt32(statements.Insert
            .Set("SchoolId", s.SchoolId)
            .Set("DistrictId", s.DistrictId)
            .Set("DeviceId", s.DeviceId)
            .Set("CentreId", centre.Id)
            .Set("Source", (int)s.Source)
            .Set("IsTest", s.IsTest)
            .Set("IsAcceptance", s.IsAcceptance)
            .Set("Now", now)
            .Set("Deadline", now.AddSeconds(centre.Seconds))
            .Scalar(), CultureInfo.InvariantCulture);
        statements.AddEvent(Event(id, AlarmEventKind.Raised, s, now));
        return new AlarmReceipt(id, false);
    }

    /// <summary>
    /// The writer's statements, made once per connection and run again and again. Issue 15: with Dapper each press
    /// compiled its four statements afresh (SQLite's parser showed in the burst's CPU profile), on the one thread every
    /// press waits for.
    /// </summary>
    private sealed class WriterStatements(Db db, DbConnection connection) : IDisposable
    {
        public PreparedCommand Nonce { get; } = new(db, connection, db.Pick(Devices.DeviceRequestVerifier.InsertNonceSqlServer, Devices.DeviceRequestVerifier.InsertNonceSqlite));

        public PreparedCommand FindOpen { get; } = new(db, connection, AlarmIntake.FindOpen);

        public PreparedCommand JoinOpen { get; } = new(db, connection, AlarmIntake.JoinOpen);

        public PreparedCommand Insert { get; } = new(db, connection, db.Pick(InsertSqlServer, InsertSqlite));

        private PreparedCommand Event { get; } = new(db, connection, AlarmRepository.InsertEvent);

        private PreparedCommand[] All => [Nonce, FindOpen, JoinOpen, Insert, Event];

        /// <summary>Runs the next statements in <paramref name="transaction"/> (null on SQLite: the writer's own).</summary>
        public WriterStatements In(DbTransaction? transaction)
        {
            foreach (var statement in All)
            {
                statement.In(transaction);
            }

            return this;
        }

        public void AddEvent(AlarmEvent e) => Event
            .Set("AlarmId", e.AlarmId).Set("Kind", (int)e.Kind).Set("AtUtc", e.AtUtc).Set("UserId", e.UserId).Set("UserName", e.UserName)
            .Set("RemoteAddress", e.RemoteAddress).Set("Text", e.Text).Set("Code", e.Code).Set("CentreId", e.CentreId)
            .Execute();

        public void Dispose()
        {
            foreach (var statement in All)
            {
                statement.Dispose();
            }
        }
    }

    private static AlarmEvent Event(int alarmId, AlarmEventKind kind, AlarmSignal s, DateTime now) => new()
    {
        AlarmId = alarmId,
        Kind = kind,
        AtUtc = now,
        UserId = s.UserId,
        UserName = s.UserName,
        RemoteAddress = s.RemoteAddress,
        Code = (int)s.Source,
    };

    /// <summary>Stamps the timed requests of a batch (see <see cref="RequestStamps"/>; none unless the benchmark asked).</summary>
    private static void Stamp(List<Pending> batch, Action<RequestStamps, long, int> mark)
    {
        var now = 0L;
        foreach (var p in batch)
        {
            if (p.Stamps is { } stamps)
            {
                mark(stamps, now == 0 ? now = RequestStamps.Now() : now, batch.Count);
            }
        }
    }

    private sealed record Pending(AlarmSignal Signal, TaskCompletionSource<AlarmReceipt> Done, RequestStamps? Stamps)
    {
        /// <summary>Committed and handed to the answer thread: its answer is the receipt, whatever happens next.</summary>
        public bool Handed { get; set; }
    }
}
