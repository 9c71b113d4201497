using System.Globalization;
using System.Net;
using System.Text.Json;
using Microsoft.Playwright;
using Portal.Benchmarks.Harness;
using Portal.Simulator.Terminals;

namespace Portal.Benchmarks;

/// <summary>
/// Part 1 of <c>media</c> (issue #15): the real alarm path, from a terminal's press to the first decoded frame of the gate
/// camera in the pop-up that opens by itself on a district console in Chromium, with no pull of the camera before the
/// press. For (a) the demo portal's simulated camera, (b) GStreamer's RTSP server with a 2 s GOP, which honours RTCP
/// PLI/FIR, (c) the same server ignoring keyframe requests, (d) as (c) with its sub-stream pre-warmed (issue #15, item 3).
/// </summary>
/// <remarks>
/// The portal starts the camera's pull when the alarm is committed and asks the camera for a keyframe; the pop-up's
/// WebRTC session then starts from the cached keyframe. Each press is from another terminal of the console's district;
/// after it the alarm is answered and closed in the pop-up, and the next press waits until the portal reports no pull
/// (its idle stop is set to 2 s here). The press is timed on this process's clock and the frame on the page's
/// (<c>Date.now()</c> in <c>requestVideoFrameCallback</c>): one machine, one wall clock.
/// </remarks>
internal static class MediaPressToFrame
{
    private const string Arm = """
        () => {
          const state = { video: null, decoded: null, presented: null };
          window.__pf = state;
          let hooked = null;
          const tick = async () => {
            if (state !== window.__pf) return;
            const v = document.querySelector('[data-testid=alarm-popup] video[data-testid=camera-video]');
            if (v && state.video === null) state.video = Date.now();
            if (v && v !== hooked && v.requestVideoFrameCallback) {
              hooked = v;
              v.requestVideoFrameCallback(() => { if (state.presented === null) state.presented = Date.now(); });
            }
            if (v && v.portalPc) {
              const stats = await v.portalPc.getStats();
              stats.forEach(r => { if (r.type === 'inbound-rtp' && r.kind === 'video' && r.framesDecoded > 0 && state.decoded === null) state.decoded = Date.now(); });
            }
            if (state.decoded === null || state.presented === null) setTimeout(tick, 5);
          };
          tick();
        }
        """;

    /// <summary>
    /// The cases: the demo's simulated camera (no GStreamer), or GStreamer's server honouring or ignoring keyframe
    /// requests; (d), issue #15 item 3, is the camera of (c) with its sub-stream (a second GStreamer server, 384 kbit/s
    /// target) pre-warmed.
    /// </summary>
    private static readonly (char Key, string Label, bool? GStreamerIgnoring, bool Prewarm)[] Cases =
    [
        ('a', "(a) simulated camera (honours PLI/FIR)", null, false),
        ('b', "(b) GStreamer RTSP server, 2 s GOP, honours PLI/FIR", false, false),
        ('c', "(c) GStreamer RTSP server, 2 s GOP, keyframe requests ignored", true, false),
        ('d', "(d) as (c), sub-stream pre-warmed", true, true),
    ];

    /// <summary>
    /// Runs (a), (b), (c) and (d), or only those named in <c>PORTAL_BENCH_PRESS_CASES</c> (e.g. <c>c</c> or <c>bc</c>),
    /// which also prints the cameras' keyframe statistics after each press; false when an aim is missed or a part could
    /// not run.
    /// </summary>
    public static async Task<bool> RunAsync(int presses)
    {
        var only = Environment.GetEnvironmentVariable("PORTAL_BENCH_PRESS_CASES");
        var unavailable = await GStreamerRtspServer.CheckAvailableAsync().ConfigureAwait(false);
        var results = new List<(string Label, List<double> Values, string? Skipped)>();
        foreach (var (_, label, gstreamerIgnoring, prewarm) in Cases.Where(c => only is null || only.Contains(c.Key, StringComparison.Ordinal)))
        {
            if (gstreamerIgnoring is not null && unavailable is not null)
            {
                Console.WriteLine($"  {label}: not measured: {unavailable}");
                results.Add((label, [], unavailable));
                continue;
            }

            results.Add((label, await MeasureAsync(label, gstreamerIgnoring, presses, prewarm, diagnose: only is not null).ConfigureAwait(false), null));
        }

        Console.WriteLine(FormattableString.Invariant($"[press -> first frame] press (signed device API) -> first decoded frame in the auto-opened pop-up, no prior pull, n={presses} each:"));
        var ok = true;
        foreach (var (label, values, skipped) in results)
        {
            if (skipped is not null)
            {
                Console.WriteLine($"    {label,-66} not measured");
                ok = false;
                continue;
            }

            var sorted = values.Order().ToList();
            var p95 = Percentiles.Of(sorted, 0.95);
            var aim = label.StartsWith("(c)", StringComparison.Ordinal) ? "bounded by the camera's 2 s GOP (no request can hasten it)" : p95 <= 500 ? "aim p95 <= 500 ms: met" : "aim p95 <= 500 ms: NOT met";
            Console.WriteLine(FormattableString.Invariant(
                $"    {label,-66} p50 {Percentiles.Of(sorted, 0.5),5:0} ms  p95 {p95,5:0} ms  max {(sorted.Count == 0 ? double.NaN : sorted[^1]),5:0} ms   {aim}"));
            ok &= label.StartsWith("(c)", StringComparison.Ordinal) || p95 <= 500;
        }

        return ok;
    }

    /// <param name="label">What is measured.</param>
    /// <param name="gstreamer">Null: the demo portal's own simulated camera; else GStreamer's server, ignoring keyframe requests or not.</param>
    /// <param name="presses">Presses to time.</param>
    /// <param name="prewarm">Pre-warm every camera's sub-stream (a second GStreamer server stands in for all of them).</param>
    /// <param name="diagnose">After each press, print the cameras' keyframe statistics and the requests GStreamer saw.</param>
    private static async Task<List<double>> MeasureAsync(string label, bool? gstreamer, int presses, bool prewarm, bool diagnose)
    {
        await using var gst = gstreamer is null ? null : await GStreamerRtspServer.StartAsync(ignoreKeyframeRequests: gstreamer == true, keepEncoderOnPlay: true).ConfigureAwait(false);
        await using var subGst = prewarm ? await GStreamerRtspServer.StartAsync(bitrateKbps: 384, keepEncoderOnPlay: true).ConfigureAwait(false) : null;
        List<string> arguments = ["--Portal:CameraIdleTimeoutSeconds=2"];
        if (gst is not null)
        {
            arguments.Add("--Portal:DemoCameraRtspUrl=" + gst.Uri);
        }

        if (subGst is not null)
        {
            arguments.Add("--Portal:DemoCameraRtspSubStreamUrl=" + subGst.Uri);
            arguments.Add("--Portal:PrewarmRefreshSeconds=1");
        }

        await using var portal = await PortalProcess.StartAsync(new PortalProcessOptions { DemoSchoolCount = 10 * (presses + 2), LogLevel = "Warning", EchoErrors = true, Arguments = arguments }).ConfigureAwait(false);
        using var playwright = await Playwright.CreateAsync().ConfigureAwait(false);
        await using var browser = await Chromium.LaunchAsync(playwright).ConfigureAwait(false);
        var admin = await SignInAsync(browser, portal.BaseUrl, "admin").ConfigureAwait(false);
        var page = await SignInAsync(browser, portal.BaseUrl, "shinan110").ConfigureAwait(false);
        using var http = new HttpClient { BaseAddress = new Uri(portal.BaseUrl), Timeout = TimeSpan.FromSeconds(60) };
        Console.WriteLine($"[press -> first frame] {label}: portal {portal.BaseUrl}, shinan110's console in Chromium{(gst is null ? string.Empty : ", camera " + gst.Uri)}");
        if (prewarm)
        {
            await PrewarmDistrictAsync(portal, admin).ConfigureAwait(false);
        }

        // One warm-up press (JIT, first DTLS, first ONVIF request), then the timed ones; each from a new terminal of
        // 市南区 (district 0: terminal ATS000000n0 is school n0's).
        var values = new List<double>();
        for (var i = 0; i <= presses; i++)
        {
            await WaitNoPullAsync(admin).ConfigureAwait(false);

            // A random moment within the camera's 2 s GOP: the loop itself (close, 2 s idle stop, poll) takes about the
            // same time each round, and without this every press landed at the same point of the GOP (a camera that
            // ignores keyframe requests then looked as fast as one that honours them).
            await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(0, 2000))).ConfigureAwait(false);
            await page.EvaluateAsync(Arm).ConfigureAwait(false);
            var serial = "ATS" + (i * 10).ToString("D8", CultureInfo.InvariantCulture);
            var pressed = DateTimeOffset.UtcNow;
            var result = await new SignedAlarmClient(http, serial, "demo-api-key-" + serial).PressAsync().ConfigureAwait(false);
            if (result.Status != HttpStatusCode.Created)
            {
                throw new InvalidOperationException($"press {serial}: {result.Status} {result.Body}");
            }

            var alarmId = JsonDocument.Parse(result.Body).RootElement.GetProperty("alarmId").GetInt32();
            await page.WaitForFunctionAsync("() => window.__pf.decoded !== null || window.__pf.presented !== null", null, new PageWaitForFunctionOptions { Timeout = 30_000, PollingInterval = 10 }).ConfigureAwait(false);
            var state = await page.EvaluateAsync<JsonElement>("() => window.__pf").ConfigureAwait(false);
            double At(string name) => state.GetProperty(name).ValueKind == JsonValueKind.Number ? state.GetProperty(name).GetDouble() - pressed.ToUnixTimeMilliseconds() : double.NaN;
            var frame = double.IsNaN(At("presented")) ? At("decoded") : At("presented");
            Console.WriteLine(FormattableString.Invariant($"  {(i == 0 ? "warm-up (not counted)" : "press " + i)}: alarm {alarmId}, pop-up video element {At("video"):0} ms, FIRST FRAME {frame:0} ms"));
            if (i > 0)
            {
                values.Add(frame);
            }

            if (diagnose)
            {
                var response = await admin.APIRequest.GetAsync("/api/diagnostics/media").ConfigureAwait(false);
                using var json = JsonDocument.Parse(await response.TextAsync().ConfigureAwait(false));
                foreach (var camera in json.RootElement.GetProperty("cameras").EnumerateArray().Where(c => c.TryGetProperty("keyframes", out var k) && k.ValueKind == JsonValueKind.Object && k.GetProperty("requests").GetInt64() > 0))
                {
                    Console.WriteLine("    camera " + camera.GetRawText());
                }

                Console.WriteLine(FormattableString.Invariant($"    keyframe requests that reached GStreamer's encoder (or were dropped before it): {gst?.KeyframeRequests}; asked inside the server: {gst?.DownstreamKeyUnits}"));
            }

            await CloseAlarmAsync(page, alarmId).ConfigureAwait(false);
        }

        if (prewarm)
        {
            // How many pop-ups started on the pre-warmed sub-stream (the rest found the main stream's keyframe first).
            var response = await admin.APIRequest.GetAsync("/api/diagnostics/media").ConfigureAwait(false);
            using var json = JsonDocument.Parse(await response.TextAsync().ConfigureAwait(false));
            var starts = json.RootElement.GetProperty("cameras").EnumerateArray().Sum(c => c.GetProperty("prewarmStarts").GetInt64());
            Console.WriteLine(FormattableString.Invariant($"  {label}: {starts} of {presses + 1} pop-ups (warm-up included) started on the pre-warmed sub-stream"));
        }

        return values;
    }

    private static async Task<IPage> SignInAsync(IBrowser browser, string url, string user)
    {
        var context = await browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = url, ViewportSize = new ViewportSize { Width = 1400, Height = 1000 } }).ConfigureAwait(false);
        context.SetDefaultTimeout(120_000); // a loaded machine signs in slowly; the timings below are taken by the page itself
        context.SetDefaultNavigationTimeout(120_000);
        var page = await context.NewPageAsync().ConfigureAwait(false);
        await page.GotoAsync(user == "admin" ? "/" : "/police").ConfigureAwait(false);
        await Harness.DemoSignIn.SignInAsync(page, user).ConfigureAwait(false);
        return page;
    }

    /// <summary>Answers and closes the alarm in its pop-up (disposition "test"), then closes the pop-up: its camera is let go.</summary>
    private static async Task CloseAlarmAsync(IPage page, int alarmId)
    {
        var popup = page.Locator($"[data-testid=alarm-popup][data-alarm-id='{alarmId}']");
        await popup.GetByTestId("answer").ClickAsync().ConfigureAwait(false);
        await popup.GetByTestId("disposition").ClickAsync().ConfigureAwait(false);
        await page.Locator(".mud-popover-open").GetByText("测试", new() { Exact = true }).ClickAsync().ConfigureAwait(false);
        await popup.GetByTestId("close-alarm").ClickAsync().ConfigureAwait(false);
        await page.Locator($"[data-testid=alarm-card][data-alarm-id='{alarmId}'][data-state=Closed]").WaitForAsync().ConfigureAwait(false);
        await popup.GetByTestId("popup-close").ClickAsync().ConfigureAwait(false);
        await page.WaitForFunctionAsync("() => !document.querySelector('[data-testid=alarm-popup]')").ConfigureAwait(false);
    }

    /// <summary>
    /// Gives every demo camera a sub-stream and turns pre-warm on for the district of the pressing schools (school
    /// 3370000000's), as an administrator would in the device dialog and on the districts page, then waits until a
    /// pre-warmed GOP is cached.
    /// </summary>
    private static async Task PrewarmDistrictAsync(PortalProcess portal, IPage admin)
    {
        await using (var connection = portal.Db.Open())
        {
            await connection.OpenAsync().ConfigureAwait(false);
            await using var update = connection.CreateCommand();
            update.CommandText =
                "UPDATE Device SET RtspSubStreamUrl = REPLACE(RtspUrl, '/Channels/101', '/Channels/102') WHERE Kind = 1;"
                + "INSERT INTO GateCameraPrewarm (DistrictId, SchoolId, Enabled, UpdatedUtc, UpdatedBy) "
                + "SELECT DistrictId, NULL, 1, '2026-12-02 00:00:00', 'benchmark' FROM School WHERE Code = '3370000000';";
            await update.ExecuteNonQueryAsync().ConfigureAwait(false);
        }

        await Poll.UntilAsync(
            async () =>
            {
                var response = await admin.APIRequest.GetAsync("/api/diagnostics/media").ConfigureAwait(false);
                using var json = JsonDocument.Parse(await response.TextAsync().ConfigureAwait(false));
                return json.RootElement.GetProperty("cameras").EnumerateArray().Any(c => c.GetProperty("prewarmCached").GetBoolean());
            },
            TimeSpan.FromSeconds(60),
            "a pre-warmed sub-stream GOP").ConfigureAwait(false);
    }

    /// <summary>Waits until the portal pulls no camera but pre-warmed sub-streams (the admin-only media diagnostics).</summary>
    private static Task WaitNoPullAsync(IPage admin) =>
        Poll.UntilAsync(
            async () =>
            {
                var response = await admin.APIRequest.GetAsync("/api/diagnostics/media").ConfigureAwait(false);
                using var json = JsonDocument.Parse(await response.TextAsync().ConfigureAwait(false));
                return json.RootElement.GetProperty("cameras").EnumerateArray().All(c => c.GetProperty("state").ValueKind == JsonValueKind.Null || c.GetProperty("prewarm").GetBoolean());
            },
            TimeSpan.FromSeconds(60),
            "the camera pull to stop");
}
