using System.Net;
using Portal.Media.Rtsp;
using Portal.Simulator.Cameras;
using Xunit;

namespace Portal.Tests.Media.Rtsp;

[Trait("Category", "Integration")]
public sealed class RtspProbeTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(3);

    [Fact]
    public async Task ProbeAsync_SimulatedCamera_IsOnline()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var camera = await SimulatedCamera.StartAsync(cancellationToken: ct);

        var result = await RtspProbe.ProbeAsync(camera.RtspUri, new NetworkCredential("admin", "gate-cam-1"), Timeout, null, ct);

        Assert.Equal(RtspProbeStatus.Online, result.Status);
        Assert.Contains("H264", result.Detail, StringComparison.Ordinal);
        Assert.Equal(0, camera.Rtsp.TotalSessions); // a probe never starts a stream
    }

    [Fact]
    public async Task ProbeAsync_WrongPassword_IsAuthenticationFailed()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var camera = await SimulatedCamera.StartAsync(cancellationToken: ct);

        var result = await RtspProbe.ProbeAsync(camera.RtspUri, new NetworkCredential("admin", "bad"), Timeout, null, ct);

        Assert.Equal(RtspProbeStatus.AuthenticationFailed, result.Status);
    }

    [Fact]
    public async Task ProbeAsync_WrongPath_IsRefused()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var camera = await SimulatedCamera.StartAsync(new SimulatedCameraOptions { Username = null }, cancellationToken: ct);
        var uri = new Uri(camera.RtspUri, "/no/such/stream");

        var result = await RtspProbe.ProbeAsync(uri, null, Timeout, null, ct);

        Assert.Equal(RtspProbeStatus.Refused, result.Status);
        Assert.Contains("404", result.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ProbeAsync_NothingListening_IsUnreachable()
    {
        var result = await RtspProbe.ProbeAsync(new Uri("rtsp://127.0.0.1:1/s"), null, Timeout, null, TestContext.Current.CancellationToken);

        Assert.Equal(RtspProbeStatus.Unreachable, result.Status);
    }
}
