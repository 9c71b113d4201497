using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Portal.Media.Rtp.Rtcp;
using Portal.Media.Sdp;
using Portal.Media.WebRtc;
using Portal.Media.WebRtc.Dtls;
using Portal.Media.WebRtc.Srtp;
using Portal.Media.WebRtc.Stun;
using Xunit;

namespace Portal.Tests.Media.WebRtc;

/// <summary>
/// Loopback tests against a real endpoint: a BouncyCastle DTLS client plays the browser over 127.0.0.1 and
/// exchanges SRTP/SRTCP with a <see cref="WebRtcPeer"/>.
/// </summary>
[Trait("Category", "Integration")]
public class WebRtcEndpointTests
{
    private static readonly DtlsCertificate BrowserCertificate = DtlsCertificate.Generate();

    [Fact(Timeout = 60_000)]
    public async Task Loopback_IceDtlsSrtp_MediaAndFeedbackFlowBothWays()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var endpoint = StartEndpoint();
        var peer = endpoint.CreatePeer(WebRtcOffers.Console(BrowserCertificate.Fingerprint));
        var received = Channel.CreateUnbounded<(WebRtcTrack Track, byte[] Packet)>();
        var keyframes = Channel.CreateUnbounded<WebRtcTrack>();
        peer.RtpReceived += (_, track, packet) => received.Writer.TryWrite((track, packet.ToArray()));
        peer.KeyframeRequested += (_, track) => keyframes.Writer.TryWrite(track);
        using var browser = Connect(endpoint, peer, out var ufrag, out var password);

        // ICE: one nominating check, as Chrome (controlling) sends it to a lite agent.
        var response = await CheckAsync(browser, ufrag, password, ct);
        Assert.Equal(StunMessageType.BindingSuccessResponse, response.Type);
        Assert.Equal(browser.LocalEndPoint, response.XorMappedAddress);

        // DTLS: the browser is the client (we answered setup:passive).
        var client = new DtlsViewerClient(BrowserCertificate, endpoint.Certificate.Fingerprint);
        var keys = await client.ConnectAsync(new SocketDatagramTransport(browser));
        await peer.WaitConnectedAsync(ct);
        Assert.Equal(WebRtcPeerState.Connected, peer.State);
        Assert.Equal(browser.LocalEndPoint, peer.RemoteEndPoint);
        using var browserOut = keys.CreateClientContext();
        using var browserIn = keys.CreateServerContext();

        // Browser -> portal: the operator's microphone, PCMU on SSRC 1001.
        var audio = Rtp(payloadType: 0, seq: 1, timestamp: 160, ssrc: 1001, payload: 0xD5);
        SendProtectedRtp(browser, browserOut, audio);
        var (audioTrack, audioPacket) = await received.Reader.ReadAsync(ct);
        Assert.Equal("1", audioTrack.Mid);
        Assert.Equal(audio, audioPacket);

        // Portal -> browser: camera video, SSRC and payload type rewritten to the answer's.
        var camera = peer.Tracks.Single(t => t.Mid == "0");
        Assert.True(peer.SendRtp(camera, Rtp(payloadType: 96, seq: 500, timestamp: 9000, ssrc: 0xCAFE, payload: 0x65)));
        var video = await ReceiveAsync(browser, browserIn, rtcp: false, ct);
        Assert.Equal(camera.Codec.PayloadType, video[1] & 0x7F);
        Assert.Equal(camera.LocalSsrc, BinaryPrimitives.ReadUInt32BigEndian(video.AsSpan(8)));
        Assert.Equal(500, BinaryPrimitives.ReadUInt16BigEndian(video.AsSpan(2)));

        // PLI -> keyframe request for the camera track.
        SendProtectedRtcp(browser, browserOut, buffer => new RtcpPli(1001, camera.LocalSsrc).Write(buffer));
        Assert.Same(camera, await keyframes.Reader.ReadAsync(ct));

        // NACK -> the packet again from the retransmission buffer (a fresh context: a real browser NACKs only what it lost).
        SendProtectedRtcp(browser, browserOut, buffer => RtcpNack.Create(1001, camera.LocalSsrc, [500]).Write(buffer));
        using var freshIn = keys.CreateServerContext();
        var resent = await ReceiveAsync(browser, freshIn, rtcp: false, ct);
        Assert.Equal(video, resent);

        // Sender report for the camera track, with the CNAME in the same compound packet.
        var sr = await ReceiveAsync(browser, browserIn, rtcp: true, ct, RtcpPacketType.SenderReport);
        Assert.True(RtcpSenderReport.TryParse(sr, out var report, out var error), error);
        Assert.Equal(camera.LocalSsrc, report.Ssrc);
        Assert.Equal(1u, report.PacketCount);
        Assert.True(RtcpReceiverReport.TryParse(sr.AsSpan(report.Length), out var rr, out error), error);
        var block = Assert.Single(rr.ReportBlocks);
        Assert.Equal((1001u, 1u, 0), (block.Ssrc, block.ExtendedHighestSequence, block.CumulativeLost));
        Assert.True(RtcpSourceDescription.TryParse(sr.AsSpan(report.Length + rr.Length), out var sdes, out error), error);
        Assert.Contains((camera.LocalSsrc, "portal"), sdes.Chunks);

        // Keyframe request toward the browser's intercom camera (mid 2, SSRC 2001 from its offer).
        var intercom = peer.Tracks.Single(t => t.Mid == "2");
        Assert.False(peer.RequestKeyframe(audioTrack)); // no PLI negotiated for audio
        Assert.True(peer.RequestKeyframe(intercom));
        var pliPacket = await ReceiveAsync(browser, browserIn, rtcp: true, ct, RtcpPacketType.PayloadFeedback);
        Assert.True(RtcpPli.TryParse(pliPacket, out var pli, out error), error);
        Assert.Equal(2001u, pli.MediaSsrc);

        await peer.DisposeAsync();
        Assert.Equal(WebRtcPeerState.Closed, peer.State);
        Assert.Equal(0, endpoint.PeerCount);
    }

    [Fact(Timeout = 30_000)]
    public async Task BindingRequest_NominationFromSecondAddress_SwitchesMediaAddress()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var endpoint = StartEndpoint();
        var peer = endpoint.CreatePeer(WebRtcOffers.Console(BrowserCertificate.Fingerprint));
        using var first = Connect(endpoint, peer, out var ufrag, out var password);
        using var second = Connect(endpoint, peer, out _, out _);

        await CheckAsync(first, ufrag, password, ct, useCandidate: false);
        Assert.Equal(first.LocalEndPoint, peer.RemoteEndPoint);
        await CheckAsync(second, ufrag, password, ct, useCandidate: false);
        Assert.Equal(first.LocalEndPoint, peer.RemoteEndPoint); // an unnominated check does not move media
        await CheckAsync(second, ufrag, password, ct, useCandidate: true);

        Assert.Equal(second.LocalEndPoint, peer.RemoteEndPoint);
        Assert.Equal(WebRtcPeerState.Connecting, peer.State);
    }

    [Fact(Timeout = 60_000)]
    public async Task Handshake_CertificateNotInOffer_FailsAndClosesPeer()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var endpoint = StartEndpoint();
        var peer = endpoint.CreatePeer(WebRtcOffers.Console(BrowserCertificate.Fingerprint));
        var closed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        peer.Closed += _ => closed.TrySetResult();
        using var browser = Connect(endpoint, peer, out var ufrag, out var password);
        await CheckAsync(browser, ufrag, password, ct);

        var impostor = new DtlsViewerClient(DtlsCertificate.Generate(), endpoint.Certificate.Fingerprint);
        await Assert.ThrowsAnyAsync<Exception>(() => impostor.ConnectAsync(new SocketDatagramTransport(browser)));

        await closed.Task.WaitAsync(TimeSpan.FromSeconds(20), ct);
        await Assert.ThrowsAnyAsync<Exception>(() => peer.WaitConnectedAsync(ct));
        Assert.Equal(WebRtcPeerState.Closed, peer.State);
        Assert.Equal(0, endpoint.PeerCount);
    }

    [Fact(Timeout = 30_000)]
    public async Task TryRenegotiate_IntercomAdded_AnswersAndKeepsSession()
    {
        await using var endpoint = StartEndpoint();
        var peer = endpoint.CreatePeer(WebRtcOffers.CameraAndAudio(BrowserCertificate.Fingerprint));
        var camera = peer.Tracks[0];

        Assert.True(peer.TryRenegotiate(WebRtcOffers.Console(BrowserCertificate.Fingerprint), out var answer, out var error), error);

        Assert.Equal(answer, peer.AnswerSdp);
        Assert.Equal(3, peer.Tracks.Count);
        Assert.Same(camera, peer.Tracks[0]);
        var parsed = SdpSession.Parse(answer);
        Assert.Equal(SdpSession.Parse(answer).Media[0].GetAttribute("ice-ufrag"), peer.LocalUfrag);
        Assert.Equal("BUNDLE 0 1 2", parsed.GetAttribute("group"));

        var restart = WebRtcOffers.Console(BrowserCertificate.Fingerprint).Replace("a=ice-ufrag:" + WebRtcOffers.Ufrag, "a=ice-ufrag:New1", StringComparison.Ordinal);
        Assert.False(peer.TryRenegotiate(restart, out _, out error));
        Assert.Contains("ICE", error, StringComparison.Ordinal);
        Assert.Equal(3, peer.Tracks.Count);
    }

    [Fact(Timeout = 30_000)]
    public async Task BindingRequest_WrongPassword_Gets401AndNoSession()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var endpoint = StartEndpoint();
        var peer = endpoint.CreatePeer(WebRtcOffers.Console(BrowserCertificate.Fingerprint));
        using var browser = Connect(endpoint, peer, out var ufrag, out _);

        var response = await CheckAsync(browser, ufrag, "not-the-password-at-all", ct);

        Assert.Equal(StunMessageType.BindingErrorResponse, response.Type);
        Assert.Equal(401, response.ErrorCode);
        Assert.Equal(WebRtcPeerState.New, peer.State);
        Assert.Null(peer.RemoteEndPoint);
    }

    [Fact(Timeout = 30_000)]
    public async Task BindingRequest_WithoutMessageIntegrity_Gets400()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var endpoint = StartEndpoint();
        var peer = endpoint.CreatePeer(WebRtcOffers.Console(BrowserCertificate.Fingerprint));
        using var browser = Connect(endpoint, peer, out var ufrag, out _);
        var request = StunMessage.CreateBindingRequest(ufrag + ":" + WebRtcOffers.Ufrag, 1, 2, controlling: true, useCandidate: true);
        var buffer = new byte[512];

        await browser.SendAsync(buffer.AsMemory(0, request.Write(buffer)), ct);
        var length = await browser.ReceiveAsync(buffer, ct);

        Assert.True(StunMessage.TryParse(buffer.AsSpan(0, length), out var response, out var error), error);
        Assert.Equal(400, response.ErrorCode);
        Assert.Equal(WebRtcPeerState.New, peer.State);
    }

    [Fact(Timeout = 30_000)]
    public async Task ConsentTimeout_NoChecks_ClosesPeer()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 25, 8, 0, 0, TimeSpan.Zero));
        var options = new WebRtcEndpointOptions { BindAddress = IPAddress.Loopback, Port = 0, ConsentTimeout = TimeSpan.FromSeconds(30) };
        await using var endpoint = new WebRtcEndpoint(options, NullLoggerFactory.Instance, time);
        endpoint.Start();
        var peer = endpoint.CreatePeer(WebRtcOffers.Console(BrowserCertificate.Fingerprint));
        var closed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        peer.Closed += _ => closed.TrySetResult();

        time.Advance(TimeSpan.FromSeconds(29));
        await Task.Delay(100, TestContext.Current.CancellationToken);
        Assert.Equal(1, endpoint.PeerCount);
        for (var i = 0; i < 5 && !closed.Task.IsCompleted; i++)
        {
            time.Advance(TimeSpan.FromSeconds(1));
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }

        await closed.Task.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        Assert.Equal(0, endpoint.PeerCount);
    }

    [Fact(Timeout = 60_000)]
    public async Task TimerLoop_ClosedHandlerThrows_LoopGoesOnAndOtherPeersStillExpire()
    {
        // Issue #14: an ObjectDisposedException from one peer's disposal (here its Closed handler, as in a disposal
        // race) ended the consent/RTCP loop for the process: no peer expired again and camera pulls leaked.
        var ct = TestContext.Current.CancellationToken;
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 2, 8, 0, 0, TimeSpan.Zero));
        var options = new WebRtcEndpointOptions { BindAddress = IPAddress.Loopback, Port = 0, ConsentTimeout = TimeSpan.FromSeconds(30) };
        await using var endpoint = new WebRtcEndpoint(options, NullLoggerFactory.Instance, time);
        endpoint.Start();
        var bad = endpoint.CreatePeer(WebRtcOffers.Console(BrowserCertificate.Fingerprint));
        var badClosed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        bad.Closed += _ =>
        {
            badClosed.TrySetResult();
            throw new ObjectDisposedException("SrtpContext", "injected: disposed under the loop");
        };

        await AdvanceUntilAsync(time, () => badClosed.Task.IsCompleted, ct);
        Assert.Equal(0, endpoint.PeerCount);

        // The loop survived: a peer created afterwards still expires, and so does one that throws something else.
        var good = endpoint.CreatePeer(WebRtcOffers.Console(BrowserCertificate.Fingerprint));
        var other = endpoint.CreatePeer(WebRtcOffers.Console(BrowserCertificate.Fingerprint));
        other.Closed += _ => throw new InvalidOperationException("injected");
        await AdvanceUntilAsync(time, () => good.State == WebRtcPeerState.Closed && other.State == WebRtcPeerState.Closed, ct);
        Assert.Equal(0, endpoint.PeerCount);
    }

    /// <summary>Moves the fake clock a second at a time (the loop's period) until the condition holds.</summary>
    private static async Task AdvanceUntilAsync(FakeTimeProvider time, Func<bool> condition, CancellationToken ct)
    {
        for (var i = 0; i < 600 && !condition(); i++)
        {
            time.Advance(TimeSpan.FromSeconds(1));
            await Task.Delay(10, ct); // lets the loop run its tick; the condition, not this delay, decides
        }

        Assert.True(condition(), "the consent loop did not get there");
    }

    [Fact(Timeout = 60_000)]
    public async Task Dispatch_FuzzedDatagrams_NeverThrow()
    {
        await using var endpoint = StartEndpoint();
        var peer = endpoint.CreatePeer(WebRtcOffers.Console(BrowserCertificate.Fingerprint));
        var answer = SdpSession.Parse(peer.AnswerSdp);
        var request = StunMessage.CreateBindingRequest(
            answer.Media[0].GetAttribute("ice-ufrag") + ":" + WebRtcOffers.Ufrag, 1, 2, controlling: true, useCandidate: true);
        var stun = new byte[request.GetLength(withIntegrity: true)];
        request.Write(stun, StunMessage.ShortTermKey(answer.Media[0].GetAttribute("ice-pwd")!));
        var dtls = Convert.FromHexString("16FEFD00000000000000000004" + "01000000");
        var rtp = Rtp(payloadType: 0, seq: 1, timestamp: 2, ssrc: 1001, payload: 0);
        var rtcp = Convert.FromHexString("81CE00021122334455667788");

        // The discard port: error responses the fuzz provokes go nowhere.
        var from = new IPEndPoint(IPAddress.Loopback, 9).Serialize();
        var iteration = 0;
        foreach (var input in MediaFuzz.Inputs(7983, [stun, dtls, rtp, rtcp]))
        {
            iteration++;
            endpoint.Dispatch(input, from);
        }

        Assert.Equal(MediaFuzz.Iterations, iteration);
        Assert.Equal(1, endpoint.PeerCount);
    }

    private static WebRtcEndpoint StartEndpoint()
    {
        var options = new WebRtcEndpointOptions
        {
            BindAddress = IPAddress.Loopback,
            Port = 0,
            AnnouncedAddress = IPAddress.Loopback,
            RtcpInterval = TimeSpan.FromMilliseconds(200),
        };
        var endpoint = new WebRtcEndpoint(options, NullLoggerFactory.Instance);
        endpoint.Start();
        return endpoint;
    }

    /// <summary>A browser socket aimed at the answer's candidate.</summary>
    private static Socket Connect(WebRtcEndpoint endpoint, WebRtcPeer peer, out string ufrag, out string password)
    {
        Assert.True(SdpSession.TryParse(peer.AnswerSdp, out var answer, out var error), error);
        ufrag = answer.Media[0].GetAttribute("ice-ufrag")!;
        password = answer.Media[0].GetAttribute("ice-pwd")!;
        var candidate = answer.Media[0].GetAttribute("candidate")!.Split(' ');
        Assert.Equal(endpoint.LocalEndPoint.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), candidate[5]);
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        socket.Connect(IPAddress.Parse(candidate[4]), endpoint.LocalEndPoint.Port);
        return socket;
    }

    private static async Task<StunMessage> CheckAsync(Socket browser, string ufrag, string password, CancellationToken ct, bool useCandidate = true)
    {
        var request = StunMessage.CreateBindingRequest(ufrag + ":" + WebRtcOffers.Ufrag, 1_853_824_767, 0x1122334455667788, controlling: true, useCandidate);
        var buffer = new byte[1500];
        var key = StunMessage.ShortTermKey(password);
        await browser.SendAsync(buffer.AsMemory(0, request.Write(buffer, key)), ct);
        var length = await browser.ReceiveAsync(buffer, ct);
        Assert.True(StunMessage.TryParse(buffer.AsSpan(0, length), out var response, out var error), error);
        Assert.True(request.TransactionId.Span.SequenceEqual(response.TransactionId.Span));
        if (response.Type == StunMessageType.BindingSuccessResponse)
        {
            Assert.True(response.CheckIntegrity(buffer.AsSpan(0, length), key));
        }

        return response;
    }

    private static byte[] Rtp(byte payloadType, ushort seq, uint timestamp, uint ssrc, byte payload)
    {
        var packet = new byte[12 + 160];
        packet[0] = 0x80;
        packet[1] = payloadType;
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(2), seq);
        BinaryPrimitives.WriteUInt32BigEndian(packet.AsSpan(4), timestamp);
        BinaryPrimitives.WriteUInt32BigEndian(packet.AsSpan(8), ssrc);
        packet.AsSpan(12).Fill(payload);
        return packet;
    }

    private static void SendProtectedRtp(Socket browser, SrtpContext context, byte[] rtp)
    {
        var buffer = new byte[rtp.Length + SrtpContext.AuthTagLength];
        rtp.CopyTo(buffer, 0);
        Assert.True(context.TryProtectRtp(buffer, rtp.Length, out var length, out var error), error);
        browser.Send(buffer.AsSpan(0, length));
    }

    private static void SendProtectedRtcp(Socket browser, SrtpContext context, Func<byte[], int> write)
    {
        var buffer = new byte[1500];
        var length = write(buffer);
        Assert.True(context.TryProtectRtcp(buffer, length, out var protectedLength, out var error), error);
        browser.Send(buffer.AsSpan(0, protectedLength));
    }

    /// <summary>Reads datagrams until one RTP (or RTCP of <paramref name="rtcpType"/>) unprotects; others are skipped.</summary>
    private static async Task<byte[]> ReceiveAsync(Socket browser, SrtpContext context, bool rtcp, CancellationToken ct, byte rtcpType = 0)
    {
        var buffer = new byte[1500];
        while (true)
        {
            var length = await browser.ReceiveAsync(buffer, ct);
            var isRtcp = length > 1 && (buffer[1] & 0x7F) is >= 64 and <= 95;
            if (isRtcp != rtcp || buffer[0] < 128 || (rtcp && buffer[1] != rtcpType))
            {
                continue;
            }

            var packet = buffer.AsSpan(0, length);
            var ok = rtcp ? context.TryUnprotectRtcp(packet, out var plain, out var error) : context.TryUnprotectRtp(packet, out plain, out error);
            Assert.True(ok, error);
            return buffer[..plain];
        }
    }
}
