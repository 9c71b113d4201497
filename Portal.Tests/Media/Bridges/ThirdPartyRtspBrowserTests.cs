using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Playwright;
using Portal.Media.Bridges;
using Portal.Media.WebRtc;
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
        var port = FreeTcpPort();
        var script = Path.Combine(AppContext.BaseDirectory, "TestData", "Rtsp", "gst-rtsp-server.py");
        var start = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(script);
        start.ArgumentList.Add(port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        using var gst = Process.Start(start)!;
        try
        {
            var ready = await gst.StandardOutput.ReadLineAsync(ct).AsTask().WaitAsync(TimeSpan.FromSeconds(30), ct);
            if (ready != "READY")
            {
                Assert.Fail("gst-rtsp-server did not start: " + await gst.StandardError.ReadToEndAsync(ct));
            }

            // GStreamer may keep writing warnings; drain them so a full pipe never stalls the server.
            _ = gst.StandardError.ReadToEndAsync(CancellationToken.None);

            await using var hub = new CameraHub();
            await using var endpoint = new WebRtcEndpoint(
                new WebRtcEndpointOptions { BindAddress = IPAddress.Loopback, AnnouncedAddress = IPAddress.Loopback, Port = 0 },
                NullLoggerFactory.Instance);
            endpoint.Start();

            using var playwright = await Playwright.CreateAsync();
            await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
            {
                ExecutablePath = "/usr/bin/chromium",
                Headless = true,
                Args = ["--no-sandbox", "--disable-gpu", "--autoplay-policy=no-user-gesture-required", "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"],
            });
            var page = await browser.NewPageAsync();
            await page.SetContentAsync(BrowserWebRtc.Page);
            var peer = endpoint.CreatePeer(await page.EvaluateAsync<string>(BrowserWebRtc.OfferScript));
            await page.EvaluateAsync(BrowserWebRtc.AnswerScript, peer.AnswerSdp);
            using var bridge = await RtspToWebRtcBridge.AttachAsync(hub, new CameraEndpoint(new Uri($"rtsp://127.0.0.1:{port}/gate")), peer, ct);

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
        finally
        {
            gst.Kill(entireProcessTree: true);
            await gst.WaitForExitAsync(CancellationToken.None);
        }
    }

    private static int FreeTcpPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
