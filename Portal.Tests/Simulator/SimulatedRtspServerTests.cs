using System.Net;
using Microsoft.Extensions.Time.Testing;
using Portal.Media.Rtsp;
using Portal.Simulator.Cameras;
using Portal.Tests.Media;
using Xunit;

namespace Portal.Tests.Simulator;

[Trait("Category", "Integration")]
public sealed class SimulatedRtspServerTests
{
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
