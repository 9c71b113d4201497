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

    /// <summary>Records what a console of a scope hears from the notifier, and waits for a change of one alarm.</summary>
    private sealed class Console
    {
        private readonly System.Threading.Channels.Channel<AlarmChange> _heard = System.Threading.Channels.Channel.CreateUnbounded<AlarmChange>();

        public Console(AlarmNotifier notifier, UserScope scope) => Subscription = notifier.Subscribe(scope, c => _heard.Writer.WriteAsync(c).AsTask());

        public IDisposable Subscription { get; }

        public async Task<AlarmChange> NextAsync(int alarmId, AlarmEventKind kind)
        {
            while (true)
            {
                var change = await _heard.Reader.ReadAsync(Ct).AsTask().WaitAsync(TimeSpan.FromSeconds(30), Ct);
                if (change.Alarm.Id == alarmId && change.Kind == kind)
                {
                    return change;
                }
            }
        }
    }

    [Fact]
    public async Task TransferAsync_Chain_EveryCentreThatHeldItHears_TheReceiverRingsWithItsOwnDeadline()
    {
        var all = await _city.Districts.GetAllAsync(Ct);
        var centres = await _city.Districts.GetCentresAsync(Ct);
        var (shinan, shibei, huangdao) = (all.Single(d => d.Code == "370202"), all.Single(d => d.Code == "370203"), all.Single(d => d.Code == "370211"));
        var shibeiCentre = centres.Single(c => c.DistrictId == shibei.Id);
        var huangdaoCentre = centres.Single(c => c.DistrictId == huangdao.Id);
        var cityCentre = centres.Single(c => c.DistrictId is null);
        await _city.Districts.UpdateDeadlineAsync(shibeiCentre.Id, 40, Ct);
        await _city.Districts.UpdateDeadlineAsync(huangdaoCentre.Id, 50, Ct);
        var shinanOp = new UserScope(3, "shinan110", Roles.DistrictOperator, shinan.Id, null);
        var shibeiOp = new UserScope(4, "shibei110", Roles.DistrictOperator, shibei.Id, null);
        var huangdaoOp = new UserScope(5, "huangdao110", Roles.DistrictOperator, huangdao.Id, null);
        var cityOp = new UserScope(6, "city110", Roles.CityOperator, null, null);
        var shibeiConsole = new Console(_city.Notifier, shibeiOp);
        var huangdaoConsole = new Console(_city.Notifier, huangdaoOp);
        using var _ = shibeiConsole.Subscription;
        using var __ = huangdaoConsole.Subscription;

        var (id, _) = await RaiseAsync("370202");
        Assert.True((await _city.Service.AnswerAsync(shinanOp, id, null, Ct)).Succeeded);

        // Shinan -> Shibei: it rings at Shibei with Shibei's deadline, and Shibei's console hears it.
        _city.Time.Advance(TimeSpan.FromSeconds(3));
        Assert.True((await _city.Service.TransferAsync(shinanOp, id, shibeiCentre.Id, "辖区交界", "10.0.0.8", Ct)).Succeeded);
        var atShibei = (await shibeiConsole.NextAsync(id, AlarmEventKind.Transferred)).Alarm;
        Assert.Equal(AlarmState.Ringing, atShibei.State);
        Assert.Equal(shibei.Id, atShibei.CentreDistrictId);
        Assert.Equal(_city.Time.GetUtcNow().UtcDateTime.AddSeconds(40), atShibei.AnswerDeadlineUtc);
        Assert.Null(atShibei.AnsweredByName);
        Assert.True(AlarmNotifier.RingsFor(shibeiOp, atShibei));
        Assert.False(AlarmNotifier.RingsFor(shinanOp, atShibei)); // passed on: it no longer rings where it came from
        Assert.Equal("NotYourCentre", (await _city.Service.TransferAsync(shinanOp, id, huangdaoCentre.Id, null, null, Ct)).Error);

        // Shibei answers (no NotFound) and passes it on to Huangdao: Shibei's console still hears of it, though it
        // is out of Shibei's scope now, so the console can take it off the board and stop ringing.
        Assert.True((await _city.Service.AnswerAsync(shibeiOp, id, null, Ct)).Succeeded);
        Assert.True((await _city.Service.TransferAsync(shibeiOp, id, huangdaoCentre.Id, null, null, Ct)).Succeeded);
        var leftShibei = await shibeiConsole.NextAsync(id, AlarmEventKind.Transferred);
        Assert.Equal(shibei.Id, leftShibei.FormerCentreDistrictId);
        Assert.False(AlarmNotifier.CanSee(shibeiOp, leftShibei.Alarm));
        Assert.Null(await _city.Service.GetAsync(shibeiOp, id, Ct));
        Assert.Equal("NotFound", (await _city.Service.AnswerAsync(shibeiOp, id, null, Ct)).Error);
        var atHuangdao = (await huangdaoConsole.NextAsync(id, AlarmEventKind.Transferred)).Alarm;
        Assert.Equal(AlarmState.Ringing, atHuangdao.State);
        Assert.Equal(_city.Time.GetUtcNow().UtcDateTime.AddSeconds(50), atHuangdao.AnswerDeadlineUtc);

        // Unanswered at Huangdao: escalated to the city, and Huangdao's console hears it go.
        _city.Time.Advance(TimeSpan.FromSeconds(51));
        Assert.Equal([id], await _city.Escalator.RunOnceAsync(Ct));
        Assert.Equal(huangdao.Id, (await huangdaoConsole.NextAsync(id, AlarmEventKind.Escalated)).FormerCentreDistrictId);

        // A city alarm is the city's to pass on, not a district's (not even the school's own).
        Assert.Equal("NotYourCentre", (await _city.Service.TransferAsync(shinanOp, id, centres.Single(c => c.DistrictId == shinan.Id).Id, null, null, Ct)).Error);
        Assert.Equal("NotFound", (await _city.Service.TransferAsync(huangdaoOp, id, huangdaoCentre.Id, null, null, Ct)).Error); // out of its scope again
        Assert.Equal("UnknownCentre", (await _city.Service.TransferAsync(cityOp, id, cityCentre.Id, null, null, Ct)).Error);
        Assert.True((await _city.Service.TransferAsync(cityOp, id, shibeiCentre.Id, null, null, Ct)).Succeeded);
        Assert.NotNull(await _city.Service.GetAsync(shibeiOp, id, Ct));

        // The timeline keeps every hand-over as a centre id (worded per reader), and the note as typed.
        var timeline = (await _city.Service.GetTimelineAsync(cityOp, id, Ct))!;
        Assert.Equal([shibeiCentre.Id, huangdaoCentre.Id, shibeiCentre.Id], timeline.Where(e => e.Kind == AlarmEventKind.Transferred).Select(e => e.CentreId!.Value));
        Assert.Equal("辖区交界", timeline.First(e => e.Kind == AlarmEventKind.Transferred).Text);
        Assert.Equal(cityCentre.Id, timeline.Single(e => e.Kind == AlarmEventKind.Escalated).CentreId);
        Assert.Equal(shibeiCentre.NameEn, timeline.First(e => e.Kind == AlarmEventKind.Transferred).CentreNameEn);

        // Answer time counts from the first answer, not the last.
        var view = await _city.Repository.GetViewAsync(id, Ct);
        Assert.Equal(_city.Time.GetUtcNow().UtcDateTime.AddSeconds(-54), view!.AnsweredUtc);
    }

    [Fact]
    public async Task GetTimelineAsync_PrincipalAndBureau_ReadNoPoliceDetails()
    {
        var (school, _) = await _city.SchoolInDistrictAsync("370202");
        var (id, districtId) = await RaiseAsync();
        var op = new UserScope(3, "shinan110", Roles.DistrictOperator, districtId, null);
        await _city.Service.AnswerAsync(op, id, "10.0.0.8", Ct);
        await _city.Service.AddNoteAsync(op, id, "嫌疑人穿黑色外套", "10.0.0.8", Ct);
        await _city.Service.DispatchAsync(op, id, "巡逻车2辆 @ 08:01", "10.0.0.8", Ct);
        await _city.Service.CloseAsync(op, id, AlarmDisposition.RealEmergency, "已将嫌疑人带离", "10.0.0.8", Ct);

        var police = (await _city.Service.GetTimelineAsync(op, id, Ct))!;
        Assert.Contains(police, e => e.Kind == AlarmEventKind.Note);
        Assert.Contains(police, e => e.RemoteAddress == "10.0.0.8");
        Assert.Equal("已将嫌疑人带离", police.Single(e => e.Kind == AlarmEventKind.Closed).Text);

        foreach (var reader in new[]
        {
            new UserScope(20, "principal", Roles.Principal, school.DistrictId, school.Id),
            new UserScope(21, "bureau", Roles.Bureau, null, null),
            new UserScope(22, "bureau-shinan", Roles.Bureau, school.DistrictId, null),
        })
        {
            var timeline = (await _city.Service.GetTimelineAsync(reader, id, Ct))!;
            Assert.Equal([AlarmEventKind.Raised, AlarmEventKind.Answered, AlarmEventKind.Closed], timeline.Select(e => e.Kind));
            Assert.All(timeline, e => Assert.Null(e.RemoteAddress));
            Assert.All(timeline, e => Assert.Null(e.Text));
            Assert.Equal(AlarmDisposition.RealEmergency, timeline.Single(e => e.Kind == AlarmEventKind.Closed).Disposition);
            Assert.Equal(AlarmSource.DeviceApi, timeline[0].Source);
        }
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
