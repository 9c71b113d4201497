using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Playwright;
using Portal.Media.Bridges;
using Portal.Media.WebRtc;
using Portal.Simulator.Cameras;
using Portal.Tests.Portal;
using Xunit;

namespace Portal.Tests.Media.Bridges;

/// <summary>
/// End to end on 127.0.0.1: simulated camera → RTSP → CameraHub → WebRtcPeer → Debian's Chromium, which must
/// decode the clip (Constrained Baseline, packetization-mode 1) and show 640x360 pictures.
/// </summary>
[Trait("Category", "Integration")]
public sealed class RtspToWebRtcBridgeBrowserTests
{
    private const string StatsScript = """
        async () => {
          let result = { framesDecoded: 0, frameWidth: 0, frameHeight: 0 };
          (await window.pc.getStats()).forEach(r => {
            if (r.type === 'inbound-rtp' && r.kind === 'video') {
              result = { framesDecoded: r.framesDecoded || 0, frameWidth: r.frameWidth || 0, frameHeight: r.frameHeight || 0 };
            }
          });
          return JSON.stringify(result);
        }
        """;

    [Fact(Timeout = 90_000)]
    public async Task AttachAsync_Chromium_DecodesTheCameraVideo()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var camera = await SimulatedCamera.StartAsync(cancellationToken: ct);
        await using var hub = new CameraHub();
        await using var endpoint = new WebRtcEndpoint(
            new WebRtcEndpointOptions { BindAddress = IPAddress.Loopback, AnnouncedAddress = IPAddress.Loopback, Port = 0 },
            NullLoggerFactory.Instance);
        endpoint.Start();

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await Chromium.LaunchAsync(playwright); // fails, never skips, without Debian's Chromium
        var page = await browser.NewPatientPageAsync();
        await page.SetContentAsync(BrowserWebRtc.Page);

        var offer = await page.EvaluateAsync<string>(BrowserWebRtc.OfferScript);
        var peer = endpoint.CreatePeer(offer);
        await page.EvaluateAsync(BrowserWebRtc.AnswerScript, peer.AnswerSdp);
        using var bridge = await RtspToWebRtcBridge.AttachAsync(hub, new CameraEndpoint(camera.RtspUri, "admin", "gate-cam-1"), peer, ct);

        Stats stats = new(0, 0, 0);
        for (var i = 0; i < 300 && stats.FramesDecoded < 25; i++)
        {
            await Task.Delay(100, ct);
            stats = JsonSerializer.Deserialize<Stats>(await page.EvaluateAsync<string>(StatsScript), JsonOptions)!;
        }

        Assert.True(stats.FramesDecoded >= 25, $"Chromium decoded {stats.FramesDecoded} frames");
        Assert.Equal(640, stats.FrameWidth);
        Assert.Equal(360, stats.FrameHeight);
    }

    private static readonly JsonSerializerOptions JsonOptions = new() { PropertyNameCaseInsensitive = true };

    private sealed record Stats(int FramesDecoded, int FrameWidth, int FrameHeight);
}
