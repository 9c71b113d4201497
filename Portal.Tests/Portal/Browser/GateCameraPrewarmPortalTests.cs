using System.Text.Json;
using Dapper;
using Microsoft.Playwright;
using Portal.Core.Demo;
using Portal.Core.Devices;
using Portal.Simulator.Cameras;
using Portal.Simulator.Terminals;
using Xunit;

namespace Portal.Tests.Portal.Browser;

/// <summary>
/// Issue #15, item 3: pre-warm for a camera that ignores keyframe requests. A portal of its own (PrewarmMax 1) whose demo
/// cameras stand in as one simulated main stream (ignores RTCP; frozen, so no keyframe comes until the test lets it) and
/// one simulated sub-stream. Pre-warm off: no sub-stream session. The administrator turns it on for school 3370000000 on
/// the schools page; the sub-stream is pulled and its GOP cached. A press, and the district operator's view of the school
/// decodes at once from the pre-warm cache (the media diagnostics say so) while the main stream has sent nothing; when the
/// main stream comes, the view goes on. A second school turned on is refused by the bound, on the admin page and in the log.
/// </summary>
[Trait("Category", "Browser")]
public sealed class GateCameraPrewarmPortalTests(PortalFixture fixture)
{
    private const string VideoStatsScript = """
        async () => {
          const v = document.querySelector('[data-testid=camera-video]');
          let framesDecoded = 0;
          if (v && v.portalPc) {
            (await v.portalPc.getStats()).forEach(r => { if (r.type === 'inbound-rtp' && r.kind === 'video') framesDecoded = r.framesDecoded || 0; });
          }
          return framesDecoded;
        }
        """;

    [Fact(Timeout = 600_000)]
    public async Task Press_PrewarmOn_ViewerDecodesFromSubStreamCacheBeforeMainKeyframe_BoundRefusesSecond()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var main = await SimulatedCamera.StartAsync(
            new SimulatedCameraOptions { HonourRtcpKeyframeRequests = false, StartFrame = 10, Username = null, Password = null }, cancellationToken: ct);
        await using var sub = await SimulatedCamera.StartAsync(
            new SimulatedCameraOptions { Path = "/Streaming/Channels/102", Username = null, Password = null }, cancellationToken: ct);
        main.Rtsp.Frozen = true; // the main stream's next IDR is the test's to release
        await using var portal = await PortalProcess.StartAsync(new PortalProcessOptions
        {
            DemoSchoolCount = 10,
            Arguments =
            [
                "--Portal:DemoCameraRtspUrl=" + main.RtspUri,
                "--Portal:DemoCameraRtspSubStreamUrl=" + sub.RtspUri,
                "--Portal:PrewarmMax=1",
            ],
        });

        // Schools 3370000000 and 3370000001's cameras get a sub-stream (as an administrator would set it in the device dialog).
        int cameraA, cameraB, schoolA;
        await using (var connection = portal.Db.Open())
        {
            schoolA = await connection.ExecuteScalarAsync<int>("SELECT Id FROM School WHERE Code = '3370000000'");
            cameraA = await connection.ExecuteScalarAsync<int>("SELECT Id FROM Device WHERE SerialNumber = 'CAM00000000'");
            cameraB = await connection.ExecuteScalarAsync<int>("SELECT Id FROM Device WHERE SerialNumber = 'CAM00000001'");
        }

        var devices = new DeviceRepository(portal.Db);
        foreach (var (id, name) in new[] { (cameraA, "cam-00000"), (cameraB, "cam-00001") })
        {
            var device = (await devices.GetByIdAsync(id, ct))!;
            await devices.UpdateAsync(device with { RtspSubStreamUrl = $"rtsp://{name}.school.local:554/Streaming/Channels/102" }, ct);
        }

        var browser = await fixture.GetBrowserAsync();
        await using var adminContext = await browser.NewPatientContextAsync(new() { BaseURL = portal.BaseUrl });
        var admin = await adminContext.NewPageAsync();
        await admin.GotoAsync("/");
        await fixture.CompleteSignInAsync(admin, "admin");

        // Pre-warm off (the default): no sub-stream session.
        var before = await MediaAsync(admin);
        Assert.Empty(before.GetProperty("prewarm").GetProperty("devices").EnumerateArray());
        Assert.Equal(0, sub.Rtsp.TotalSessions);

        // The administrator turns it on for school A on the schools page.
        await SetSchoolPrewarmAsync(admin, "3370000000", "prewarm-on");
        var media = await WaitMediaAsync(admin, m => Ids(m, "devices").SequenceEqual([cameraA]) && SubStream(m) is { } s && s.GetProperty("prewarmCached").GetBoolean(), "school A's sub-stream pre-warmed with a GOP cached", ct);
        Assert.Equal(1, sub.Rtsp.TotalSessions);
        Assert.Equal(0L, main.Rtsp.FramesSent); // nothing from the main stream yet

        // A press: the intake pulls the main stream, which sends nothing (it ignores PLI and is frozen before its IDR).
        using var http = new HttpClient { BaseAddress = new Uri(portal.BaseUrl) };
        var press = await new SignedAlarmClient(http, "ATS00000000", DemoCity.DemoApiKeyPrefix + "ATS00000000").PressAsync(ct: ct);
        Assert.True((int)press.Status is 200 or 201, press.Body);

        // The district operator watches the school: Chromium decodes from the pre-warm cache.
        await using var operatorContext = await browser.NewPatientContextAsync(new() { BaseURL = portal.BaseUrl });
        var page = await operatorContext.NewPageAsync();
        await page.GotoAsync("/");
        await fixture.CompleteSignInAsync(page, "shinan110");
        await page.GotoAsync($"/schools/{schoolA}");
        await PortalFixture.WaitInteractiveAsync(page);
        await Poll.UntilAsync(async () => await page.EvaluateAsync<int>(VideoStatsScript) >= 10, TimeSpan.FromSeconds(90), "frames decoded in Chromium", ct);

        media = await MediaAsync(admin);
        var mainPull = MainStream(media);
        Assert.True(mainPull.GetProperty("prewarmStarts").GetInt64() >= 1, mainPull.ToString());
        Assert.Equal(0L, main.Rtsp.FramesSent); // every decoded frame came from the sub-stream

        // The main stream's IDR comes: the view goes on (now on the main stream).
        main.Rtsp.Frozen = false;
        var decoded = await page.EvaluateAsync<int>(VideoStatsScript);
        await Poll.UntilAsync(() => main.Rtsp.FramesSent > 100, TimeSpan.FromSeconds(60), "the main stream playing", ct);
        await Poll.UntilAsync(async () => await page.EvaluateAsync<int>(VideoStatsScript) > decoded + 50, TimeSpan.FromSeconds(60), "decoding going on", ct);

        // The bound: school B turned on too is refused, on the admin page and in the log (once, however often the set is read).
        await SetSchoolPrewarmAsync(admin, "3370000001", "prewarm-on");
        media = await WaitMediaAsync(admin, m => Ids(m, "refused").SequenceEqual([cameraB]), "school B refused by the bound", ct);
        Assert.Equal([cameraA], Ids(media, "devices"));
        await Assertions.Expect(admin.GetByTestId("prewarm-refused")).ToBeVisibleAsync();
        var readings = media.GetProperty("prewarm").GetProperty("readings").GetInt64();
        await SetSchoolPrewarmAsync(admin, "3370000002", "prewarm-off");
        await WaitMediaAsync(admin, m => m.GetProperty("prewarm").GetProperty("readings").GetInt64() > readings, "another reading", ct);
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(portal.Log, $"Gate camera {cameraB} .*is not pre-warmed"));
        Assert.DoesNotContain(DemoCity.DemoDevicePassword, portal.Log, StringComparison.Ordinal);
    }

    private static async Task SetSchoolPrewarmAsync(IPage admin, string schoolCode, string choice)
    {
        if (!admin.Url.EndsWith("/admin/schools", StringComparison.Ordinal))
        {
            await admin.GotoAsync("/admin/schools");
            await PortalFixture.WaitInteractiveAsync(admin);
        }

        await admin.Locator($"[data-testid=school-prewarm][data-code='{schoolCode}'] div.mud-select").First.ClickAsync();
        await admin.Locator($".mud-popover-open [data-testid={choice}]").ClickAsync();
        await Assertions.Expect(admin.Locator(".mud-popover-open [data-testid=prewarm-on]")).ToHaveCountAsync(0);
    }

    private static IEnumerable<int> Ids(JsonElement media, string list) =>
        media.GetProperty("prewarm").GetProperty(list).EnumerateArray().Select(e => e.GetInt32());

    private static JsonElement? SubStream(JsonElement media) =>
        media.GetProperty("cameras").EnumerateArray().Where(c => c.GetProperty("prewarm").GetBoolean()).Select(c => (JsonElement?)c).FirstOrDefault();

    private static JsonElement MainStream(JsonElement media) =>
        media.GetProperty("cameras").EnumerateArray().Single(c => c.GetProperty("camera").GetString()!.Contains("/Streaming/Channels/101", StringComparison.Ordinal));

    private static async Task<JsonElement> MediaAsync(IPage admin)
    {
        var response = await admin.APIRequest.GetAsync("/api/diagnostics/media");
        Assert.Equal(200, response.Status);
        return JsonDocument.Parse(await response.TextAsync()).RootElement.Clone();
    }

    private static async Task<JsonElement> WaitMediaAsync(IPage admin, Func<JsonElement, bool> condition, string what, CancellationToken ct)
    {
        JsonElement media = default;
        await Poll.UntilAsync(
            async () =>
            {
                media = await MediaAsync(admin);
                return condition(media);
            },
            TimeSpan.FromSeconds(60),
            what,
            ct);
        return media;
    }
}
