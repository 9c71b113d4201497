using Portal.Simulator.Cameras;
using Xunit;

namespace Portal.Tests.Simulator;

[Trait("Category", "Integration")]
public sealed class SimulatedCameraTests
{
    [Fact]
    public async Task StartAsync_PortZero_ReportsBoundPorts()
    {
        await using var camera = await SimulatedCamera.StartAsync(cancellationToken: TestContext.Current.CancellationToken);

        Assert.NotEqual(0, camera.RtspPort);
        Assert.NotEqual(0, camera.OnvifPort);
        Assert.Equal($"rtsp://127.0.0.1:{camera.RtspPort}/Streaming/Channels/101", camera.RtspUri.ToString());
        Assert.Equal($"http://127.0.0.1:{camera.OnvifPort}/onvif/device_service", camera.OnvifDeviceUri.ToString());
    }

    [Fact]
    public async Task Main_UnknownCommand_PrintsUsageAndFails()
    {
        Assert.Equal(1, await global::Portal.Simulator.Program.Main(["no-such-command"]));
    }
}
