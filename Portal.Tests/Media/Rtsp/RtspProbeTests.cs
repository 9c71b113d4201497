using System.Net;
using Portal.Media.Rtsp;
using Portal.Simulator.Cameras;
using Portal.Tests.Core.Health;
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
    public async Task ProbeAsync_RememberedChallenge_NextProbeIsOneDescribe()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var camera = await SimulatedCamera.StartAsync(cancellationToken: ct);
        var memory = new RtspProbeMemory();
        var login = new NetworkCredential("admin", "gate-cam-1");

        var first = await RtspProbe.ProbeAsync(camera.RtspUri, login, Timeout, null, ct, memory: memory);
        Assert.Equal(RtspProbeStatus.Online, first.Status);
        Assert.Equal((2, 1), (camera.Rtsp.Describes, camera.Rtsp.Challenges)); // the first costs the 401 round trip
        Assert.True(memory.HasChallenge);

        var second = await RtspProbe.ProbeAsync(camera.RtspUri, login, Timeout, null, ct, memory: memory);

        Assert.Equal(RtspProbeStatus.Online, second.Status);
        Assert.Equal((3, 1), (camera.Rtsp.Describes, camera.Rtsp.Challenges)); // one authorised DESCRIBE, no challenge
        Assert.Equal(0, camera.Rtsp.TotalSessions);
    }

    [Fact]
    public async Task ProbeAsync_StaleNonce_AnsweredOnceMore_Online()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var camera = await SimulatedCamera.StartAsync(cancellationToken: ct);
        var memory = new RtspProbeMemory();
        var login = new NetworkCredential("admin", "gate-cam-1");
        Assert.Equal(RtspProbeStatus.Online, (await RtspProbe.ProbeAsync(camera.RtspUri, login, Timeout, null, ct, memory: memory)).Status);
        camera.Rtsp.ExpireNonce();

        var stale = await RtspProbe.ProbeAsync(camera.RtspUri, login, Timeout, null, ct, memory: memory);

        Assert.Equal(RtspProbeStatus.Online, stale.Status);
        Assert.Equal((4, 2), (camera.Rtsp.Describes, camera.Rtsp.Challenges)); // the stale 401, then the new nonce answered
        Assert.Equal(RtspProbeStatus.Online, (await RtspProbe.ProbeAsync(camera.RtspUri, login, Timeout, null, ct, memory: memory)).Status);
        Assert.Equal((5, 2), (camera.Rtsp.Describes, camera.Rtsp.Challenges)); // and the new one is remembered
    }

    [Fact]
    public async Task ProbeAsync_NoncePerConnection_NewNonceAnsweredOnceMore_Online()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var camera = await SimulatedCamera.StartAsync(new SimulatedCameraOptions { NoncePerConnection = true }, cancellationToken: ct);
        var memory = new RtspProbeMemory();
        var login = new NetworkCredential("admin", "gate-cam-1");

        for (var i = 1; i <= 2; i++)
        {
            var result = await RtspProbe.ProbeAsync(camera.RtspUri, login, Timeout, null, ct, memory: memory);
            Assert.Equal(RtspProbeStatus.Online, result.Status);
            Assert.Equal((2 * i, i), (camera.Rtsp.Describes, camera.Rtsp.Challenges));
        }
    }

    [Fact]
    public async Task ProbeAsync_RememberedChallenge_WrongPasswordStillRefused_RightOneAcceptedAgain()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var camera = await SimulatedCamera.StartAsync(cancellationToken: ct);
        var memory = new RtspProbeMemory();
        var right = new NetworkCredential("admin", "gate-cam-1");
        var wrong = new NetworkCredential("admin", "bad");
        Assert.Equal(RtspProbeStatus.Online, (await RtspProbe.ProbeAsync(camera.RtspUri, right, Timeout, null, ct, memory: memory)).Status);

        for (var i = 0; i < 2; i++)
        {
            var refused = await RtspProbe.ProbeAsync(camera.RtspUri, wrong, Timeout, null, ct, memory: memory);
            Assert.Equal(RtspProbeStatus.AuthenticationFailed, refused.Status);
        }

        var describes = camera.Rtsp.Describes;
        var refusedAgain = await RtspProbe.ProbeAsync(camera.RtspUri, wrong, Timeout, null, ct, memory: memory);
        Assert.Equal(RtspProbeStatus.AuthenticationFailed, refusedAgain.Status);
        Assert.Equal(describes + 1, camera.Rtsp.Describes); // the same challenge answered to a remembered wrong login: refused at once
        Assert.Equal(RtspProbeStatus.Online, (await RtspProbe.ProbeAsync(camera.RtspUri, right, Timeout, null, ct, memory: memory)).Status);
    }

    [Fact]
    public async Task ProbeAsync_RememberedChallenge_GarbageRefused_HangTimesOut_BrokenOffUnreachable()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var garbage = HostileRtspServer.Start(HostileRtspServer.Mode.Garbage);
        await using var hang = HostileRtspServer.Start(HostileRtspServer.Mode.Hang);
        await using var cut = HostileRtspServer.Start(HostileRtspServer.Mode.CloseMidMessage);
        await using var huge = HostileRtspServer.Start(HostileRtspServer.Mode.TenMegabyteHeader);
        var login = new NetworkCredential("admin", "gate-cam-1");

        foreach (var (server, expected) in new[] { (garbage, RtspProbeStatus.Refused), (hang, RtspProbeStatus.Timeout), (cut, RtspProbeStatus.Unreachable), (huge, RtspProbeStatus.Refused) })
        {
            var memory = new RtspProbeMemory();
            var result = await RtspProbe.ProbeAsync(server.Uri, login, TimeSpan.FromSeconds(1), null, ct, memory: memory);
            Assert.True(expected == result.Status, $"{server.Name}: {result.Status} {result.Detail}");
            Assert.False(memory.HasChallenge);
        }
    }

    [Fact]
    public async Task ProbeAsync_NothingListening_IsUnreachable()
    {
        var result = await RtspProbe.ProbeAsync(new Uri("rtsp://127.0.0.1:1/s"), null, Timeout, null, TestContext.Current.CancellationToken);

        Assert.Equal(RtspProbeStatus.Unreachable, result.Status);
    }
}
