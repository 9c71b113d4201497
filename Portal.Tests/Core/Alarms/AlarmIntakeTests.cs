using Dapper;
using Portal.Core.Alarms;
using Portal.Core.Diagnostics;
using Xunit;

namespace Portal.Tests.Core.Alarms;

public sealed class AlarmIntakeTests : IAsyncLifetime
{
    private AlarmTestCity _city = default!;

    public ValueTask InitializeAsync()
    {
        _city = new AlarmTestCity();
        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync() => _city.DisposeAsync();

    [Fact]
    public async Task SubmitAsync_Completes_OnlyAfterTheAlarmIsCommitted()
    {
        var (school, terminal) = await _city.SchoolInDistrictAsync("370202");
        var receipt = await _city.Intake.SubmitAsync(new AlarmSignal(school.Id, school.DistrictId, terminal.Id, AlarmSource.DeviceApi, false, false, "127.0.0.1"), TestContext.Current.CancellationToken);

        // Read through a separate connection: the row is there when the caller hears back.
        var view = await _city.Repository.GetViewAsync(receipt.AlarmId, TestContext.Current.CancellationToken);
        Assert.NotNull(view);
        Assert.Equal(AlarmState.Ringing, view.State);
        Assert.Equal(school.Id, view.SchoolId);
        Assert.Equal(_city.Time.GetUtcNow().UtcDateTime.AddSeconds(15), view.AnswerDeadlineUtc);
        Assert.Contains("分局", view.CentreName, StringComparison.Ordinal);
        var events = await _city.Repository.GetEventsAsync(receipt.AlarmId, TestContext.Current.CancellationToken);
        Assert.Equal(AlarmEventKind.Raised, Assert.Single(events).Kind);
    }

    /// <summary>A timed press (the Server-Timing diagnostics) carries the writer's stamps back, its sync split by the scheduler.</summary>
    [Fact]
    public async Task SubmitAsync_TimedPress_TheWriterStampsItsCommitAndTheSyncsSchedulerFigures()
    {
        var (school, terminal) = await _city.SchoolInDistrictAsync("370202");
        var stamps = new RequestStamps { Arrived = RequestStamps.Now() };
        RequestStamps.CurrentFlow.Value = stamps;
        try
        {
            await _city.Intake.SubmitAsync(new AlarmSignal(school.Id, school.DistrictId, terminal.Id, AlarmSource.DeviceApi, false, false, "127.0.0.1"), TestContext.Current.CancellationToken);
        }
        finally
        {
            RequestStamps.CurrentFlow.Value = null;
        }

        Assert.True(stamps.Queued > 0 && stamps.BatchStarted >= stamps.Queued && stamps.Written >= stamps.BatchStarted && stamps.Committed >= stamps.Written);
        Assert.Equal(1, stamps.BatchSize);
        if (OperatingSystem.IsLinux())
        {
            var (cpu, runQueue) = Assert.NotNull(stamps.SyncSched);
            var sync = System.Diagnostics.Stopwatch.GetElapsedTime(stamps.Written, stamps.Committed).TotalMilliseconds;
            Assert.InRange(cpu, 0, sync + 1);
            Assert.InRange(runQueue, 0, sync + 1);
        }
    }

    [Fact]
    public async Task SubmitAsync_SecondPressWhileOpen_JoinsTheOpenAlarm()
    {
        var (school, terminal) = await _city.SchoolInDistrictAsync("370203");
        var signal = new AlarmSignal(school.Id, school.DistrictId, terminal.Id, AlarmSource.DeviceApi, false, false, null);
        var first = await _city.Intake.SubmitAsync(signal, TestContext.Current.CancellationToken);
        var second = await _city.Intake.SubmitAsync(signal, TestContext.Current.CancellationToken);
        Assert.False(first.Joined);
        Assert.True(second.Joined);
        Assert.Equal(first.AlarmId, second.AlarmId);
        var view = await _city.Repository.GetViewAsync(first.AlarmId, TestContext.Current.CancellationToken);
        Assert.Equal(2, view!.SignalCount);
    }

    /// <summary>
    /// The writer keeps its statements and binds each press's values again (issue 15): a press must never carry a value
    /// left from the press before it (who, from where, test flags, no device), and a spent nonce stays spent.
    /// </summary>
    [Fact]
    public async Task SubmitAsync_EachPressWritesItsOwnValues_WithTheWritersStatementsReused()
    {
        var ct = TestContext.Current.CancellationToken;
        var (first, firstTerminal) = await _city.SchoolInDistrictAsync("370202");
        var (second, _) = await _city.SchoolInDistrictAsync("370203");

        var test = await _city.Intake.SubmitAsync(new AlarmSignal(first.Id, first.DistrictId, firstTerminal.Id, AlarmSource.PortalTest, IsTest: true, IsAcceptance: true,
            "10.1.2.3", UserId: 7, UserName: "验收员", Nonce: "n-1"), ct);
        var joined = await _city.Intake.SubmitAsync(new AlarmSignal(first.Id, first.DistrictId, firstTerminal.Id, AlarmSource.DeviceApi, false, false, "10.9.9.9", Nonce: "n-2"), ct);
        var replay = await _city.Intake.SubmitAsync(new AlarmSignal(first.Id, first.DistrictId, firstTerminal.Id, AlarmSource.DeviceApi, false, false, "10.9.9.9", Nonce: "n-2"), ct);
        var plain = await _city.Intake.SubmitAsync(new AlarmSignal(second.Id, second.DistrictId, null, AlarmSource.Sip, false, false, null), ct);

        Assert.True(joined.Joined);
        Assert.Equal(test.AlarmId, joined.AlarmId);
        Assert.True(replay.Replay);
        Assert.NotEqual(test.AlarmId, plain.AlarmId);

        var testView = await _city.Repository.GetViewAsync(test.AlarmId, ct);
        Assert.True(testView!.IsTest);
        Assert.True(testView.IsAcceptance);
        Assert.Equal(AlarmSource.PortalTest, testView.Source);
        Assert.Equal(firstTerminal.Id, testView.DeviceId);
        Assert.Equal(2, testView.SignalCount);

        var plainView = await _city.Repository.GetViewAsync(plain.AlarmId, ct);
        Assert.False(plainView!.IsTest);
        Assert.False(plainView.IsAcceptance);
        Assert.Equal(AlarmSource.Sip, plainView.Source);
        Assert.Null(plainView.DeviceId);
        Assert.Equal(second.Id, plainView.SchoolId);

        var testEvents = await _city.Repository.GetEventsAsync(test.AlarmId, ct);
        Assert.Equal([AlarmEventKind.Raised, AlarmEventKind.SignalJoined], testEvents.Select(e => e.Kind));
        Assert.Equal(("10.1.2.3", 7, "验收员", (int)AlarmSource.PortalTest), (testEvents[0].RemoteAddress, testEvents[0].UserId, testEvents[0].UserName, testEvents[0].Code));
        Assert.Equal(("10.9.9.9", (int?)null, (string?)null, (int)AlarmSource.DeviceApi), (testEvents[1].RemoteAddress, testEvents[1].UserId, testEvents[1].UserName, testEvents[1].Code));

        var plainEvent = Assert.Single(await _city.Repository.GetEventsAsync(plain.AlarmId, ct));
        Assert.Equal(((string?)null, (int?)null, (string?)null, (int)AlarmSource.Sip), (plainEvent.RemoteAddress, plainEvent.UserId, plainEvent.UserName, plainEvent.Code));
    }

    [Fact]
    public async Task SubmitAsync_BurstOf600_StoresEveryAlarmOnce()
    {
        await using var connection = _city.Database.Db.Open();
        var terminals = (await connection.QueryAsync<(long Id, long SchoolId, long DistrictId)>(
            "SELECT d.Id, d.SchoolId, s.DistrictId FROM Device d JOIN School s ON s.Id = d.SchoolId WHERE d.Kind = 0")).ToList();

        // 600 presses from 30 terminals at once: 30 alarms, each with 20 signals, nothing lost, nothing doubled.
        var tasks = Enumerable.Range(0, 600).Select(i =>
        {
            var t = terminals[i % terminals.Count];
            return _city.Intake.SubmitAsync(new AlarmSignal((int)t.SchoolId, (int)t.DistrictId, (int)t.Id, AlarmSource.DeviceApi, false, false, null), TestContext.Current.CancellationToken);
        }).ToList();
        var receipts = await Task.WhenAll(tasks);

        Assert.Equal(terminals.Count, receipts.Select(r => r.AlarmId).Distinct().Count());
        Assert.Equal(terminals.Count, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM Alarm"));
        Assert.Equal(600, await connection.ExecuteScalarAsync<long>("SELECT SUM(SignalCount) FROM Alarm"));
        Assert.Equal(600, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM AlarmEvent"));
    }

    [Fact]
    public async Task Notifier_DeliversOnlyToScopesThatCoverTheAlarm()
    {
        var (school, terminal) = await _city.SchoolInDistrictAsync("370202");
        var shibei = (await _city.Districts.GetAllAsync(TestContext.Current.CancellationToken)).Single(d => d.Code == "370203");
        var seenByShinan = new TaskCompletionSource<AlarmChange>();
        var seenByCity = new TaskCompletionSource<AlarmChange>();
        var seenByShibei = 0;
        using var a = _city.Notifier.Subscribe(new global::Portal.Core.Security.UserScope(1, "a", global::Portal.Core.Security.Roles.DistrictOperator, school.DistrictId, null), c => { seenByShinan.TrySetResult(c); return Task.CompletedTask; });
        using var b = _city.Notifier.Subscribe(new global::Portal.Core.Security.UserScope(2, "b", global::Portal.Core.Security.Roles.CityOperator, null, null), c => { seenByCity.TrySetResult(c); return Task.CompletedTask; });
        using var c = _city.Notifier.Subscribe(new global::Portal.Core.Security.UserScope(3, "c", global::Portal.Core.Security.Roles.DistrictOperator, shibei.Id, null), _ => { Interlocked.Increment(ref seenByShibei); return Task.CompletedTask; });

        var receipt = await _city.Intake.SubmitAsync(new AlarmSignal(school.Id, school.DistrictId, terminal.Id, AlarmSource.DeviceApi, false, false, null), TestContext.Current.CancellationToken);
        Assert.Equal(receipt.AlarmId, (await seenByShinan.Task.WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken)).Alarm.Id);
        Assert.Equal(receipt.AlarmId, (await seenByCity.Task.WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken)).Alarm.Id);
        await Task.Delay(200, TestContext.Current.CancellationToken);
        Assert.Equal(0, seenByShibei);
    }
}
