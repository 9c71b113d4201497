using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Playwright;
using Portal.Media.Bridges;
using Portal.Media.WebRtc;
using Portal.Tests.Portal;
using Xunit;

namespace Portal.Tests.Media.Bridges;

/// <summary>
/// Not only our own simulator: GStreamer's RTSP server (a third-party implementation, x264 encoder) → RTSP
/// client → CameraHub → WebRtcPeer → Debian's Chromium, which must decode the pictures.
/// </summary>
[Trait("Category", "Integration")]
public sealed class ThirdPartyRtspBrowserTests
{
    private const string StatsScript = """
        async () => {
          let frames = 0, width = 0;
          (await window.pc.getStats()).forEach(r => { if (r.type === 'inbound-rtp' && r.kind === 'video') { frames = r.framesDecoded || 0; width = r.frameWidth || 0; } });
          return JSON.stringify([frames, width, document.getElementById('v').videoWidth]);
        }
        """;

    [Fact(Timeout = 120_000)]
    public async Task GStreamerRtspServer_Chromium_DecodesItsVideo()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var gst = await GStreamerRtspServer.StartAsync(cancellationToken: ct);
        await using var hub = new CameraHub();
        await using var endpoint = new WebRtcEndpoint(
            new WebRtcEndpointOptions { BindAddress = IPAddress.Loopback, AnnouncedAddress = IPAddress.Loopback, Port = 0 },
            NullLoggerFactory.Instance);
        endpoint.Start();

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await Chromium.LaunchAsync(playwright);
        var page = await browser.NewPatientPageAsync();
        await page.SetContentAsync(BrowserWebRtc.Page);
        var peer = endpoint.CreatePeer(await page.EvaluateAsync<string>(BrowserWebRtc.OfferScript));
        await page.EvaluateAsync(BrowserWebRtc.AnswerScript, peer.AnswerSdp);
        using var bridge = await RtspToWebRtcBridge.AttachAsync(hub, new CameraEndpoint(gst.Uri), peer, ct);

        int[] stats = [0, 0, 0];
        for (var i = 0; i < 400 && stats[0] < 25; i++)
        {
            await Task.Delay(100, ct);
            stats = JsonSerializer.Deserialize<int[]>(await page.EvaluateAsync<string>(StatsScript))!;
        }

        Assert.True(stats[0] >= 25, $"Chromium decoded {stats[0]} frames from GStreamer's server");
        Assert.Equal(640, stats[1]);
        Assert.Equal(640, stats[2]);
    }
}
