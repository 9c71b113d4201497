using System.Text.RegularExpressions;
using Dapper;
using Microsoft.Playwright;
using Xunit;

namespace Portal.Tests.Portal.Browser;

/// <summary>
/// Issue 15: switched to English, the console speaks English all the way: board, pop-up, the answer and close,
/// and the alarm's timeline (events stored as kinds and codes, worded for the reader). Only data may be Chinese:
/// school names, addresses, principals' names, what an operator typed. Owns terminal ATS00000130 (school 130, 市南区; media's camera pull test owns 90).
/// </summary>
[Trait("Category", "Browser")]
public sealed partial class AlarmConsoleEnglishTests(PortalFixture portal)
{
    private const string Serial = "ATS00000130";

    // CJK ideographs, CJK punctuation and full-width forms: none may be left once the data is taken out.
    [GeneratedRegex(@"[\u3000-\u303F\u3400-\u4DBF\u4E00-\u9FFF\uF900-\uFAFF\uFF00-\uFFEF]")]
    private static partial Regex Cjk();

    [Fact]
    public async Task English_PressPopUpAnswerCloseTimeline_NoChineseOutsideTheData()
    {
        var (context, page) = await portal.SignInAsync("shinan110");
        await using var _ = context;

        // The operator's own switch (the culture menu's link), then the console in English.
        await page.GotoAsync("/culture/set?culture=en&redirectUri=%2Fpolice");
        await PortalFixture.WaitInteractiveAsync(page);
        await Assertions.Expect(page.GetByTestId("alarm-board")).ToContainTextAsync("Alarm board");

        var running = await portal.GetPortalAsync();
        var id = await DemoPress.AlarmAsync(running.BaseUrl, Serial);

        // The data every console may show in Chinese: the city's schools (names, addresses, principals).
        await using var connection = running.Db.Open();
        var data = (await connection.QueryAsync<(string Name, string Address, string PrincipalName)>("SELECT Name, Address, PrincipalName FROM School"))
            .SelectMany(s => new[] { s.Name, s.Address, s.PrincipalName }).Where(s => s.Length > 0).OrderByDescending(s => s.Length).ToList();

        // Board: the card, the banner (it rings: the alarm is new), header and count, read after the alarm came in.
        var card = page.Locator($"[data-testid=alarm-card][data-alarm-id='{id}']");
        await Assertions.Expect(card).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByTestId("alarm-banner")).ToContainTextAsync("waiting to be answered");
        await Assertions.Expect(page.GetByTestId("open-count")).ToContainTextAsync("Open alarms");
        await Assertions.Expect(card).ToContainTextAsync("Shinan");
        await NoChineseAsync(page.GetByTestId("alarm-board"), data, "board");

        // Pop-up: labels, the centre in English, the answer button.
        await card.DispatchEventAsync("click");
        var popup = page.Locator($"[data-testid=alarm-popup][data-alarm-id='{id}']");
        await Assertions.Expect(popup.GetByTestId("answer")).ToHaveTextAsync("Answer");
        await Assertions.Expect(popup.GetByTestId("popup-centre")).ToContainTextAsync("110 Centre");
        await NoChineseAsync(popup, data, "pop-up before answering");

        await popup.GetByTestId("answer").ClickAsync();
        await Assertions.Expect(popup.GetByTestId("close-alarm")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator(".mud-snackbar")).ToContainTextAsync("Answered");
        await NoChineseAsync(popup, data, "pop-up after answering");

        await popup.GetByTestId("note-text").FillAsync("门卫报告有人在校门口徘徊");
        await popup.GetByTestId("note-add").ClickAsync();
        await Assertions.Expect(popup.GetByTestId("note-text")).ToBeEmptyAsync();
        await popup.GetByTestId("disposition").ClickAsync();
        await page.Locator(".mud-popover-open").GetByText("False alarm", new() { Exact = true }).ClickAsync();
        await popup.GetByTestId("close-alarm").ClickAsync();
        await Assertions.Expect(card).ToHaveAttributeAsync("data-state", "Closed");
        await NoChineseAsync(page.GetByTestId("alarm-board"), data, "board after closing");
        foreach (var snackbar in await page.Locator(".mud-snackbar").AllInnerTextsAsync())
        {
            Assert.False(Cjk().IsMatch(snackbar), $"snackbar: {snackbar}");
        }

        // Timeline: kinds and codes worded in English; the operator's note is data and stays as typed.
        await page.GotoAsync($"/alarms/{id}");
        await PortalFixture.WaitInteractiveAsync(page);
        var timeline = page.GetByTestId("timeline");
        await Assertions.Expect(page.GetByTestId("timeline-event").First).ToBeVisibleAsync();
        // (On a slow machine the alarm may have escalated before the answer; that step is worded too.)
        var kinds = await page.GetByTestId("timeline-event").EvaluateAllAsync<string[]>("els => els.map(e => e.dataset.kind)");
        Assert.Equal(["Raised", "Answered", "Note", "Closed"], kinds.Where(k => k != "Escalated"));
        await Assertions.Expect(timeline).ToContainTextAsync("device API");
        await Assertions.Expect(timeline).ToContainTextAsync("False alarm");
        await Assertions.Expect(timeline).ToContainTextAsync("门卫报告有人在校门口徘徊");
        await Assertions.Expect(timeline).Not.ToContainTextAsync("DeviceApi");
        await Assertions.Expect(timeline).Not.ToContainTextAsync("FalseAlarm");
        await NoChineseAsync(page.GetByTestId("alarm-title"), data, "timeline title");
        await NoChineseAsync(timeline, [.. data, "门卫报告有人在校门口徘徊"], "timeline");
    }

    private static async Task NoChineseAsync(ILocator where, IReadOnlyList<string> data, string what)
    {
        var text = await where.InnerTextAsync();
        var left = data.Aggregate(text, (t, d) => t.Replace(d, " ", StringComparison.Ordinal));
        var match = Cjk().Match(left);
        Assert.False(match.Success, $"{what}: Chinese outside the data near \"{(match.Success ? left.Substring(Math.Max(0, match.Index - 30), Math.Min(60, left.Length - Math.Max(0, match.Index - 30))) : string.Empty)}\"");
    }
}
