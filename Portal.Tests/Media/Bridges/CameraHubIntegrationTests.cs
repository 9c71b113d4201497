using System.Buffers.Binary;
using Portal.Media.Bridges;
using Portal.Media.Rtp;
using Portal.Media.Rtsp;
using Portal.Simulator.Cameras;
using Xunit;

namespace Portal.Tests.Media.Bridges;

[Trait("Category", "Integration")]
public sealed class CameraHubIntegrationTests
{
    private static CameraEndpoint Endpoint(SimulatedCamera camera, RtspTransport transport = RtspTransport.Tcp) =>
        new(camera.RtspUri, "admin", "gate-cam-1", transport);

    private static void AssertContiguous(IReadOnlyList<byte[]> packets)
    {
        for (var i = 1; i < packets.Count; i++)
        {
            var previous = BinaryPrimitives.ReadUInt16BigEndian(packets[i - 1].AsSpan(2));
            Assert.Equal((ushort)(previous + 1), BinaryPrimitives.ReadUInt16BigEndian(packets[i].AsSpan(2)));
            var ts0 = BinaryPrimitives.ReadUInt32BigEndian(packets[i - 1].AsSpan(4));
            var ts1 = BinaryPrimitives.ReadUInt32BigEndian(packets[i].AsSpan(4));
            Assert.True((int)(ts1 - ts0) >= 0, $"timestamp went back at packet {i}");
        }
    }

    [Fact]
    public async Task Subscribe_FirstViewer_StartsWithSpsPpsIdrWithinMtu()
    {
        await using var camera = await SimulatedCamera.StartAsync(cancellationToken: TestContext.Current.CancellationToken);
        await using var hub = new CameraHub();
        var viewer = new RtpCollector();

        using var subscription = hub.Subscribe(Endpoint(camera), viewer);
        await RtpCollector.WaitUntilAsync(() => viewer.Units.Count >= 3, 10, "three access units");

        var first = viewer.Packets[0];
        Assert.Equal(H264NalUnit.Sps, H264NalUnit.TypeOf(first[12]));
        Assert.True(viewer.Units[0].IsKeyframe && viewer.Units[0].HasPps);
        Assert.All(viewer.Packets, p => Assert.True(p.Length <= H264Packetizer.DefaultMtu));
        Assert.All(viewer.Packets, p => Assert.Equal(96, p[1] & 0x7F));
        Assert.Contains("packetization-mode=1", subscription.Track.Codec.FmtpLine, StringComparison.Ordinal);
        Assert.Contains("profile-level-id=42c01e", subscription.Track.Codec.FmtpLine, StringComparison.Ordinal);
        AssertContiguous(viewer.Packets);
        Assert.Equal(1, hub.ActiveCameras);
    }

    [Fact]
    public async Task Subscribe_SecondViewer_GetsCachedGopAtOnce()
    {
        await using var camera = await SimulatedCamera.StartAsync(cancellationToken: TestContext.Current.CancellationToken);
        await using var hub = new CameraHub();
        var first = new RtpCollector();
        using var a = hub.Subscribe(Endpoint(camera), first);
        await RtpCollector.WaitUntilAsync(() => first.Units.Count >= 5, 10, "first viewer running");

        var second = new RtpCollector();
        using var b = hub.Subscribe(Endpoint(camera), second);

        // The GOP replay happens inside Subscribe: no waiting for the camera's next keyframe.
        Assert.NotEmpty(second.Units);
        Assert.True(second.Units[0].IsKeyframe && second.Units[0].HasSps);
        await RtpCollector.WaitUntilAsync(() => second.Units.Count >= first.Units.Count - 1 && second.Packets.Count > 20, 10, "live packets");
        AssertContiguous(second.Packets);
        Assert.Equal(1, camera.Rtsp.TotalSessions);
    }

    [Fact]
    public async Task RequestKeyframe_Viewer_ReplaysGopWithoutSequenceGap()
    {
        await using var camera = await SimulatedCamera.StartAsync(cancellationToken: TestContext.Current.CancellationToken);
        await using var hub = new CameraHub(new CameraHubOptions { KeyframeRequestInterval = TimeSpan.Zero });
        var viewer = new RtpCollector();
        using var subscription = hub.Subscribe(Endpoint(camera), viewer);
        await RtpCollector.WaitUntilAsync(() => viewer.Units.Count >= 3, 10, "frames");
        var keyframes = viewer.Units.Count(u => u.IsKeyframe);

        subscription.RequestKeyframe();

        Assert.True(viewer.Units.Count(u => u.IsKeyframe) > keyframes);
        await RtpCollector.WaitUntilAsync(() => viewer.Packets.Count > 40, 10, "more packets");
        AssertContiguous(viewer.Packets);
    }

    [Fact]
    public async Task Dispose_LastViewer_StopsPullAfterIdleTimeout()
    {
        await using var camera = await SimulatedCamera.StartAsync(cancellationToken: TestContext.Current.CancellationToken);
        await using var hub = new CameraHub(new CameraHubOptions { IdleTimeout = TimeSpan.FromMilliseconds(300) });
        var viewer = new RtpCollector();
        var subscription = hub.Subscribe(Endpoint(camera, RtspTransport.Udp), viewer);
        await RtpCollector.WaitUntilAsync(() => viewer.Packets.Count > 0 && camera.Rtsp.ActiveStreams == 1, 10, "streaming");

        subscription.Dispose();
        Assert.Equal(1, hub.ActiveCameras); // still pulled during the idle grace period

        await RtpCollector.WaitUntilAsync(() => hub.ActiveCameras == 0 && camera.Rtsp.ActiveStreams == 0, 10, "pull stopped");
    }

    [Fact]
    public async Task Subscribe_CameraReconnects_ViewerContinuesWithContiguousSequence()
    {
        await using var camera = await SimulatedCamera.StartAsync(cancellationToken: TestContext.Current.CancellationToken);
        await using var hub = new CameraHub(new CameraHubOptions { Rtsp = new RtspSourceOptions { MinRetryDelay = TimeSpan.FromMilliseconds(100) } });
        var viewer = new RtpCollector();
        using var subscription = hub.Subscribe(Endpoint(camera), viewer);
        await RtpCollector.WaitUntilAsync(() => viewer.Units.Count >= 3, 10, "frames");
        var keyframes = viewer.Units.Count(u => u.IsKeyframe);

        camera.Rtsp.DropConnections();

        await RtpCollector.WaitUntilAsync(() => viewer.Units.Count(u => u.IsKeyframe) > keyframes, 15, "a keyframe after reconnect");
        AssertContiguous(viewer.Packets);
    }
}
