using Microsoft.Extensions.Time.Testing;
using Portal.Alarms;
using Portal.Core.Alarms;
using Portal.Core.Security;
using Xunit;

namespace Portal.Tests.Portal.Alarms;

/// <summary>
/// The console's board rules on a fake clock: what it holds and in what order, what it may drop, what pops up,
/// what the header says, and when it draws (the rules that decide an alarm's latency on a console).
/// </summary>
public sealed class AlarmBoardTests : IDisposable
{
    private const int Shinan = 2;
    private const int Shibei = 3;

    private static readonly UserScope City = new(1, "city110", Roles.CityOperator, null, null);
    private static readonly UserScope ShinanOperator = new(2, "shinan110", Roles.DistrictOperator, Shinan, null);

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 2, 8, 0, 0, TimeSpan.Zero));
    private readonly List<AlarmBoard> _boards = [];
    private int _draws;

    public void Dispose()
    {
        foreach (var board in _boards)
        {
            board.Dispose();
        }
    }

    private AlarmBoard Board(UserScope? scope = null, TimeSpan renderInterval = default)
    {
        // The dispatcher runs at once here; on a console it is the circuit's InvokeAsync.
        var board = new AlarmBoard(scope ?? City, _time, () => _draws++, action =>
        {
            action();
            return Task.CompletedTask;
        }, renderInterval);
        _boards.Add(board);
        return board;
    }

    private AlarmView Alarm(int id, AlarmState state = AlarmState.Ringing, int district = Shinan, int? centreDistrict = Shinan) => new()
    {
        Id = id,
        SchoolId = 1000 + id,
        DistrictId = district,
        CentreId = centreDistrict ?? 1,
        CentreDistrictId = centreDistrict,
        State = state,
        RaisedUtc = _time.GetUtcNow().UtcDateTime,
        ClosedUtc = state == AlarmState.Closed ? _time.GetUtcNow().UtcDateTime : null,
        SchoolName = "school " + id,
    };

    private static AlarmChange Raised(AlarmView alarm) => new(alarm, AlarmEventKind.Raised);

    [Fact]
    public void Apply_NewAlarmOnAQuietBoard_DrawsAtOnce_PopsUpAndNotifies()
    {
        var board = Board();
        board.Apply(Raised(Alarm(1)));

        Assert.Equal(1, _draws);
        Assert.Equal(1, board.Selected);
        Assert.Equal(1, board.NotifySeq);
        Assert.Equal(1, board.NotifyAlarm!.Id);
        Assert.Equal(new BoardCounts(1, 1, 1), board.Shown);
    }

    [Fact]
    public void Apply_WhileTheLastDrawIsUnconfirmed_WaitsForTheBrowser_ThenOneDrawCarriesEverything()
    {
        var board = Board();
        board.Apply(Raised(Alarm(1)));
        board.Apply(Raised(Alarm(2)));
        board.Apply(Raised(Alarm(3)));
        Assert.Equal(1, _draws);

        // The browser applied the first draw: the next one goes at once, with both alarms that came meanwhile.
        board.Rendered();
        Assert.Equal(2, _draws);
        Assert.Equal([1, 2, 3], board.Slice(0).Select(a => a.Id));

        // Nothing new: a confirmation draws nothing.
        board.Rendered();
        Assert.Equal(2, _draws);
        Assert.Equal(1, board.Selected); // the first alarm's pop-up stays; the others wait on the board
        Assert.Equal(3, board.NotifySeq);
    }

    [Fact]
    public void Apply_BrowserNeverConfirms_DrawsAgainAfterTheAckTimeout()
    {
        var board = Board();
        board.Apply(Raised(Alarm(1)));
        board.Apply(Raised(Alarm(2)));
        _time.Advance(AlarmBoard.AckTimeout - TimeSpan.FromMilliseconds(1));
        Assert.Equal(1, _draws);
        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(2, _draws);
    }

    [Fact]
    public void Apply_WithARenderInterval_DrawsAtMostOncePerInterval()
    {
        var board = Board(renderInterval: TimeSpan.FromMilliseconds(70));
        board.Apply(Raised(Alarm(1)));
        board.Rendered();
        _time.Advance(TimeSpan.FromMilliseconds(10));
        board.Apply(Raised(Alarm(2)));
        board.Rendered(); // a confirmation does not shorten the interval
        Assert.Equal(1, _draws);
        _time.Advance(TimeSpan.FromMilliseconds(59));
        Assert.Equal(1, _draws);
        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(2, _draws);
    }

    [Fact]
    public void Slices_ArrivalOrder_ANewAlarmJoinsTheEnd_AndAChangeRedrawsOnlyItsSlice()
    {
        var board = Board();
        for (var id = 1; id <= 120; id++)
        {
            board.Apply(Raised(Alarm(id)));
            board.Rendered();
        }

        Assert.Equal(3, board.SliceCount);
        Assert.Equal(Enumerable.Range(1, 50), board.Slice(0).Select(a => a.Id));
        Assert.Equal(Enumerable.Range(101, 20), board.Slice(2).Select(a => a.Id));
        Assert.True(board.SliceIsFull(0)); // drawn as one piece of HTML (AlarmChunk)
        Assert.True(board.SliceIsFull(1));
        Assert.False(board.SliceIsFull(2)); // the slice that grows: drawn as elements

        var versions = Enumerable.Range(0, 3).Select(board.SliceVersion).ToList();
        board.Apply(new AlarmChange(Alarm(5, AlarmState.Answered), AlarmEventKind.Answered));
        Assert.NotEqual(versions[0], board.SliceVersion(0));
        Assert.Equal(versions[1], board.SliceVersion(1));
        Assert.Equal(versions[2], board.SliceVersion(2));
        Assert.Equal(AlarmState.Answered, board.Slice(0).ElementAt(4).State);
    }

    [Fact]
    public void Load_OpenAlarmsInAnyOrder_OldestFirst_NothingPopsUpOrNotifies()
    {
        var board = Board();
        var older = Alarm(7);
        _time.Advance(TimeSpan.FromSeconds(5));
        var newer = Alarm(3);
        board.Load([newer, older]);

        Assert.Equal([7, 3], board.Slice(0).Select(a => a.Id));
        Assert.Null(board.Selected);
        Assert.Equal(0, board.NotifySeq);
        Assert.Equal(new BoardCounts(2, 2, 1), board.Shown);
    }

    [Fact]
    public void Trim_OpenAlarmsAreNeverDropped_ClosedOnesBeyondTheAllowanceAre_ThePoppedUpOneStays()
    {
        var board = Board();
        for (var id = 1; id <= 1200; id++)
        {
            board.Apply(Raised(Alarm(id)));
        }

        Assert.Equal(1200, board.Alarms.Count); // a burst bigger than any cap: every open alarm stays (DESIGN.md)

        board.Select(1);
        for (var id = 1; id <= AlarmBoard.ClosedKept + 10; id++)
        {
            _time.Advance(TimeSpan.FromSeconds(1));
            board.Apply(new AlarmChange(Alarm(id, AlarmState.Closed), AlarmEventKind.Closed));
        }

        // Kept: the 20 most recently closed, and alarm 1 (its pop-up is open); dropped: 2..10.
        Assert.Equal(1200 - 9, board.Alarms.Count);
        Assert.Contains(1, board.Alarms.Keys);
        Assert.DoesNotContain(2, board.Alarms.Keys);
        Assert.Contains(11, board.Alarms.Keys);
        Assert.Equal(new BoardCounts(1200 - 30, 1200 - 30, 1), board.Live);
        Assert.Equal(1, board.Slice(0).First().Id);
        Assert.Equal(11, board.Slice(0).ElementAt(1).Id);
    }

    [Fact]
    public void Counts_UnderAFlood_TickAtMostOnceASecond_ButTheBannerAndRingLevelNeverWait()
    {
        var board = Board();
        board.Apply(Raised(Alarm(1)));
        board.Rendered();
        Assert.Equal(new BoardCounts(1, 1, 1), board.Shown);

        _time.Advance(TimeSpan.FromMilliseconds(100));
        board.Apply(Raised(Alarm(2)));
        board.Rendered();
        Assert.Equal(2, _draws); // the card goes out at once...
        Assert.Equal(new BoardCounts(1, 1, 1), board.Shown); // ...the count waits

        // An escalation changes the ring level: shown at once, with the count.
        _time.Advance(TimeSpan.FromMilliseconds(100));
        board.Apply(new AlarmChange(Alarm(1, AlarmState.Escalated, centreDistrict: null), AlarmEventKind.Escalated));
        board.Rendered();
        Assert.Equal(new BoardCounts(2, 2, 2), board.Shown);
        Assert.Equal(3, board.NotifySeq);

        _time.Advance(TimeSpan.FromMilliseconds(100));
        board.Apply(Raised(Alarm(3)));
        board.Rendered();
        Assert.Equal(new BoardCounts(2, 2, 2), board.Shown);
        var draws = _draws;
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(draws + 1, _draws); // the held-back count draws by itself
        Assert.Equal(new BoardCounts(3, 3, 2), board.Shown);
    }

    [Fact]
    public void Transfer_AwayFromThisConsolesScope_LeavesTheBoard()
    {
        var board = Board(ShinanOperator);
        var alarm = Alarm(1, district: Shibei, centreDistrict: Shinan); // a Shibei school's alarm passed to Shinan
        board.Apply(new AlarmChange(alarm, AlarmEventKind.Transferred, Shibei));
        Assert.Equal(1, board.Selected);
        Assert.Equal(new BoardCounts(1, 1, 1), board.Live);

        // Shinan passes it on to a third district: out of Shinan's scope, off its board, no more ringing.
        board.Apply(new AlarmChange(Alarm(1, district: Shibei, centreDistrict: 9), AlarmEventKind.Transferred, Shinan));
        Assert.Empty(board.Alarms);
        Assert.Null(board.Selected);
        Assert.Equal(new BoardCounts(0, 0, 0), board.Live);
    }

    [Fact]
    public void Transfer_OfThisDistrictsAlarm_ToAnotherCentre_StaysButRingsThereNotHere()
    {
        var board = Board(ShinanOperator);
        board.Apply(Raised(Alarm(1, AlarmState.Answered)));
        Assert.Equal(0, board.NotifySeq);

        var passedOn = Alarm(1, district: Shinan, centreDistrict: Shibei);
        board.Apply(new AlarmChange(passedOn, AlarmEventKind.Transferred, Shinan));
        Assert.Contains(1, board.Alarms.Keys);
        Assert.False(board.RingsHere(passedOn));
        Assert.Equal(new BoardCounts(1, 0, 0), board.Live);
        Assert.Equal(0, board.NotifySeq);

        // Transferred back: it rings here again, and says so.
        board.Apply(new AlarmChange(Alarm(1), AlarmEventKind.Transferred, Shibei));
        Assert.Equal(new BoardCounts(1, 1, 1), board.Live);
        Assert.Equal(1, board.NotifySeq);
    }

    [Fact]
    public void Dispose_TimersThatFireAfterwards_DrawNothing()
    {
        var board = Board();
        board.Apply(Raised(Alarm(1)));
        board.Apply(Raised(Alarm(2)));
        board.Dispose();
        _time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(1, _draws);
    }
}
