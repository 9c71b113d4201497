using System.Buffers.Binary;
using Portal.Media.Bridges;
using Portal.Simulator.Cameras;
using Xunit;

namespace Portal.Tests.Media.Bridges;

/// <summary>
/// Issue #15, item 3: a camera that ignores keyframe requests, pulled cold, with its sub-stream pre-warmed. Two simulated
/// cameras on 127.0.0.1 play the main stream (RTCP ignored, each session starting mid-GOP) and the sub-stream.
/// </summary>
[Trait("Category", "Integration")]
public sealed class CameraPrewarmTests
{
    private static async Task<(SimulatedCamera Main, SimulatedCamera Sub)> StartCamerasAsync(CancellationToken ct)
    {
        var main = await SimulatedCamera.StartAsync(new SimulatedCameraOptions { HonourRtcpKeyframeRequests = false, StartFrame = 10 }, cancellationToken: ct);
        var sub = await SimulatedCamera.StartAsync(new SimulatedCameraOptions { Path = "/Streaming/Channels/102" }, cancellationToken: ct);
        return (main, sub);
    }

    private static CameraEndpoint Endpoint(SimulatedCamera main, SimulatedCamera sub) =>
        new(main.RtspUri, "admin", "gate-cam-1", SubStream: new CameraEndpoint(sub.RtspUri, "admin", "gate-cam-1"));

    [Fact]
    public async Task Subscribe_MainColdSubPrewarmed_StartsOnSubGopThenSwitchesAtMainKeyframe()
    {
        var ct = TestContext.Current.CancellationToken;
        var (main, sub) = await StartCamerasAsync(ct);
        await using var mainCamera = main;
        await using var subCamera = sub;
        await using var hub = new CameraHub();
        var camera = Endpoint(main, sub);

        using var prewarm = hub.Prewarm(camera);
        await RtpCollector.WaitUntilAsync(() => hub.GetPulls().Any(p => p.Prewarm && p.PrewarmCached), 20, "the sub-stream's GOP cached", ct);
        Assert.Equal(0, main.Rtsp.TotalSessions);

        var viewer = new RtpCollector();
        using var subscription = hub.Subscribe(camera, viewer);

        // Inside Subscribe, before the main stream's session is even up: the sub-stream's GOP, SPS/PPS/IDR first.
        Assert.True(subscription.StartedOnPrewarm);
        Assert.True(subscription.OnPrewarm);
        Assert.NotEmpty(viewer.Units);
        Assert.True(viewer.Units[0].IsKeyframe && viewer.Units[0].HasSps && viewer.Units[0].HasPps);

        // The main stream takes over at its first keyframe (the camera ignores PLI, so at its own next IDR).
        await RtpCollector.WaitUntilAsync(() => !subscription.OnPrewarm, 30, "the switch to the main stream", ct);
        var switchedAt = viewer.Packets.Count;
        await RtpCollector.WaitUntilAsync(() => viewer.Packets.Count > switchedAt + 50, 20, "main-stream packets after the switch", ct);

        // One RTP stream to the browser: sequence numbers without a gap, timestamps never back, SPS/PPS before the main IDR.
        var packets = viewer.Packets;
        for (var i = 1; i < packets.Count; i++)
        {
            Assert.Equal((ushort)(BinaryPrimitives.ReadUInt16BigEndian(packets[i - 1].AsSpan(2)) + 1), BinaryPrimitives.ReadUInt16BigEndian(packets[i].AsSpan(2)));
            Assert.True((int)(BinaryPrimitives.ReadUInt32BigEndian(packets[i].AsSpan(4)) - BinaryPrimitives.ReadUInt32BigEndian(packets[i - 1].AsSpan(4))) >= 0, $"timestamp went back at packet {i}");
        }

        Assert.All(viewer.Units.Where(u => u.IsKeyframe), u => Assert.True(u.HasSps && u.HasPps));
        Assert.True(viewer.Units.Count(u => u.IsKeyframe) >= 2, "the sub-stream's keyframe and the main stream's");
        Assert.Equal(0, viewer.MalformedPackets);
        Assert.True(main.Rtsp.KeyframeRequests >= 1, "the main camera was asked (and ignored it)");
        Assert.Equal(1, sub.Rtsp.TotalSessions);
        Assert.Equal(1, hub.GetPulls().Single(p => p.Camera == camera).PrewarmStarts);
    }

    [Fact]
    public async Task Subscribe_SubStreamNotPrewarmed_NoSubStreamSession()
    {
        var ct = TestContext.Current.CancellationToken;
        var (main, sub) = await StartCamerasAsync(ct);
        await using var mainCamera = main;
        await using var subCamera = sub;
        await using var hub = new CameraHub();

        var viewer = new RtpCollector();
        using var subscription = hub.Subscribe(Endpoint(main, sub), viewer);
        await RtpCollector.WaitUntilAsync(() => viewer.Units.Count >= 3, 30, "main-stream frames", ct);

        Assert.False(subscription.StartedOnPrewarm);
        Assert.True(viewer.Units[0].IsKeyframe && viewer.Units[0].HasSps);
        Assert.Equal(0, sub.Rtsp.TotalSessions);
        Assert.DoesNotContain(hub.GetPulls(), p => p.Prewarm);
    }

    [Fact]
    public async Task Prewarm_Released_SubStreamPullStopsAfterIdleTimeout()
    {
        var ct = TestContext.Current.CancellationToken;
        var (main, sub) = await StartCamerasAsync(ct);
        await using var mainCamera = main;
        await using var subCamera = sub;
        await using var hub = new CameraHub(new CameraHubOptions { IdleTimeout = TimeSpan.FromMilliseconds(200) });

        var prewarm = hub.Prewarm(Endpoint(main, sub));
        await RtpCollector.WaitUntilAsync(() => sub.Rtsp.ActiveStreams == 1, 20, "the sub-stream playing", ct);
        prewarm.Dispose();

        await RtpCollector.WaitUntilAsync(() => hub.ActiveCameras == 0 && sub.Rtsp.ActiveStreams == 0, 20, "the sub-stream let go", ct);
        Assert.DoesNotContain(hub.GetPulls(), p => p.Prewarm);
    }

    [Fact]
    public async Task Prewarm_SubStreamDrops_ReconnectsWithBackoffAndPlaysAgain()
    {
        var ct = TestContext.Current.CancellationToken;
        var (main, sub) = await StartCamerasAsync(ct);
        await using var mainCamera = main;
        await using var subCamera = sub;
        await using var hub = new CameraHub();

        using var prewarm = hub.Prewarm(Endpoint(main, sub));
        await RtpCollector.WaitUntilAsync(() => hub.GetPulls().Any(p => p.Prewarm && p.PrewarmCached), 20, "the sub-stream's GOP cached", ct);
        sub.Rtsp.DropConnections();

        await RtpCollector.WaitUntilAsync(
            () => sub.Rtsp.TotalSessions >= 2 && hub.GetPulls().Any(p => p.Prewarm && p.Sessions >= 2 && p.State == global::Portal.Media.Rtsp.RtspSourceState.Playing),
            60,
            "the sub-stream pulled again",
            ct);
        Assert.Equal(0, main.Rtsp.TotalSessions);
    }

    [Fact]
    public async Task Prewarm_CameraWithoutSubStream_Throws()
    {
        await using var hub = new CameraHub();
        Assert.Throws<ArgumentException>(() => hub.Prewarm(new CameraEndpoint(new Uri("rtsp://127.0.0.1:9/x"))));
        Assert.Equal(0, hub.ActiveCameras);
    }
}
