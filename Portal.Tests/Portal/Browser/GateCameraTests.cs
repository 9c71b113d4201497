using System.Text.Json;
using Dapper;
using Microsoft.Playwright;
using Xunit;

namespace Portal.Tests.Portal.Browser;

/// <summary>
/// The gate camera live in the operator's browser: the demo portal's one simulated camera stands in for every
/// demo school's camera; Chromium must decode it through the portal's own WebRTC endpoint, and PTZ and light
/// clicks must reach the camera (read back through the admin-only diagnostics endpoint). School code
/// 33700000nn is demo school nn, in district nn % 10 (0 市南区 for shinan110 and principal0, 1 市北区 for principal1).
/// </summary>
[Trait("Category", "Browser")]
public sealed class GateCameraTests(PortalFixture portal)
{
    private const string VideoStatsScript = """
        async () => {
          const v = document.querySelector('[data-testid=camera-video]');
          let framesDecoded = 0;
          if (v && v.portalPc) {
            (await v.portalPc.getStats()).forEach(r => { if (r.type === 'inbound-rtp' && r.kind === 'video') framesDecoded = r.framesDecoded || 0; });
          }
          return JSON.stringify({ framesDecoded, videoWidth: v ? v.videoWidth : 0, peers: v && v.portalPc ? 1 : 0 });
        }
        """;

    private static readonly JsonSerializerOptions Json = new() { PropertyNameCaseInsensitive = true };

    private async Task<int> SchoolIdAsync(string code)
    {
        await using var connection = (await portal.GetPortalAsync()).Db.Open();
        return await connection.ExecuteScalarAsync<int>("SELECT Id FROM School WHERE Code = @code", new { code });
    }

    private static async Task<VideoStats> StatsAsync(IPage page) =>
        JsonSerializer.Deserialize<VideoStats>(await page.EvaluateAsync<string>(VideoStatsScript), Json)!;

    /// <summary>Waits until Chromium has decoded frames, with a picture size, and keeps decoding.</summary>
    private async Task<VideoStats> WaitDecodingAsync(IPage page)
    {
        var stats = new VideoStats(0, 0, 0);
        for (var i = 0; i < 300 && (stats.FramesDecoded < 10 || stats.VideoWidth == 0); i++)
        {
            await Task.Delay(100);
            stats = await StatsAsync(page);
        }

        Assert.True(stats.FramesDecoded >= 10 && stats.VideoWidth > 0, $"decoded {stats.FramesDecoded} frames, width {stats.VideoWidth}, state {await page.Locator("[data-testid=gate-camera]").First.InnerTextAsync()}\n{await MediaLogAsync()}");
        // It keeps decoding: more frames come (waited for, not timed: a loaded machine may starve the browser a while).
        var later = stats;
        for (var i = 0; i < 200 && later.FramesDecoded <= stats.FramesDecoded; i++)
        {
            await Task.Delay(100);
            later = await StatsAsync(page);
        }

        Assert.True(later.FramesDecoded > stats.FramesDecoded, $"decoding stopped at {stats.FramesDecoded} frames");
        return later;
    }

    private static async Task<DemoCameraState> DemoCameraAsync(IAPIRequestContext admin)
    {
        var response = await admin.GetAsync("/api/diagnostics/media");
        Assert.Equal(200, response.Status);
        using var json = JsonDocument.Parse(await response.TextAsync());
        return json.RootElement.GetProperty("demoCamera").Deserialize<DemoCameraState>(Json)!;
    }

    [Fact(Timeout = 120_000)]
    public async Task SchoolPage_DistrictOperator_VideoDecodes()
    {
        var (context, page) = await portal.SignInAsync("shinan110");
        await using var _ = context;
        await page.GotoAsync($"/schools/{await SchoolIdAsync("3370000000")}");
        await PortalFixture.WaitInteractiveAsync(page);
        await Assertions.Expect(page.GetByTestId("camera-video")).ToBeVisibleAsync();

        var stats = await WaitDecodingAsync(page);

        Assert.Equal(640, stats.VideoWidth);
        await Assertions.Expect(page.Locator("[data-testid=gate-camera] [data-testid=camera-state]")).ToHaveCountAsync(0);
    }

    [Fact(Timeout = 120_000)]
    public async Task SchoolPage_PrincipalOfAnotherSchool_GetsNoVideo()
    {
        var (context, page) = await portal.SignInAsync("principal1");
        await using var _ = context;
        await page.GotoAsync($"/schools/{await SchoolIdAsync("3370000000")}");
        await PortalFixture.WaitInteractiveAsync(page);
        await Assertions.Expect(page.GetByTestId("school-not-found")).ToBeVisibleAsync();
        await Task.Delay(1500);

        await Assertions.Expect(page.GetByTestId("camera-video")).ToHaveCountAsync(0);
        Assert.Equal(0, (await StatsAsync(page)).Peers);
    }

    [Fact(Timeout = 120_000)]
    public async Task SchoolPage_Principal_ViewsOwnCameraWithoutControls()
    {
        var (context, page) = await portal.SignInAsync("principal0");
        await using var _ = context;
        await page.GotoAsync($"/schools/{await SchoolIdAsync("3370000000")}");
        await PortalFixture.WaitInteractiveAsync(page);

        await WaitDecodingAsync(page);
        await Assertions.Expect(page.GetByTestId("camera-controls")).ToHaveCountAsync(0);
    }

    [Fact(Timeout = 150_000)]
    public async Task AlarmPopup_PtzAndWarningLight_ReachCameraAndAuditTrail()
    {
        var (adminContext, _) = await portal.SignInAsync("admin");
        await using var __ = adminContext;
        var (context, page) = await portal.SignInAsync("shinan110");
        await using var _ = context;

        var alarmId = await DemoPress.AlarmAsync((await portal.GetPortalAsync()).BaseUrl, "ATS00000050");
        // A new alarm pops up by itself, but another one may be on top: pick ours by its card (which the pop-up may cover).
        await page.Locator($"[data-testid=alarm-card][data-alarm-id='{alarmId}']").DispatchEventAsync("click");
        var popup = page.Locator($"[data-testid=alarm-popup][data-alarm-id='{alarmId}']");
        await Assertions.Expect(popup.GetByTestId("camera-video")).ToBeVisibleAsync();
        await WaitDecodingAsync(page);

        // The presets load from the camera's ONVIF service beside the video, not ahead of it.
        await Assertions.Expect(popup.GetByTestId("camera-controls")).Not.ToHaveAttributeAsync("data-presets", "0");

        // PTZ: hold "up" for a moment, release.
        var before = await DemoCameraAsync(adminContext.APIRequest);
        await popup.GetByTestId("ptz-up").HoverAsync();
        await page.Mouse.DownAsync();
        await Task.Delay(700);
        await page.Mouse.UpAsync();
        var moved = before;
        for (var i = 0; i < 50 && moved.StopCommands <= before.StopCommands; i++)
        {
            await Task.Delay(100);
            moved = await DemoCameraAsync(adminContext.APIRequest);
        }

        Assert.True(moved.MoveCommands > before.MoveCommands, "no ContinuousMove reached the camera");
        Assert.True(moved.StopCommands > before.StopCommands, "no Stop reached the camera");
        Assert.True(moved.Tilt > before.Tilt || moved.Tilt >= 1, $"tilt {before.Tilt} -> {moved.Tilt}");

        // Warning light: confirm, wait for the camera, then switch it off again.
        foreach (var on in new[] { true, false })
        {
            await popup.GetByTestId("warning-light").ClickAsync();
            await popup.GetByTestId("warning-light-yes").ClickAsync();
            await Assertions.Expect(popup.GetByTestId("warning-light")).ToHaveAttributeAsync("data-on", on ? "true" : "false");
            Assert.Equal(on, (await DemoCameraAsync(adminContext.APIRequest)).WarningLightOn);
        }

        await using var connection = (await portal.GetPortalAsync()).Db.Open();
        // Stored as an action code and its data (AlarmCameraAction: 0 PTZ move, 2 light on, 3 light off); the timeline words them.
        var audit = (await connection.QueryAsync<(long Code, string? Text)>("SELECT Code, Text FROM AlarmEvent WHERE AlarmId = @alarmId AND Kind = 8", new { alarmId })).ToList();
        Assert.Contains((0L, "up"), audit);
        Assert.Contains((2L, null), audit);
        Assert.Contains((3L, null), audit);
    }

    [Fact(Timeout = 120_000)]
    public async Task CameraWall_CityOperator_VisibleTilesDecode()
    {
        var (context, page) = await portal.SignInAsync("city110");
        await using var _ = context;
        await page.GotoAsync("/police/wall");
        await PortalFixture.WaitInteractiveAsync(page);
        await Assertions.Expect(page.Locator("[data-testid=camera-wall] [data-testid=gate-camera]")).ToHaveCountAsync(9);

        await WaitDecodingAsync(page); // the first tile is on screen

        await page.GetByTestId("wall-next").ClickAsync();
        await Assertions.Expect(page.GetByTestId("wall-page")).ToContainTextAsync("2 /");
        await WaitDecodingAsync(page);
    }

    [Fact(Timeout = 60_000)]
    public async Task CameraWall_DistrictOperator_Refused()
    {
        var (context, page) = await portal.SignInAsync("shinan110");
        await using var _ = context;
        await page.GotoAsync("/police/wall");
        await Assertions.Expect(page.GetByTestId("camera-wall")).ToHaveCountAsync(0);
    }

    [Fact(Timeout = 60_000)]
    public async Task DiagnosticsEndpoint_DistrictOperator_Forbidden()
    {
        var (context, _) = await portal.SignInAsync("shinan110");
        await using var __ = context;
        var response = await context.APIRequest.GetAsync("/api/diagnostics/media");
        Assert.Equal(403, response.Status);
    }

    private async Task<string> MediaLogAsync() => string.Join('\n', (await portal.GetPortalAsync()).Log.Split('\n').Where(l => l.Contains("WebRtc", StringComparison.OrdinalIgnoreCase) || l.Contains("Rtsp", StringComparison.OrdinalIgnoreCase) || l.Contains("Camera", StringComparison.OrdinalIgnoreCase) || l.Contains("fail", StringComparison.OrdinalIgnoreCase)).TakeLast(40));

    private sealed record VideoStats(int FramesDecoded, int VideoWidth, int Peers);

    private sealed record DemoCameraState(double Pan, double Tilt, double Zoom, int MoveCommands, int StopCommands, string? LastPreset, bool WarningLightOn);
}
