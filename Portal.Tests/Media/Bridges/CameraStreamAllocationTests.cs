using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Portal.Media.Bridges;
using Portal.Media.Core;
using Portal.Media.WebRtc;
using Portal.Media.WebRtc.Dtls;
using Portal.Simulator.Cameras;
using Xunit;

namespace Portal.Tests.Media.Bridges;

/// <summary>
/// Issue #5: forwarding a camera to its viewers allocates nothing per packet once warm (before the fix, about
/// 1.7 KB per camera packet: each NAL copied out of the depacketizer, each packet copied into the GOP cache).
/// Counted with <see cref="GC.GetAllocatedBytesForCurrentThread"/>, because the whole fan-out runs on the
/// thread that writes the camera's packet; this is an allocation count, not a timing.
/// </summary>
public sealed class CameraStreamAllocationTests
{
    /// <summary>Slack for a runtime that still tiers a method up mid-run (its call counting allocates a little).</summary>
    private const long AllowedBytes = 1024;

    private const int Measured = 10_000;

    [Fact]
    public void WriteRtp_WarmStreamThreeViewers_AllocatesNothingPerPacket()
    {
        var camera = new CameraFeed(GateClip.Instance, ssrc: 42);
        var stream = new CameraStream(new CameraHubOptions(), NullLogger.Instance, TimeProvider.System);
        var viewers = new[] { new CountingSink(), new CountingSink(), new CountingSink() };
        foreach (var viewer in viewers)
        {
            stream.AddViewer(viewer);
        }

        WarmUp(stream, camera);
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < Measured; i++)
        {
            stream.WriteRtp(camera.Track, camera.Next());
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.True(viewers.All(v => v.Packets > Measured), "every viewer got the stream");
        Assert.True(allocated <= AllowedBytes, $"{allocated} bytes allocated for {Measured} camera packets");
    }

    [Fact(Timeout = 60_000)]
    [Trait("Category", "Integration")]
    public async Task WriteRtp_WarmStreamToConnectedWebRtcPeers_AllocatesNothingPerPacket()
    {
        var ct = TestContext.Current.CancellationToken;
        var options = new WebRtcEndpointOptions { BindAddress = IPAddress.Loopback, Port = 0, AnnouncedAddress = IPAddress.Loopback };
        await using var endpoint = new WebRtcEndpoint(options, NullLoggerFactory.Instance);
        endpoint.Start();
        var browserCertificate = DtlsCertificate.Generate();
        var camera = new CameraFeed(GateClip.Instance, ssrc: 42);
        var stream = new CameraStream(new CameraHubOptions(), NullLogger.Instance, TimeProvider.System);
        var viewers = new List<WebRtcViewer>();
        var sinks = new List<PeerSink>();
        try
        {
            for (var i = 0; i < 2; i++)
            {
                var viewer = new WebRtcViewer(browserCertificate);
                viewers.Add(viewer);
                var peer = endpoint.CreatePeer(viewer.CreateOffer());
                await viewer.ConnectAsync(peer.AnswerSdp, TimeSpan.FromSeconds(20));
                await peer.WaitConnectedAsync(ct);
                sinks.Add(new PeerSink(peer, peer.FindSendTrack(MediaKind.Video)!));
                stream.AddViewer(sinks[^1]);
            }

            WarmUp(stream, camera);
            await Task.Delay(300, ct); // tiered compilation of the warm-up's methods finishes in the background
            WarmUp(stream, camera);
            var before = GC.GetAllocatedBytesForCurrentThread();
            for (var i = 0; i < Measured; i++)
            {
                stream.WriteRtp(camera.Track, camera.Next());
            }

            var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

            Assert.All(sinks, s => Assert.Equal((0L, true), (s.Refused, s.Sent > Measured)));
            Assert.True(allocated <= AllowedBytes, $"{allocated} bytes allocated for {Measured} camera packets to two SRTP peers");
        }
        finally
        {
            foreach (var viewer in viewers)
            {
                await viewer.DisposeAsync();
            }
        }
    }

    [Fact]
    public void AddViewer_GopLargerThanCap_NoReplayUntilNextKeyframe()
    {
        var camera = new CameraFeed(GateClip.Instance, ssrc: 42);
        var stream = new CameraStream(new CameraHubOptions { MaxGopBytes = 4096 }, NullLogger.Instance, TimeProvider.System);
        for (var i = 0; i < 60; i++)
        {
            stream.WriteRtp(camera.Track, camera.Next());
        }

        var late = new CountingSink();
        stream.AddViewer(late);

        Assert.Equal(0, late.Packets);
    }

    private static void WarmUp(CameraStream stream, CameraFeed camera)
    {
        // Two passes over the 10 s clip: the GOP cache and every reused buffer reach their size, the JIT tiers up.
        for (var i = 0; i < Math.Max(2 * camera.PacketsPerLoop, 5_000); i++)
        {
            stream.WriteRtp(camera.Track, camera.Next());
        }
    }
}
