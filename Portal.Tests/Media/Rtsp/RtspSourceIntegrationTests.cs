using System.Net;
using Portal.Media.Rtsp;
using Portal.Simulator.Cameras;
using Xunit;

namespace Portal.Tests.Media.Rtsp;

[Trait("Category", "Integration")]
public sealed class RtspSourceIntegrationTests
{
    private static readonly RtspSourceOptions FastRetry = new()
    {
        MinRetryDelay = TimeSpan.FromMilliseconds(100),
        MaxRetryDelay = TimeSpan.FromMilliseconds(400),
        StallTimeout = TimeSpan.FromMilliseconds(800),
        RequestTimeout = TimeSpan.FromSeconds(3),
    };

    [Fact]
    public async Task Run_CameraDropsConnection_ReconnectsAndResumes()
    {
        await using var camera = await SimulatedCamera.StartAsync(new SimulatedCameraOptions { StartAtLiveEdge = false }, cancellationToken: TestContext.Current.CancellationToken);
        await using var source = new RtspSource(camera.RtspUri, new NetworkCredential("admin", "gate-cam-1"), FastRetry);
        var collector = new RtpCollector();
        using var _ = source.AddSink(collector);
        source.Start();
        await RtpCollector.WaitUntilAsync(() => collector.Packets.Count > 10, 10, "first packets");

        camera.Rtsp.DropConnections();
        var before = collector.Packets.Count;

        await RtpCollector.WaitUntilAsync(() => source.Sessions >= 2 && collector.Packets.Count > before + 10, 10, "packets after reconnect");
        Assert.Equal(RtspSourceState.Playing, source.State);
    }

    [Fact]
    public async Task Run_CameraStalls_DetectsAndReconnects()
    {
        await using var camera = await SimulatedCamera.StartAsync(new SimulatedCameraOptions { StartAtLiveEdge = false }, cancellationToken: TestContext.Current.CancellationToken);
        await using var source = new RtspSource(camera.RtspUri, new NetworkCredential("admin", "gate-cam-1"), FastRetry);
        var collector = new RtpCollector();
        using var _ = source.AddSink(collector);
        source.Start();
        await RtpCollector.WaitUntilAsync(() => collector.Packets.Count > 10, 10, "first packets");

        camera.Rtsp.Frozen = true;
        await RtpCollector.WaitUntilAsync(() => source.Sessions >= 2, 10, "a new session after the stall");
        camera.Rtsp.Frozen = false;
        var before = collector.Packets.Count;

        await RtpCollector.WaitUntilAsync(() => collector.Packets.Count > before + 10, 10, "packets after the stall");
    }

    [Fact]
    public async Task Run_WrongPassword_KeepsRetryingWithAuthError()
    {
        await using var camera = await SimulatedCamera.StartAsync(cancellationToken: TestContext.Current.CancellationToken);
        await using var source = new RtspSource(camera.RtspUri, new NetworkCredential("admin", "nope"), FastRetry);
        source.Start();

        await RtpCollector.WaitUntilAsync(() => source.LastError is RtspAuthenticationException, 10, "auth error");

        Assert.NotEqual(RtspSourceState.Playing, source.State);
    }
}
