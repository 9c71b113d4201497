using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging.Abstractions;
using Portal.Media.Bridges;
using Portal.Media.Core;
using Portal.Media.Rtp;
using Portal.Media.Sdp;
using Portal.Media.WebRtc;
using Portal.Media.WebRtc.Dtls;
using Portal.Media.WebRtc.Stun;
using Portal.Simulator.Cameras;
using Portal.Tests.Media.WebRtc;
using Portal.Tests.Media.WebRtc.Dtls;
using Xunit;

namespace Portal.Tests.Media.Bridges;

/// <summary>
/// Issue #5: forwarding a camera to its viewers allocates nothing per packet once warm (before the fix, about
/// 1.7 KB per camera packet: each NAL copied out of the depacketizer, each packet copied into the GOP cache).
/// Counted with <see cref="GC.GetAllocatedBytesForCurrentThread"/>, because the whole fan-out runs on the
/// thread that writes the camera's packet; this is an allocation count, not a timing.
/// </summary>
public sealed class CameraStreamAllocationTests
{
    /// <summary>Slack for a runtime that still tiers a method up mid-run (its call counting allocates a little).</summary>
    private const long AllowedBytes = 1024;

    private const int Measured = 10_000;

    [Fact]
    public void WriteRtp_WarmStreamThreeViewers_AllocatesNothingPerPacket()
    {
        var camera = new CameraPackets();
        var stream = new CameraStream(new CameraHubOptions(), NullLogger.Instance, TimeProvider.System);
        var viewers = new[] { new CountingSink(), new CountingSink(), new CountingSink() };
        foreach (var viewer in viewers)
        {
            stream.AddViewer(viewer);
        }

        WarmUp(stream, camera);
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < Measured; i++)
        {
            stream.WriteRtp(camera.Track, camera.Next());
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.True(viewers.All(v => v.Packets > Measured), "every viewer got the stream");
        Assert.True(allocated <= AllowedBytes, $"{allocated} bytes allocated for {Measured} camera packets");
    }

    [Fact(Timeout = 60_000)]
    [Trait("Category", "Integration")]
    public async Task WriteRtp_WarmStreamToConnectedWebRtcPeers_AllocatesNothingPerPacket()
    {
        var ct = TestContext.Current.CancellationToken;
        var options = new WebRtcEndpointOptions { BindAddress = IPAddress.Loopback, Port = 0, AnnouncedAddress = IPAddress.Loopback };
        await using var endpoint = new WebRtcEndpoint(options, NullLoggerFactory.Instance);
        endpoint.Start();
        var browserCertificate = DtlsCertificate.Generate();
        var camera = new CameraPackets();
        var stream = new CameraStream(new CameraHubOptions(), NullLogger.Instance, TimeProvider.System);
        var sockets = new List<Socket>();
        var sinks = new List<PeerSink>();
        try
        {
            for (var i = 0; i < 2; i++)
            {
                var peer = endpoint.CreatePeer(WebRtcOffers.Console(browserCertificate.Fingerprint));
                var browser = await ConnectAsync(endpoint, peer, browserCertificate, ct);
                sockets.Add(browser);
                sinks.Add(new PeerSink(peer, peer.Tracks.Single(t => t.Mid == "0")));
                stream.AddViewer(sinks[^1]);
            }

            WarmUp(stream, camera);
            await Task.Delay(300, ct); // tiered compilation of the warm-up's methods finishes in the background
            WarmUp(stream, camera);
            var before = GC.GetAllocatedBytesForCurrentThread();
            for (var i = 0; i < Measured; i++)
            {
                stream.WriteRtp(camera.Track, camera.Next());
            }

            var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

            Assert.All(sinks, s => Assert.Equal((0L, true), (s.Refused, s.Sent > Measured)));
            Assert.True(allocated <= AllowedBytes, $"{allocated} bytes allocated for {Measured} camera packets to two SRTP peers");
        }
        finally
        {
            foreach (var socket in sockets)
            {
                socket.Dispose();
            }
        }
    }

    [Fact]
    public void AddViewer_GopLargerThanCap_NoReplayUntilNextKeyframe()
    {
        var camera = new CameraPackets();
        var stream = new CameraStream(new CameraHubOptions { MaxGopBytes = 4096 }, NullLogger.Instance, TimeProvider.System);
        for (var i = 0; i < 60; i++)
        {
            stream.WriteRtp(camera.Track, camera.Next());
        }

        var late = new CountingSink();
        stream.AddViewer(late);

        Assert.Equal(0, late.Packets);
    }

    private static void WarmUp(CameraStream stream, CameraPackets camera)
    {
        // Two passes over the 10 s clip: the GOP cache and every reused buffer reach their size, the JIT tiers up.
        for (var i = 0; i < Math.Max(2 * camera.PerLoop, 5_000); i++)
        {
            stream.WriteRtp(camera.Track, camera.Next());
        }
    }

    /// <summary>ICE check and DTLS handshake as a browser would do them; returns the browser's socket.</summary>
    private static async Task<Socket> ConnectAsync(WebRtcEndpoint endpoint, WebRtcPeer peer, DtlsCertificate certificate, CancellationToken ct)
    {
        var answer = SdpSession.Parse(peer.AnswerSdp);
        var ufrag = answer.Media[0].GetAttribute("ice-ufrag")!;
        var key = StunMessage.ShortTermKey(answer.Media[0].GetAttribute("ice-pwd")!);
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        socket.Connect(IPAddress.Loopback, endpoint.LocalEndPoint.Port);
        var request = StunMessage.CreateBindingRequest(ufrag + ":" + WebRtcOffers.Ufrag, 1_853_824_767, 0x1122334455667788, controlling: true, useCandidate: true);
        var buffer = new byte[1500];
        await socket.SendAsync(buffer.AsMemory(0, request.Write(buffer, key)), ct);
        await socket.ReceiveAsync(buffer, ct);
        await new DtlsTestClient(certificate, endpoint.Certificate.Fingerprint).ConnectAsync(new SocketDatagramTransport(socket));
        await peer.WaitConnectedAsync(ct);
        return socket;
    }

    /// <summary>The gate clip as its camera sends it (1400-byte RTP), looped with continuous numbering.</summary>
    private sealed class CameraPackets
    {
        private readonly List<(byte[] Packet, bool Last)> _packets = [];
        private readonly byte[] _buffer = new byte[1500];
        private int _next;
        private ushort _sequence = 100;
        private uint _timestamp = 9000;

        public CameraPackets()
        {
            var clip = GateClip.Instance;
            var packetizer = new H264Packetizer(1400, 96, ssrc: 42);
            foreach (var frame in clip.Frames)
            {
                packetizer.Packetize(frame, 0, packet => _packets.Add((packet.ToArray(), false)));
                _packets[^1] = (_packets[^1].Packet, true);
            }

            Track = new MediaTrack(MediaKind.Video, new Codec(Codec.H264, 90000, 96, 0, "packetization-mode=1;sprop-parameter-sets=" + clip.SpropParameterSets), "trackID=0");
        }

        public MediaTrack Track { get; }

        public int PerLoop => _packets.Count;

        public ReadOnlySpan<byte> Next()
        {
            var (packet, last) = _packets[_next];
            _next = (_next + 1) % _packets.Count;
            packet.CopyTo(_buffer, 0);
            var span = _buffer.AsSpan(0, packet.Length);
            RtpPacket.SetSequenceAndTimestamp(span, _sequence++, _timestamp);
            _timestamp += last ? GateClip.TicksPerFrame : 0;
            return span;
        }
    }

    private sealed class CountingSink : IMediaSink
    {
        public long Packets { get; private set; }

        public void WriteRtp(MediaTrack track, ReadOnlySpan<byte> packet) => Packets++;
    }

    /// <summary>What <see cref="RtspToWebRtcBridge"/> does with each packet, without the hub's RTSP pull.</summary>
    private sealed class PeerSink(WebRtcPeer peer, WebRtcTrack track) : IMediaSink
    {
        public long Sent { get; private set; }

        public long Refused { get; private set; }

        public void WriteRtp(MediaTrack source, ReadOnlySpan<byte> packet)
        {
            if (peer.SendRtp(track, packet))
            {
                Sent++;
            }
            else
            {
                Refused++;
            }
        }
    }
}
