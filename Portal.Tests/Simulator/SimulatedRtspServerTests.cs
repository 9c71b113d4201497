using System.Net;
using Microsoft.Extensions.Time.Testing;
using Portal.Media.Rtp;
using Portal.Media.Rtsp;
using Portal.Simulator.Cameras;
using Xunit;

namespace Portal.Tests.Simulator;

[Trait("Category", "Integration")]
public sealed class SimulatedRtspServerTests
{
    [Fact]
    public async Task Describe_ClipOption_ServesThatClipInsteadOfTheGateClip()
    {
        // The media benchmark loops a 4 Mbps clip; here the gate clip's first GOP with its level changed to 4.0 (0x28),
        // so the SDP shows which clip is served.
        var ct = TestContext.Current.CancellationToken;
        var gate = GateClip.Instance;
        var annexB = new List<byte>();
        foreach (var nal in gate.Frames.Take(50).SelectMany(f => f))
        {
            var bytes = nal.ToArray();
            if (H264NalUnit.TypeOf(bytes[0]) == H264NalUnit.Sps)
            {
                bytes[3] = 0x28;
            }

            annexB.AddRange([0, 0, 0, 1, .. bytes]);
        }

        var clip = GateClip.Load([.. annexB]);
        await using var camera = await SimulatedCamera.StartAsync(new SimulatedCameraOptions { Clip = clip }, cancellationToken: ct);
        await using var client = new RtspClient(camera.RtspUri, new NetworkCredential("admin", "gate-cam-1"));
        await client.ConnectAsync(ct);

        await client.DescribeAsync(ct);

        Assert.Equal(50, clip.Frames.Count);
        Assert.Contains("profile-level-id=42c028", client.Tracks[0].Codec.FmtpLine, StringComparison.Ordinal);
        Assert.Contains("sprop-parameter-sets=" + clip.SpropParameterSets, client.Tracks[0].Codec.FmtpLine, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Stream_PastTheEndOfTheClip_TimestampsKeepRisingOneFrameAtATime()
    {
        var ct = TestContext.Current.CancellationToken;
        var time = new FakeTimeProvider();
        await using var camera = await SimulatedCamera.StartAsync(new SimulatedCameraOptions { StartAtLiveEdge = false }, timeProvider: time, cancellationToken: ct);
        await using var client = new RtspClient(camera.RtspUri, new NetworkCredential("admin", "gate-cam-1"));
        var collector = new RtpCollector(startAtKeyframe: true);
        client.RtpReceived = collector.WriteRtp;
        await client.ConnectAsync(ct);
        await client.DescribeAsync(ct);
        await client.SetupAsync(client.Tracks[0], ct);
        await client.PlayAsync(ct);

        // Drive the clip's 25 fps clock by hand, past its 250-frame loop point.
        while (collector.Units.Count < 270)
        {
            var before = collector.Units.Count;
            time.Advance(TimeSpan.FromMilliseconds(40));
            await RtpCollector.WaitUntilAsync(() => collector.Units.Count > before, 10, "the next frame");
        }

        var units = collector.Units;
        for (var i = 1; i < units.Count; i++)
        {
            Assert.Equal(GateClip.TicksPerFrame, units[i].Timestamp - units[i - 1].Timestamp);
        }

        Assert.True(units[250].IsKeyframe); // frame 0 of the second loop
    }
}
