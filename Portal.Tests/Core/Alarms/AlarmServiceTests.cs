using Dapper;
using Portal.Core.Alarms;
using Portal.Core.Security;
using Xunit;

namespace Portal.Tests.Core.Alarms;

public sealed class AlarmServiceTests : IAsyncLifetime
{
    private AlarmTestCity _city = default!;

    public ValueTask InitializeAsync()
    {
        _city = new AlarmTestCity();
        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync() => _city.DisposeAsync();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private async Task<(int AlarmId, int DistrictId)> RaiseAsync(string districtCode = "370202", int index = 0)
    {
        var (school, terminal) = await _city.SchoolInDistrictAsync(districtCode, index);
        var receipt = await _city.Intake.SubmitAsync(new AlarmSignal(school.Id, school.DistrictId, terminal.Id, AlarmSource.DeviceApi, false, false, null), Ct);
        return (receipt.AlarmId, school.DistrictId);
    }

    [Fact]
    public async Task AnswerAsync_TwoOperatorsRace_ExactlyOneWins()
    {
        var (id, districtId) = await RaiseAsync();
        var operators = Enumerable.Range(1, 8).Select(i => new UserScope(i, "op" + i, i % 2 == 0 ? Roles.CityOperator : Roles.DistrictOperator, i % 2 == 0 ? null : districtId, null)).ToList();
        var results = await Task.WhenAll(operators.Select(o => _city.Service.AnswerAsync(o, id, "127.0.0.1", Ct)));
        Assert.Single(results, r => r.Succeeded);
        Assert.All(results.Where(r => !r.Succeeded), r => Assert.Equal("AlreadyAnswered", r.Error));
        var view = await _city.Repository.GetViewAsync(id, Ct);
        var winner = operators[Array.FindIndex(results, r => r.Succeeded)];
        Assert.Equal(winner.UserName, view!.AnsweredByName);
        Assert.All(results.Where(r => !r.Succeeded), r => Assert.Equal(winner.UserName, r.Detail));
        Assert.Single(await _city.Repository.GetEventsAsync(id, Ct), e => e.Kind == AlarmEventKind.Answered);
    }

    [Fact]
    public async Task Actions_OtherDistrictOperator_CannotSeeOrTouch()
    {
        var (id, _) = await RaiseAsync("370202");
        var shibei = (await _city.Districts.GetAllAsync(Ct)).Single(d => d.Code == "370203");
        var other = new UserScope(9, "other", Roles.DistrictOperator, shibei.Id, null);
        Assert.Null(await _city.Service.GetAsync(other, id, Ct));
        Assert.Null(await _city.Service.GetTimelineAsync(other, id, Ct));
        Assert.Equal("NotFound", (await _city.Service.AnswerAsync(other, id, null, Ct)).Error);
        Assert.Equal("NotFound", (await _city.Service.AddNoteAsync(other, id, "x", null, Ct)).Error);
        Assert.DoesNotContain(await _city.Service.GetOpenAsync(other, Ct), a => a.Id == id);
        var bureau = new UserScope(10, "bureau", Roles.Bureau, null, null);
        await Assert.ThrowsAsync<ScopeDeniedException>(() => _city.Service.AnswerAsync(bureau, id, null, Ct));
        Assert.Equal(AlarmState.Ringing, (await _city.Repository.GetViewAsync(id, Ct))!.State);
    }

    [Fact]
    public async Task CloseAsync_RealEmergencyWithoutNote_IsRefused_ThenTimelineHasEveryStep()
    {
        var (id, districtId) = await RaiseAsync();
        var op = new UserScope(3, "shinan110", Roles.DistrictOperator, districtId, null);
        Assert.Equal("AnswerFirst", (await _city.Service.CloseAsync(op, id, AlarmDisposition.FalseAlarm, null, null, Ct)).Error);
        Assert.True((await _city.Service.AnswerAsync(op, id, "10.0.0.8", Ct)).Succeeded);
        Assert.True((await _city.Service.AddNoteAsync(op, id, "门卫称有可疑人员", "10.0.0.8", Ct)).Succeeded);
        Assert.True((await _city.Service.DispatchAsync(op, id, "巡逻车2辆 @ 08:01", "10.0.0.8", Ct)).Succeeded);
        Assert.Equal("NoteRequired", (await _city.Service.CloseAsync(op, id, AlarmDisposition.RealEmergency, " ", null, Ct)).Error);
        Assert.Equal("TooLong", (await _city.Service.AddNoteAsync(op, id, new string('x', 1001), null, Ct)).Error);
        Assert.True((await _city.Service.CloseAsync(op, id, AlarmDisposition.RealEmergency, "已处置，嫌疑人带离", "10.0.0.8", Ct)).Succeeded);
        Assert.Equal("AlreadyClosed", (await _city.Service.CloseAsync(op, id, AlarmDisposition.RealEmergency, "again", null, Ct)).Error);

        var timeline = await _city.Service.GetTimelineAsync(op, id, Ct);
        Assert.Equal([AlarmEventKind.Raised, AlarmEventKind.Answered, AlarmEventKind.Note, AlarmEventKind.Dispatch, AlarmEventKind.Closed], timeline!.Select(e => e.Kind));
        Assert.All(timeline!.Skip(1), e => Assert.Equal("shinan110", e.UserName));
        Assert.All(timeline!.Skip(1), e => Assert.Equal("10.0.0.8", e.RemoteAddress));
        Assert.Equal(AlarmDisposition.RealEmergency, (await _city.Repository.GetViewAsync(id, Ct))!.Disposition);
    }

    [Fact]
    public async Task TransferAsync_ToAnotherDistrict_MakesItVisibleThere()
    {
        var (id, districtId) = await RaiseAsync();
        var op = new UserScope(3, "shinan110", Roles.DistrictOperator, districtId, null);
        var shibei = (await _city.Districts.GetAllAsync(Ct)).Single(d => d.Code == "370203");
        var centre = (await _city.Districts.GetCentresAsync(Ct)).Single(c => c.DistrictId == shibei.Id);
        Assert.True((await _city.Service.AnswerAsync(op, id, null, Ct)).Succeeded);
        Assert.True((await _city.Service.TransferAsync(op, id, centre.Id, "辖区交界", null, Ct)).Succeeded);
        var shibeiOp = new UserScope(4, "shibei110", Roles.DistrictOperator, shibei.Id, null);
        Assert.NotNull(await _city.Service.GetAsync(shibeiOp, id, Ct));
        Assert.Equal("UnknownCentre", (await _city.Service.TransferAsync(op, id, 99999, null, null, Ct)).Error);
    }

    [Fact]
    public async Task RaiseTestAsync_Principal_OwnSchoolOnlyAndRateLimited()
    {
        var (school, _) = await _city.SchoolInDistrictAsync("370202");
        var (otherSchool, _) = await _city.SchoolInDistrictAsync("370202", 1);
        var principal = new UserScope(20, "p", Roles.Principal, school.DistrictId, school.Id);
        var id = await _city.Service.RaiseTestAsync(principal, school.Id, acceptance: false, "127.0.0.1", Ct);
        var view = await _city.Repository.GetViewAsync(id, Ct);
        Assert.True(view!.IsTest);
        Assert.Equal(AlarmSource.PortalTest, view.Source);
        await Assert.ThrowsAsync<AlarmRateLimitException>(() => _city.Service.RaiseTestAsync(principal, school.Id, false, null, Ct));
        await Assert.ThrowsAsync<ScopeDeniedException>(() => _city.Service.RaiseTestAsync(principal, otherSchool.Id, false, null, Ct));
        await Assert.ThrowsAsync<ScopeDeniedException>(() => _city.Service.RaiseTestAsync(new UserScope(1, "op", Roles.CityOperator, null, null), school.Id, false, null, Ct));

        // Closed and a minute later, the next test may go.
        var op = new UserScope(3, "op", Roles.CityOperator, null, null);
        await _city.Service.AnswerAsync(op, id, null, Ct);
        await _city.Service.CloseAsync(op, id, AlarmDisposition.Test, null, null, Ct);
        _city.Time.Advance(TimeSpan.FromSeconds(61));
        Assert.NotEqual(id, await _city.Service.RaiseTestAsync(principal, school.Id, false, null, Ct));
    }

    [Fact]
    public async Task Escalator_PastDeadline_EscalatesToCityOnce_EvenAfterARestart()
    {
        var (id, _) = await RaiseAsync("370211");
        var (answeredId, districtId) = await RaiseAsync("370211", 1);
        await _city.Service.AnswerAsync(new UserScope(5, "op", Roles.DistrictOperator, districtId, null), answeredId, null, Ct);

        _city.Time.Advance(TimeSpan.FromSeconds(14));
        Assert.Empty(await _city.Escalator.RunOnceAsync(Ct));
        _city.Time.Advance(TimeSpan.FromSeconds(1));

        // A "restarted" portal: a new escalator over the same database finds the persisted deadline.
        using var restarted = new AlarmEscalator(_city.Repository, _city.Notifier, _city.Time, Microsoft.Extensions.Logging.Abstractions.NullLogger<AlarmEscalator>.Instance);
        Assert.Equal([id], await restarted.RunOnceAsync(Ct));
        Assert.Empty(await _city.Escalator.RunOnceAsync(Ct));

        var view = await _city.Repository.GetViewAsync(id, Ct);
        Assert.Equal(AlarmState.Escalated, view!.State);
        Assert.Null(view.CentreDistrictId);
        Assert.Equal(AlarmState.Answered, (await _city.Repository.GetViewAsync(answeredId, Ct))!.State);
        await using var connection = _city.Database.Db.Open();
        Assert.Equal(1, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM AlarmEvent WHERE Kind = 2"));
    }

    [Fact]
    public async Task Statistics_AnswerPercentiles_ComeFromAnsweredAlarms()
    {
        var op = new UserScope(3, "op", Roles.CityOperator, null, null);
        for (var i = 0; i < 3; i++)
        {
            var (id, _) = await RaiseAsync("370202", i);
            _city.Time.Advance(TimeSpan.FromSeconds(i + 1));
            await _city.Service.AnswerAsync(op, id, null, Ct);
        }

        var stats = new AlarmStatistics(_city.Repository);
        var to = _city.Time.GetUtcNow().UtcDateTime.AddMinutes(1);
        var rows = await stats.GetByDistrictAsync(new UserScope(7, "bureau", Roles.Bureau, null, null), to.AddDays(-1), to, Ct);
        var shinan = Assert.Single(rows);
        Assert.Equal(3, shinan.Total);
        Assert.Equal(2.0, shinan.AnswerP50);
        Assert.Equal(3.0, shinan.AnswerP99);
        await Assert.ThrowsAsync<ScopeDeniedException>(() => stats.GetByDistrictAsync(new UserScope(8, "p", Roles.Principal, shinan.DistrictId, 1), to.AddDays(-1), to, Ct));
    }
}
