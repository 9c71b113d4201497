using System.Net;
using Portal.Media.Core;
using Portal.Media.Rtp;
using Portal.Media.Rtsp;
using Portal.Simulator.Cameras;
using Xunit;

namespace Portal.Tests.Media.Rtsp;

[Trait("Category", "Integration")]
public sealed class RtspClientIntegrationTests
{
    private static readonly SimulatedCameraOptions Options = new() { StartAtLiveEdge = false };

    private static NetworkCredential Right => new(Options.Username, Options.Password);

    private static async Task<RtpCollector> PlayAsync(SimulatedCamera camera, RtspTransport transport, int units)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var client = new RtspClient(camera.RtspUri, Right, transport);
        await client.ConnectAsync(ct);
        await client.OptionsAsync(ct);
        var sdp = await client.DescribeAsync(ct);
        var video = Assert.Single(client.Tracks);
        Assert.Equal(Codec.H264, video.Codec.Name);
        var collector = new RtpCollector(video.Codec.FmtpParameters["sprop-parameter-sets"], startAtKeyframe: true);
        client.RtpReceived = collector.WriteRtp;
        await client.SetupAsync(video, ct);
        await client.PlayAsync(ct);
        await RtpCollector.WaitUntilAsync(() => collector.Units.Count >= units, 10, $"{units} access units over {transport}");
        await client.TeardownAsync(ct);
        return collector;
    }

    [Theory]
    [InlineData(RtspTransport.Tcp)]
    [InlineData(RtspTransport.Udp)]
    public async Task PlayAsync_DigestAuth_ReceivesSpsPpsIdr(RtspTransport transport)
    {
        await using var camera = await SimulatedCamera.StartAsync(Options, cancellationToken: TestContext.Current.CancellationToken);

        var collector = await PlayAsync(camera, transport, 5);

        var first = collector.Units[0];
        Assert.True(first.IsKeyframe && first.HasSps && first.HasPps);
        Assert.Equal(H264NalUnit.Sps, H264NalUnit.TypeOf(first.NalUnits[0].Span[0]));
        Assert.Equal(GateClip.TicksPerFrame, collector.Units[1].Timestamp - first.Timestamp);
        Assert.Equal(0, collector.MalformedPackets);
    }

    [Fact]
    public async Task PlayAsync_ParameterSetsOnlyInSdp_DepacketizerInsertsThem()
    {
        await using var camera = await SimulatedCamera.StartAsync(Options with { InBandParameterSets = false }, cancellationToken: TestContext.Current.CancellationToken);

        var collector = await PlayAsync(camera, RtspTransport.Tcp, 2);

        Assert.True(collector.Units[0].HasSps && collector.Units[0].HasPps);
        Assert.All(collector.Packets, p => Assert.NotEqual(H264NalUnit.Sps, H264NalUnit.TypeOf(p[12])));
    }

    [Fact]
    public async Task DescribeAsync_WrongPassword_ThrowsAuthenticationException()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var camera = await SimulatedCamera.StartAsync(Options, cancellationToken: ct);
        await using var client = new RtspClient(camera.RtspUri, new NetworkCredential("admin", "wrong"));
        await client.ConnectAsync(ct);

        var ex = await Assert.ThrowsAsync<RtspAuthenticationException>(() => client.DescribeAsync(ct));

        Assert.Equal(401, ex.StatusCode);
        Assert.Contains("admin", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DescribeAsync_NoCredentials_ThrowsAuthenticationException()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var camera = await SimulatedCamera.StartAsync(Options, cancellationToken: ct);
        await using var client = new RtspClient(camera.RtspUri);
        await client.ConnectAsync(ct);

        await Assert.ThrowsAsync<RtspAuthenticationException>(() => client.OptionsAsync(ct));
    }

    [Fact]
    public async Task DescribeAsync_CredentialsInUrl_AreUsedAndNotSent()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var camera = await SimulatedCamera.StartAsync(Options, cancellationToken: ct);
        var uri = new UriBuilder(camera.RtspUri) { UserName = "admin", Password = "gate-cam-1" }.Uri;
        await using var client = new RtspClient(uri);
        await client.ConnectAsync(ct);

        var sdp = await client.DescribeAsync(ct);

        Assert.DoesNotContain("@", client.RequestUrl, StringComparison.Ordinal);
        Assert.Equal("H264", sdp.Media[0].GetRtpMap(96)!.EncodingName);
    }

    [Fact]
    public async Task ConnectAsync_NothingListening_FailsQuickly()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var client = new RtspClient(new Uri("rtsp://127.0.0.1:1/none")) { RequestTimeout = TimeSpan.FromSeconds(2) };

        await Assert.ThrowsAnyAsync<Exception>(() => client.ConnectAsync(ct));
    }
}
