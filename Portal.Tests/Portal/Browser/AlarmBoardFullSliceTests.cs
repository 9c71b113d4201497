using Dapper;
using Microsoft.Playwright;
using Portal.Alarms;
using Portal.Core.Demo;
using Xunit;

namespace Portal.Tests.Portal.Browser;

/// <summary>
/// A console whose board fills whole slices: a full slice is drawn as one piece of HTML, the growing one as elements,
/// and one that fills card by card keeps its elements (AlarmChunk). In Chromium the cards of both are the same to a person and to the page's script: each alarm once,
/// in arrival order, its school's name as text even when the name holds markup, a click opens its pop-up, and a
/// change to a card in a full slice (answered) reaches it. A portal of its own, so the board holds just these alarms.
/// </summary>
[Trait("Category", "Browser")]
public sealed class AlarmBoardFullSliceTests(PortalFixture fixture)
{
    // Two full slices and twenty cards in the third.
    private const int Presses = (2 * AlarmBoard.ChunkSize) + 20;

    private const string Hostile = "<img src=x onerror=\"window.__xss=1\">第一中学 & 'x' </b><i>";

    [Fact(Timeout = 600_000)]
    public async Task FullSlices_ShowEveryCardAsText_InArrivalOrder_OpenTheirPopup_AndTakeChanges()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var portal = await PortalProcess.StartAsync(new PortalProcessOptions
        {
            DemoSchoolCount = Presses,
            Arguments = ["--Portal:DeviceRateLimits:PerAddressBurst=1000000", "--Portal:DeviceRateLimits:PerAddressPerSecond=1000000"],
        });
        await using (var connection = portal.Db.Open())
        {
            // No alarm may fall due during the test (the demo district centres' deadline is 15 s): every card stays Ringing.
            await connection.ExecuteAsync("UPDATE PoliceCentre SET AnswerDeadlineSeconds = 600");
            Assert.Equal(1, await connection.ExecuteAsync(
                "UPDATE School SET Name = @Hostile WHERE Id = (SELECT SchoolId FROM Device WHERE SerialNumber = 'ATS00000000')", new { Hostile }));
        }

        var browser = await fixture.GetBrowserAsync();
        await using var context = await browser.NewPatientContextAsync(new() { BaseURL = portal.BaseUrl });
        var page = await context.NewPageAsync();
        await page.GotoAsync("/");
        await fixture.CompleteSignInAsync(page, "city110");
        await Assertions.Expect(page.GetByTestId("alarm-board")).ToBeVisibleAsync();

        // The school with the hostile name first, then one by one until the first slice lacks one card (drawn as elements).
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 64 }) { BaseAddress = new Uri(portal.BaseUrl) };
        var cards = page.Locator("[data-testid=alarm-card]");
        var ids = new List<int>();
        for (var i = 0; i < AlarmBoard.ChunkSize - 1; i++)
        {
            ids.Add(await PressAsync(http, i, ct));
            await Assertions.Expect(cards).ToHaveCountAsync(i + 1);
        }

        var first = ids[0];
        var firstCard = page.Locator($"[data-testid=alarm-card][data-alarm-id='{first}']");
        await firstCard.EvaluateAsync("c => c.__kept = true");

        // The card that fills it: the slice keeps its elements (redrawn as HTML, every card would be a new element).
        ids.Add(await PressAsync(http, AlarmBoard.ChunkSize - 1, ct));
        await Assertions.Expect(cards).ToHaveCountAsync(AlarmBoard.ChunkSize);
        Assert.True(await firstCard.EvaluateAsync<bool>("c => c.__kept === true"), "the first slice was drawn again when its last card came");

        // Every other terminal at once: the next slice fills in a burst.
        ids.AddRange(await Task.WhenAll(Enumerable.Range(AlarmBoard.ChunkSize, Presses - AlarmBoard.ChunkSize).Select(i => PressAsync(http, i, ct))));

        await Assertions.Expect(cards).ToHaveCountAsync(Presses, new() { Timeout = 60_000 });
        await using (var connection = portal.Db.Open())
        {
            // Arrival order (the board's queue): by the time raised, then id, as the board orders what it loads.
            var expected = (await connection.QueryAsync<(int Id, string School)>(
                "SELECT a.Id, s.Name FROM Alarm a JOIN School s ON s.Id = a.SchoolId WHERE a.Id IN @ids ORDER BY a.RaisedUtc, a.Id", new { ids })).ToList();
            var shown = await page.EvaluateAsync<string[][]>("""
                () => [...document.querySelectorAll('[data-testid=alarm-card]')].map(c => [c.dataset.alarmId, c.dataset.state, c.querySelector('b').textContent, String(c.parentElement.children.length)])
                """);
            Assert.Equal(ids.Order(), shown.Select(s => int.Parse(s[0], System.Globalization.CultureInfo.InvariantCulture)).Order());
            Assert.All(shown, s => Assert.Equal("Ringing", s[1]));
            Assert.Equal(expected.Select(e => e.School), shown.Select(s => s[2])); // every name as text, the hostile one too
            Assert.Equal(
                Enumerable.Repeat(AlarmBoard.ChunkSize.ToString(System.Globalization.CultureInfo.InvariantCulture), 2 * AlarmBoard.ChunkSize).Concat(Enumerable.Repeat("20", 20)),
                shown.Select(s => s[3]));
        }

        // Nothing the name holds became an element or ran.
        Assert.Equal(0, await page.Locator(".alarm-board img, .alarm-board i").CountAsync());
        Assert.False(await page.EvaluateAsync<bool>("() => '__xss' in window"));

        // The card of the hostile name sits in the first (full) slice: a click opens its pop-up, an answer reaches it,
        // and only it changes (the slice's elements stay).
        Assert.True(await firstCard.EvaluateAsync<bool>("c => c.__kept === true"));
        var card = page.Locator($"[data-testid=alarm-card][data-alarm-id='{first}']");
        Assert.Equal(0, await card.EvaluateAsync<int>("c => [...c.closest('.alarm-list').children].indexOf(c.parentElement)"));
        await card.DispatchEventAsync("click");
        var popup = page.Locator($"[data-testid=alarm-popup][data-alarm-id='{first}']");
        await Assertions.Expect(popup).ToBeVisibleAsync();
        await popup.GetByTestId("answer").ClickAsync();
        await Assertions.Expect(card).ToHaveAttributeAsync("data-state", "Answered");
        await Assertions.Expect(card.GetByTestId("answered-by")).ToContainTextAsync("city110");
        await Assertions.Expect(card.Locator("b")).ToHaveTextAsync(Hostile);
        await Assertions.Expect(cards).ToHaveCountAsync(Presses);
        Assert.True(await card.EvaluateAsync<bool>("c => c.__kept === true"), "the answered card's slice was drawn again");
    }

    private static Task<int> PressAsync(HttpClient http, int school, CancellationToken ct) => DemoPress.AlarmAsync(http, DemoCity.TerminalSerial(school), ct);
}
