using Dapper;
using Portal.Core.Alarms;
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
