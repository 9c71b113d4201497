using Dapper;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Portal.Core.Alarms;
using Portal.Core.Security;
using Xunit;

namespace Portal.Tests.Core.Alarms;

/// <summary>
/// The alarm path's background loops meet real failures (a SQLite trigger that aborts a write, a table that is
/// briefly gone, a write lock held during shutdown) and keep running: the intake fails only what failed and every
/// caller hears back, the notifier retries instead of dropping, the escalator isolates one bad alarm (issue 14).
/// </summary>
public sealed class AlarmLoopTests : IAsyncLifetime
{
    private AlarmTestCity _city = default!;

    public ValueTask InitializeAsync()
    {
        _city = new AlarmTestCity();
        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync() => _city.DisposeAsync();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static readonly TimeSpan HangBound = TimeSpan.FromSeconds(30);

    private async Task<List<(int SchoolId, int DistrictId, int DeviceId)>> TerminalsAsync()
    {
        await using var connection = _city.Database.Db.Open();
        return [.. (await connection.QueryAsync<(long Id, long SchoolId, long DistrictId)>(
            "SELECT d.Id, d.SchoolId, s.DistrictId FROM Device d JOIN School s ON s.Id = d.SchoolId WHERE d.Kind = 0 ORDER BY d.Id")).Select(t => ((int)t.SchoolId, (int)t.DistrictId, (int)t.Id))];
    }

    private static AlarmSignal Signal((int SchoolId, int DistrictId, int DeviceId) t) =>
        new(t.SchoolId, t.DistrictId, t.DeviceId, AlarmSource.DeviceApi, false, false, "127.0.0.1");

    private async Task ExecAsync(string sql)
    {
        await using var connection = _city.Database.Db.Open();
        await connection.ExecuteAsync(sql);
    }

    [Fact]
    public async Task Intake_OneSignalFailsInABatch_OnlyItFails_AndTheWriterKeepsWriting()
    {
        var terminals = await TerminalsAsync();
        var bad = terminals[3];
        await ExecAsync($"CREATE TRIGGER FailOneSchool BEFORE INSERT ON Alarm WHEN NEW.SchoolId = {bad.SchoolId} BEGIN SELECT RAISE(ABORT, 'injected failure'); END;");

        var tasks = terminals.Select(t => _city.Intake.SubmitAsync(Signal(t), Ct)).ToList();
        var outcomes = await Task.WhenAll(tasks.Select(async t =>
        {
            try
            {
                return (Receipt: (AlarmReceipt?)await t.WaitAsync(HangBound, Ct), Error: (Exception?)null);
            }
            catch (SqliteException ex)
            {
                return (null, ex);
            }
        }));

        var failed = Assert.Single(outcomes, o => o.Error is not null);
        Assert.Contains("injected failure", failed.Error!.Message, StringComparison.Ordinal);
        Assert.Same(tasks[3], tasks[outcomes.ToList().IndexOf(failed)]);
        Assert.Equal(terminals.Count - 1, outcomes.Count(o => o.Receipt is { AlarmId: > 0 }));

        // The writer is still there: once the fault is gone the same school's alarm goes through.
        await ExecAsync("DROP TRIGGER FailOneSchool;");
        var receipt = await _city.Intake.SubmitAsync(Signal(bad), Ct).WaitAsync(HangBound, Ct);
        Assert.Equal(bad.SchoolId, (await _city.Repository.GetViewAsync(receipt.AlarmId, Ct))!.SchoolId);
    }

    [Fact]
    public async Task Intake_AnswerInline_EachCallerResumesOnTheAnswerThread_OnlyOnceItsAlarmIsCommitted()
    {
        var terminals = await TerminalsAsync();
        var db = _city.Database.Db;

        // Each caller's code after the await runs where the continuation runs (ExecuteSynchronously), and reads its
        // alarm there through a connection of its own. (The task is complete there, so the await inside goes on at
        // once, on the same thread.)
        Task<(string? Thread, bool Pool, long Stored)> Press((int SchoolId, int DistrictId, int DeviceId) t) =>
            _city.Intake.SubmitAsync(Signal(t), answerInline: true, Ct).ContinueWith(async task =>
            {
                var (thread, pool) = (Thread.CurrentThread.Name, Thread.CurrentThread.IsThreadPoolThread);
                var id = (await task).AlarmId;
                using var connection = db.Open();
                return (thread, pool, connection.ExecuteScalar<long>("SELECT COUNT(*) FROM Alarm WHERE Id = @id", new { id }));
            }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default).Unwrap();

        // One press: answered on the answer thread, its alarm committed by then.
        Assert.Equal(("Alarm answers", false, 1L), await Press(terminals[0]).WaitAsync(HangBound, Ct));

        // All the others at once (more than the answer thread gives itself): each committed when answered, on the answer
        // thread or, beyond MaxInlineAnswers at once, on the pool; never on the writer's thread.
        var answers = await Task.WhenAll(terminals.Skip(1).Select(Press)).WaitAsync(HangBound, Ct);
        Assert.True(answers.Length > AlarmIntake.MaxInlineAnswers);
        Assert.All(answers, a => Assert.True(a.Stored == 1 && (a.Thread == "Alarm answers" || a.Pool), a.ToString()));

        // Without it (the SIP door, the portal's test alarms) the caller's code runs on the thread pool: never on the
        // writer's thread nor on the answer thread.
        var pooled = await _city.Intake.SubmitAsync(Signal(terminals[0]), Ct).ContinueWith(_ => Thread.CurrentThread.IsThreadPoolThread,
            CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default).WaitAsync(HangBound, Ct);
        Assert.True(pooled);
    }

    [Fact]
    public async Task Intake_AnswerInline_EveryWriteFails_EveryCallerIsToldAndNothingIsAnsweredAsStored()
    {
        var terminals = await TerminalsAsync();
        await ExecAsync("CREATE TRIGGER FailEveryAlarm BEFORE INSERT ON Alarm BEGIN SELECT RAISE(ABORT, 'injected failure'); END;");

        var tasks = terminals.Select(t => _city.Intake.SubmitAsync(Signal(t), answerInline: true, Ct)).ToList();
        foreach (var task in tasks)
        {
            var ex = await Assert.ThrowsAsync<SqliteException>(() => task.WaitAsync(HangBound, Ct));
            Assert.Contains("injected failure", ex.Message, StringComparison.Ordinal);
        }

        await using var connection = _city.Database.Db.Open();
        Assert.Equal(0, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM Alarm"));

        // Nothing lost for good: the caller was told, so it presses again; once the fault is gone every press goes through.
        await ExecAsync("DROP TRIGGER FailEveryAlarm;");
        var receipts = await Task.WhenAll(terminals.Select(t => _city.Intake.SubmitAsync(Signal(t), answerInline: true, Ct))).WaitAsync(HangBound, Ct);
        Assert.Equal(terminals.Count, receipts.Select(r => r.AlarmId).Distinct().Count());
        Assert.Equal(terminals.Count, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM Alarm"));
    }

    [Fact]
    public async Task Intake_StoppedWithABatchInHandAndMoreQueued_EveryCallerHearsBack()
    {
        var terminals = await TerminalsAsync();
        var logger = new RecordingLogger<AlarmIntake>();
        var intake = new AlarmIntake(_city.Database.Db, _city.Notifier, _city.Time, logger);
        using var stop = new CancellationTokenSource();
        await intake.StartAsync(stop.Token);

        // Another connection holds the write lock: the writer takes the first signals and waits inside their batch.
        await using var blocker = new SqliteConnection(_city.Database.Db.ConnectionString);
        await blocker.OpenAsync(Ct);
        await blocker.ExecuteAsync("BEGIN IMMEDIATE;");
        var tasks = terminals.Take(10).Select(t => intake.SubmitAsync(Signal(t), Ct)).ToList();
        while (intake.BatchesStarted == 0)
        {
            await Task.Delay(5, Ct);
        }

        tasks.AddRange(terminals.Skip(10).Take(10).Select(t => intake.SubmitAsync(Signal(t), Ct)));
        var stopping = intake.StopAsync(CancellationToken.None);
        await blocker.ExecuteAsync("ROLLBACK;");
        await stopping.WaitAsync(HangBound, Ct);

        // Not one caller is left waiting. The batch in hand may still have committed (then its alarms are stored);
        // whatever came after the stop was refused, every one of those callers told so.
        for (var i = 0; i < tasks.Count; i++)
        {
            var ex = await Record.ExceptionAsync(() => tasks[i].WaitAsync(HangBound, Ct));
            if (ex is null)
            {
                Assert.True(i < 10, $"signal {i}, queued after the writer had stopped, reported as committed");
                Assert.NotNull(await _city.Repository.GetViewAsync((await tasks[i]).AlarmId, Ct));
            }
            else
            {
                Assert.True(ex is OperationCanceledException or InvalidOperationException, ex.ToString());
            }
        }

        await Assert.ThrowsAsync<InvalidOperationException>(() => intake.SubmitAsync(Signal(terminals[0]), Ct));
        intake.Dispose();
    }

    [Fact]
    public async Task Notifier_DatabaseFailsWhileAnAlarmIsAnnounced_RetriesAndDelivers()
    {
        var logger = new RecordingLogger<AlarmNotifier>();
        var notifier = new AlarmNotifier(_city.Repository, logger);
        await notifier.StartAsync(Ct);
        try
        {
            var delivered = new TaskCompletionSource<AlarmChange>(TaskCreationOptions.RunContinuationsAsynchronously);
            using var _ = notifier.Subscribe(new UserScope(1, "city", Roles.CityOperator, null, null), c =>
            {
                delivered.TrySetResult(c);
                return Task.CompletedTask;
            });
            var (school, terminal) = await _city.SchoolInDistrictAsync("370202");
            var receipt = await _city.Intake.SubmitAsync(new AlarmSignal(school.Id, school.DistrictId, terminal.Id, AlarmSource.DeviceApi, false, false, null), Ct);

            // The view cannot be read while the table is away: the notifier logs, waits, tries again.
            await ExecAsync("ALTER TABLE District RENAME TO DistrictAway;");
            notifier.Publish(receipt.AlarmId, AlarmEventKind.Answered);
            await logger.WaitForAsync(LogLevel.Error, 2);
            Assert.False(delivered.Task.IsCompleted);

            await ExecAsync("ALTER TABLE DistrictAway RENAME TO District;");
            var change = await delivered.Task.WaitAsync(HangBound, Ct);
            Assert.Equal(receipt.AlarmId, change.Alarm.Id);
            Assert.Equal(AlarmEventKind.Answered, change.Kind);
        }
        finally
        {
            await notifier.StopAsync(CancellationToken.None);
            notifier.Dispose();
        }
    }

    [Fact]
    public async Task Notifier_OneConsoleThrows_TheOthersStillGetEveryChange()
    {
        var seen = new TaskCompletionSource<AlarmChange>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var broken = _city.Notifier.Subscribe(new UserScope(1, "a", Roles.CityOperator, null, null), _ => throw new InvalidOperationException("console bug"));
        using var fine = _city.Notifier.Subscribe(new UserScope(2, "b", Roles.CityOperator, null, null), c =>
        {
            seen.TrySetResult(c);
            return Task.CompletedTask;
        });
        var (school, terminal) = await _city.SchoolInDistrictAsync("370203");
        var receipt = await _city.Intake.SubmitAsync(new AlarmSignal(school.Id, school.DistrictId, terminal.Id, AlarmSource.DeviceApi, false, false, null), Ct);
        Assert.Equal(receipt.AlarmId, (await seen.Task.WaitAsync(HangBound, Ct)).Alarm.Id);
    }

    [Fact]
    public async Task Escalator_OneAlarmCannotBeEscalated_TheOthersAre_AndItIsOnTheNextPass()
    {
        var terminals = await TerminalsAsync();
        var ids = new List<int>();
        foreach (var t in terminals.Take(4))
        {
            ids.Add((await _city.Intake.SubmitAsync(Signal(t), Ct)).AlarmId);
        }

        await ExecAsync($"CREATE TRIGGER FailOneEscalation BEFORE UPDATE OF State ON Alarm WHEN NEW.Id = {ids[1]} AND NEW.State = 1 BEGIN SELECT RAISE(ABORT, 'injected failure'); END;");
        var logger = new RecordingLogger<AlarmEscalator>();
        using var escalator = new AlarmEscalator(_city.Repository, _city.Notifier, _city.Time, logger);
        _city.Time.Advance(TimeSpan.FromSeconds(31));

        var first = await escalator.RunOnceAsync(Ct);
        Assert.Equal(ids.Where(id => id != ids[1]).Order(), first.Order());
        Assert.Contains(logger.Entries, e => e.Level == LogLevel.Error && e.Message.Contains(ids[1].ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal));

        await ExecAsync("DROP TRIGGER FailOneEscalation;");
        Assert.Equal([ids[1]], await escalator.RunOnceAsync(Ct));
    }

    [Fact]
    public async Task Escalator_APassFails_TheLoopRunsTheNextTick()
    {
        var (school, terminal) = await _city.SchoolInDistrictAsync("370211");
        var id = (await _city.Intake.SubmitAsync(new AlarmSignal(school.Id, school.DistrictId, terminal.Id, AlarmSource.DeviceApi, false, false, null), Ct)).AlarmId;
        await ExecAsync("ALTER TABLE PoliceCentre RENAME TO PoliceCentreAway;");

        var logger = new RecordingLogger<AlarmEscalator>();
        using var escalator = new AlarmEscalator(_city.Repository, _city.Notifier, _city.Time, logger);
        _city.Time.Advance(TimeSpan.FromSeconds(16));
        await escalator.StartAsync(Ct);
        try
        {
            await logger.WaitForAsync(LogLevel.Error);

            await ExecAsync("ALTER TABLE PoliceCentreAway RENAME TO PoliceCentre;");
            var clock = System.Diagnostics.Stopwatch.StartNew();
            while ((await _city.Repository.GetViewAsync(id, Ct))!.State != AlarmState.Escalated)
            {
                Assert.True(clock.Elapsed < HangBound, "the escalator stopped after a failed pass");
                _city.Time.Advance(AlarmEscalator.Tick);
                await Task.Delay(10, Ct);
            }
        }
        finally
        {
            await escalator.StopAsync(CancellationToken.None);
        }
    }
}
