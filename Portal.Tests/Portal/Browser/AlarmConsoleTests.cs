using Dapper;
using Microsoft.Playwright;
using Portal.Core.Schools;
using Xunit;

namespace Portal.Tests.Portal.Browser;

/// <summary>
/// A press of a (simulated) terminal reaches the right consoles in Chromium, is answered by exactly one
/// operator, escalates when nobody answers, and is closed with a complete timeline. Demo terminal
/// ATSnnnnnnnn belongs to school n, in district n % 10 (0 市南区, 1 市北区, 2 黄岛区...).
/// </summary>
[Trait("Category", "Browser")]
public sealed class AlarmConsoleTests(PortalFixture portal)
{
    private async Task<int> PressAsync(string serial) => await DemoPress.AlarmAsync((await portal.GetPortalAsync()).BaseUrl, serial);

    private static ILocator Card(IPage page, int id) => page.Locator($"[data-testid=alarm-card][data-alarm-id='{id}']");

    private async Task<(IBrowserContext, IPage)> ConsoleAsync(string user)
    {
        var (context, page) = await portal.SignInAsync(user);
        Assert.EndsWith("/police", page.Url, StringComparison.Ordinal);
        await Assertions.Expect(page.GetByTestId("alarm-board")).ToBeVisibleAsync();
        return (context, page);
    }

    [Fact]
    public async Task Alarm_FromShinanSchool_RingsShinanAndCity_NotShibei()
    {
        var (a, shinan) = await ConsoleAsync("shinan110");
        var (b, city) = await ConsoleAsync("city110");
        var (c, shibei) = await ConsoleAsync("shibei110");
        await using var _ = a;
        await using var __ = b;
        await using var ___ = c;

        // Record the browser notifications each console raises (headless Chromium has no notification permission).
        foreach (var page in new[] { shinan, city, shibei })
        {
            await page.EvaluateAsync("() => { window.__notified = []; window.portalAlarm.notify = (title, body, tag) => window.__notified.push(tag); }");
        }

        var id = await PressAsync("ATS00000010");
        await Assertions.Expect(Card(shinan, id)).ToBeVisibleAsync();
        await Assertions.Expect(Card(city, id)).ToBeVisibleAsync();
        await Assertions.Expect(shinan.GetByTestId("alarm-banner")).ToBeVisibleAsync();

        // The board hands the ring level, the flashing title and the notification to alarm.js through one watched element.
        foreach (var page in new[] { shinan, city })
        {
            await page.WaitForFunctionAsync("id => window.__notified.includes('alarm-' + id) && window.portalAlarm._level >= 1 && document.title.startsWith('🚨')", id);
        }

        // A pop-up opens by itself for the first alarm that arrives; tests running beside this one may have
        // raised that one, so open this alarm's pop-up by its card.
        await Assertions.Expect(shinan.Locator("[data-testid=alarm-popup]")).ToBeVisibleAsync();
        await Card(shinan, id).DispatchEventAsync("click");
        var popup = shinan.Locator($"[data-testid=alarm-popup][data-alarm-id='{id}']");
        await Assertions.Expect(popup).ToBeVisibleAsync();
        await Assertions.Expect(popup.GetByTestId("popup-phone")).Not.ToBeEmptyAsync();
        await Assertions.Expect(popup.GetByTestId("gate-camera")).ToBeVisibleAsync();

        // Give the other district's console every chance to (wrongly) show it. Other tests raise Shibei alarms
        // at the same time, so its console may well ring and pop up: what it must never show is anything from
        // outside its district, this alarm first of all.
        await Task.Delay(1500);
        await Assertions.Expect(Card(shibei, id)).ToHaveCountAsync(0);
        await Assertions.Expect(shibei.Locator($"[data-testid=alarm-popup][data-alarm-id='{id}']")).ToHaveCountAsync(0);
        Assert.False(await shibei.EvaluateAsync<bool>("id => window.__notified.includes('alarm-' + id)", id));
        var shown = await shibei.EvaluateAsync<int[]>("""
            () => [...document.querySelectorAll('[data-testid=alarm-card], [data-testid=alarm-popup]')].map(e => Number(e.dataset.alarmId))
            """);
        await using var connection = (await portal.GetPortalAsync()).Db.Open();
        foreach (var other in shown.Distinct())
        {
            // The scope rule (AlarmNotifier.CanSee): the district's own schools, or an alarm at the district's centre.
            var ours = await connection.ExecuteScalarAsync<long>("""
                SELECT COUNT(*) FROM Alarm a JOIN District d ON d.Code = '370203' LEFT JOIN PoliceCentre c ON c.Id = a.CentreId
                WHERE a.Id = @other AND (a.DistrictId = d.Id OR c.DistrictId = d.Id)
                """, new { other });
            Assert.True(ours == 1, $"alarm {other} of another district on the Shibei console");
        }
    }

    [Fact]
    public async Task Board_IsAQueue_TheLongestWaitingOnTop_AndCardsOnScreenStayPut()
    {
        var (a, shinan) = await ConsoleAsync("shinan110");
        await using var _ = a;
        var older = await PressAsync("ATS00000070");
        await Assertions.Expect(Card(shinan, older)).ToBeVisibleAsync();
        var before = await Card(shinan, older).BoundingBoxAsync();

        var newer = await PressAsync("ATS00000080");
        await Assertions.Expect(Card(shinan, newer)).ToBeVisibleAsync();
        var after = await Card(shinan, older).BoundingBoxAsync();
        var added = await Card(shinan, newer).BoundingBoxAsync();

        // The new alarm joins the end of the queue; the card already on screen does not move (no repaint of the board).
        Assert.NotNull(before);
        Assert.NotNull(after);
        Assert.NotNull(added);
        Assert.True(added.Y > after.Y, $"newer card at y={added.Y}, older at y={after.Y}");
        Assert.Equal(before.Y, after.Y);
        await Assertions.Expect(shinan.GetByTestId("alarm-board")).ToContainTextAsync("等待最久的在最上");

        // The banner's number may lag a flood by up to a second, but it catches up: it counts the cards waiting to be answered.
        await shinan.WaitForFunctionAsync("""
            () => {
              const banner = document.querySelector('[data-testid=alarm-banner]');
              const waiting = document.querySelectorAll('[data-testid=alarm-card][data-state=Ringing], [data-testid=alarm-card][data-state=Escalated]').length;
              return banner && banner.textContent.startsWith(waiting + ' ');
            }
            """, null, new PageWaitForFunctionOptions { Timeout = 5_000 });
    }

    [Fact]
    public async Task Answer_TwoOperatorsRace_ExactlyOneWins()
    {
        var (a, shinan) = await ConsoleAsync("shinan110");
        var (b, city) = await ConsoleAsync("city110");
        await using var _ = a;
        await using var __ = b;
        var id = await PressAsync("ATS00000020");
        // Other tests raise alarms at the same time: open this alarm's pop-up by its card.
        foreach (var page in new[] { shinan, city })
        {
            await Card(page, id).DispatchEventAsync("click");
        }

        var popups = new[] { shinan, city }.Select(p => p.Locator($"[data-testid=alarm-popup][data-alarm-id='{id}']")).ToList();
        foreach (var popup in popups)
        {
            await Assertions.Expect(popup.GetByTestId("answer")).ToBeVisibleAsync();
        }

        // Both click at once; the loser's button may already be gone, which is fine.
        await Task.WhenAll(popups.Select(async p =>
        {
            try
            {
                await p.GetByTestId("answer").ClickAsync(new LocatorClickOptions { Timeout = 3000 });
            }
            catch (TimeoutException)
            {
            }
        }));

        // The clicks return before the server has acted: wait for the boards, then check the record.
        await Assertions.Expect(Card(shinan, id)).ToHaveAttributeAsync("data-state", "Answered");
        await Assertions.Expect(Card(city, id)).ToHaveAttributeAsync("data-state", "Answered");
        await using var connection = (await portal.GetPortalAsync()).Db.Open();
        var answeredBy = await connection.QuerySingleAsync<string>("SELECT AnsweredByName FROM Alarm WHERE Id = @id", new { id });
        Assert.True(answeredBy is "shinan110" or "city110", answeredBy);
        Assert.Equal(1, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM AlarmEvent WHERE AlarmId = @id AND Kind = 3", new { id }));
        foreach (var page in new[] { shinan, city })
        {
            await Assertions.Expect(Card(page, id).GetByTestId("answered-by")).ToContainTextAsync(answeredBy);
            await Assertions.Expect(Card(page, id)).ToHaveAttributeAsync("data-state", "Answered");
        }
    }

    [Fact]
    public async Task Alarm_UnansweredPastDeadline_EscalatesToTheCity()
    {
        await portal.GetBrowserAsync();
        var districts = new DistrictRepository((await portal.GetPortalAsync()).Db);
        var huangdao = (await districts.GetAllAsync()).Single(d => d.Code == "370211");
        var centre = (await districts.GetCentresAsync()).Single(c => c.DistrictId == huangdao.Id);
        await districts.UpdateDeadlineAsync(centre.Id, 5);

        var (a, city) = await ConsoleAsync("city110");
        await using var _ = a;
        var id = await PressAsync("ATS00000002");
        await Assertions.Expect(Card(city, id)).ToHaveAttributeAsync("data-state", "Ringing");
        await Assertions.Expect(Card(city, id)).ToHaveAttributeAsync("data-state", "Escalated", new LocatorAssertionsToHaveAttributeOptions { Timeout = 10_000 });
        await Card(city, id).DispatchEventAsync("click");
        await Assertions.Expect(city.Locator($"[data-testid=alarm-popup][data-alarm-id='{id}']").GetByTestId("popup-centre")).ToContainTextAsync("青岛市110指挥中心");

        await using var connection = (await portal.GetPortalAsync()).Db.Open();
        var row = await connection.QuerySingleAsync<(string Raised, string Escalated)>("SELECT RaisedUtc, EscalatedUtc FROM Alarm WHERE Id = @id", new { id });
        var late = DateTime.Parse(row.Escalated, System.Globalization.CultureInfo.InvariantCulture) - DateTime.Parse(row.Raised, System.Globalization.CultureInfo.InvariantCulture);
        // Deadline 5 s; the escalator checks every 250 ms. The slack is for a loaded CI machine, not for the design.
        Assert.InRange(late.TotalSeconds, 5, 7.5);
    }

    [Fact]
    public async Task Close_RecordsDispositionAndTheTimelineShowsEveryStep()
    {
        var (a, shinan) = await ConsoleAsync("shinan110");
        await using var _ = a;
        var id = await PressAsync("ATS00000030");
        await Card(shinan, id).DispatchEventAsync("click");
        var popup = shinan.Locator($"[data-testid=alarm-popup][data-alarm-id='{id}']");
        await popup.GetByTestId("answer").ClickAsync();
        await popup.GetByTestId("note-text").FillAsync("门卫报告有人翻越围墙");
        await popup.GetByTestId("note-add").ClickAsync();
        await Assertions.Expect(popup.GetByTestId("note-text")).ToBeEmptyAsync();
        await popup.GetByTestId("dispatch-text").FillAsync("巡逻车2辆");
        await popup.GetByTestId("dispatch-add").ClickAsync();
        await Assertions.Expect(popup.GetByTestId("dispatch-text")).ToBeEmptyAsync();

        // A real emergency needs a closing note: refused first, then accepted.
        await popup.GetByTestId("disposition").ClickAsync();
        await shinan.Locator(".mud-popover-open").GetByText("真实警情", new() { Exact = true }).ClickAsync();
        await popup.GetByTestId("close-alarm").ClickAsync();
        await Assertions.Expect(shinan.Locator(".alarm-action-error")).ToContainTextAsync("须填写处置说明");
        await popup.GetByTestId("close-note").FillAsync("已将翻墙人员带离");
        await popup.GetByTestId("close-alarm").ClickAsync();
        await Assertions.Expect(Card(shinan, id)).ToHaveAttributeAsync("data-state", "Closed");

        await shinan.GotoAsync($"/alarms/{id}");
        await PortalFixture.WaitInteractiveAsync(shinan);
        await Assertions.Expect(shinan.GetByTestId("alarm-disposition")).ToContainTextAsync("真实警情");
        var kinds = await shinan.GetByTestId("timeline-event").EvaluateAllAsync<string[]>("els => els.map(e => e.dataset.kind)");
        Assert.Equal(["Raised", "Answered", "Note", "Dispatch", "Closed"], kinds);
        await Assertions.Expect(shinan.GetByTestId("timeline")).ToContainTextAsync("巡逻车2辆");
        await Assertions.Expect(shinan.GetByTestId("timeline")).ToContainTextAsync("127.0.0.1");
    }

    [Fact]
    public async Task Console_ThatLosesItsConnection_ShowsItAndCatchesUp()
    {
        var (a, city) = await ConsoleAsync("city110");
        await using var _ = a;
        // Cut the circuit's connection and keep the network down, as a dropped police LAN would.
        await a.SetOfflineAsync(true);
        await city.EvaluateAsync("() => Blazor._internal.forceCloseConnection()");
        await Assertions.Expect(city.GetByTestId("reconnect-banner")).ToBeVisibleAsync(new LocatorAssertionsToBeVisibleOptions { Timeout = 20_000 });

        var ids = new[] { await PressAsync("ATS00000041"), await PressAsync("ATS00000042") };
        await a.SetOfflineAsync(false);
        foreach (var id in ids)
        {
            await Assertions.Expect(Card(city, id)).ToBeVisibleAsync(new LocatorAssertionsToBeVisibleOptions { Timeout = 30_000 });
        }

        await Assertions.Expect(city.GetByTestId("reconnect-banner")).Not.ToBeVisibleAsync();
    }

    [Fact]
    public async Task Principal_StartsTestAlarm_ItRingsTheDistrictMarkedAsTest()
    {
        var (a, shinan) = await ConsoleAsync("shinan110");
        var (b, principal) = await portal.SignInAsync("principal0");
        await using var _ = a;
        await using var __ = b;
        await principal.GotoAsync("/principal/alarms");
        await PortalFixture.WaitInteractiveAsync(principal);
        await principal.GetByTestId("start-test-alarm").ClickAsync();
        await Assertions.Expect(principal.GetByTestId("history-school")).ToHaveCountAsync(1);
        var card = shinan.Locator("[data-testid=alarm-card]").Filter(new() { Has = shinan.GetByTestId("test-badge") });
        await Assertions.Expect(card.First).ToBeVisibleAsync();
        await Assertions.Expect(card.First.GetByTestId("test-badge")).ToHaveTextAsync("测试报警");

        // Rate-limited: a second press right away is refused with a clear message.
        await principal.GetByTestId("start-test-alarm").ClickAsync();
        await Assertions.Expect(principal.GetByText("请稍后再试")).ToBeVisibleAsync();
    }
}
