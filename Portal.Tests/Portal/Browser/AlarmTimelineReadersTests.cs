using Microsoft.Playwright;
using Xunit;

namespace Portal.Tests.Portal.Browser;

/// <summary>
/// Issue 14: the bureau and principals read an alarm's timeline (page and API) without the police's details: no
/// notes, no dispatch, no network addresses. Owns terminal ATS00000190 (school 190, 市南区).
/// </summary>
[Trait("Category", "Browser")]
public sealed class AlarmTimelineReadersTests(PortalFixture portal)
{
    private const string Serial = "ATS00000190";
    private const string Note = "嫌疑人身穿黑色外套向东逃离";
    private const string Units = "巡逻车3辆";

    [Fact]
    public async Task Timeline_BureauReadsIt_WithoutNotesDispatchOrAddresses_ThePoliceWithThem()
    {
        // The district operator answers and records a note and a dispatch.
        var (police, console) = await portal.SignInAsync("shinan110");
        await using var _ = police;
        var running = await portal.GetPortalAsync();
        var id = await DemoPress.AlarmAsync(running.BaseUrl, Serial);
        await console.Locator($"[data-testid=alarm-card][data-alarm-id='{id}']").DispatchEventAsync("click");
        var popup = console.Locator($"[data-testid=alarm-popup][data-alarm-id='{id}']");
        await popup.GetByTestId("answer").ClickAsync();
        await popup.GetByTestId("note-text").FillAsync(Note);
        await popup.GetByTestId("note-add").ClickAsync();
        await Assertions.Expect(popup.GetByTestId("note-text")).ToBeEmptyAsync();
        await popup.GetByTestId("dispatch-text").FillAsync(Units);
        await popup.GetByTestId("dispatch-add").ClickAsync();
        await Assertions.Expect(popup.GetByTestId("dispatch-text")).ToBeEmptyAsync();

        // The police read every detail (the control: what the bureau must not see is there to see).
        var policeApi = await (await police.APIRequest.GetAsync($"/api/alarms/{id}")).TextAsync();
        Assert.Contains(Note, policeApi, StringComparison.Ordinal);
        Assert.Contains(Units, policeApi, StringComparison.Ordinal);
        Assert.Contains("127.0.0.1", policeApi, StringComparison.Ordinal);

        var (bureau, page) = await portal.SignInAsync("bureau-shinan");
        await using var __ = bureau;
        var response = await bureau.APIRequest.GetAsync($"/api/alarms/{id}");
        Assert.Equal(200, response.Status);
        var bureauApi = await response.TextAsync();
        Assert.DoesNotContain(Note, bureauApi, StringComparison.Ordinal);
        Assert.DoesNotContain(Units, bureauApi, StringComparison.Ordinal);
        Assert.DoesNotContain("127.0.0.1", bureauApi, StringComparison.Ordinal);
        Assert.Contains("\"timeline\"", bureauApi, StringComparison.Ordinal);

        await page.GotoAsync($"/alarms/{id}");
        await PortalFixture.WaitInteractiveAsync(page);
        // (On a slow machine the alarm may have escalated before the answer: that step is for everyone to read.)
        var kinds = await page.GetByTestId("timeline-event").EvaluateAllAsync<string[]>("els => els.map(e => e.dataset.kind)");
        Assert.Equal(["Raised", "Answered"], kinds.Where(k => k != "Escalated"));
        var text = await page.GetByTestId("timeline").InnerTextAsync();
        Assert.DoesNotContain(Note, text, StringComparison.Ordinal);
        Assert.DoesNotContain("127.0.0.1", text, StringComparison.Ordinal);
    }
}
