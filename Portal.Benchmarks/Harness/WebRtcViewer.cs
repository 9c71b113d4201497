using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Org.BouncyCastle.Tls;
using Portal.Media.Core;
using Portal.Media.Rtp.Rtcp;
using Portal.Media.Sdp;
using Portal.Media.WebRtc.Dtls;
using Portal.Media.WebRtc.Srtp;
using Portal.Media.WebRtc.Stun;

namespace Portal.Benchmarks.Harness;

/// <summary>
/// A browser stand-in that costs far less than Chromium: a recvonly H.264 offer, one nominating ICE check with the
/// answer's credentials (and consent checks every 5 s), a BouncyCastle DTLS 1.2 client with use_srtp, then SRTP
/// receive with authentication and decryption of every packet, counting packets and sequence gaps.
/// </summary>
/// <remarks>
/// Everything goes over its own UDP socket on 127.0.0.1 to the answer's host candidate, as Chrome's would.
/// Nothing is decoded: the viewer proves delivery and integrity, not picture quality.
/// </remarks>
public sealed class WebRtcViewer : IAsyncDisposable
{
    private const int ReceiveBufferBytes = 4 * 1024 * 1024;

    private readonly DtlsCertificate _certificate;
    private readonly string _ufrag = RandomToken(8);
    private readonly string _password = RandomToken(24);
    private readonly Socket _socket = new(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
    private readonly BlockingCollection<byte[]> _dtlsIn = new(new ConcurrentQueue<byte[]>(), 256);
    private readonly CancellationTokenSource _cts = new();
    private readonly Lock _sequenceLock = new();
    private readonly TaskCompletionSource _checked = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly IMediaSink? _sink;
    private readonly bool _audio;
    private SrtpContext? _srtp;
    private SrtpContext? _srtpOut;
    private uint _mediaSsrc;
    private string _stunUsername = string.Empty;
    private byte[] _stunKey = [];
    private Task _receiveLoop = Task.CompletedTask;
    private Task _consentLoop = Task.CompletedTask;
    private long _packets;
    private long _bytes;
    private long _authFailures;
    private long _highest = -1;
    private long _firstSequence = -1;
    private long _firstPacketTicks;

    /// <param name="certificate">The viewer's DTLS certificate (its fingerprint goes in the offer).</param>
    /// <param name="sink">Also handed every decrypted RTP packet (e.g. an <see cref="RtpCollector"/>), on the receive loop.</param>
    /// <param name="audio">
    /// An operator instead of a viewer: a sendrecv PCMU audio offer (the intercom's), and <see cref="SendRtp"/> sends
    /// SRTP audio back as a browser's microphone would.
    /// </param>
    public WebRtcViewer(DtlsCertificate certificate, IMediaSink? sink = null, bool audio = false)
    {
        _certificate = certificate;
        _sink = sink;
        _audio = audio;
        _socket.ReceiveBufferSize = ReceiveBufferBytes; // capped by net.core.rmem_max; reported by the caller
        _socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
    }

    /// <summary>What the viewer receives, as handed to its sink: H.264 video.</summary>
    public static MediaTrack VideoTrack { get; } = new(MediaKind.Video, new Codec(Codec.H264, 90000, 102, 0, "packetization-mode=1"), "0");

    /// <summary>What an operator peer receives: G.711 μ-law audio.</summary>
    public static MediaTrack AudioTrack { get; } = new(MediaKind.Audio, new Codec(Codec.Pcmu, 8000, 0, 1), "0");

    /// <summary>Authenticated, decrypted RTP packets received.</summary>
    public long Packets => Interlocked.Read(ref _packets);

    /// <summary>RTP bytes (header and payload, before SRTP's tag) received.</summary>
    public long Bytes => Interlocked.Read(ref _bytes);

    public long AuthFailures => Interlocked.Read(ref _authFailures);

    /// <summary>Packets expected from the first to the highest extended sequence number seen (RFC 3550 A.3).</summary>
    public long Expected
    {
        get
        {
            lock (_sequenceLock)
            {
                return _highest < 0 ? 0 : _highest - _firstSequence + 1;
            }
        }
    }

    /// <summary>Stopwatch ticks of the first media packet, 0 before.</summary>
    public long FirstPacketTicks => Interlocked.Read(ref _firstPacketTicks);

    public int SocketReceiveBuffer => _socket.ReceiveBufferSize;

    /// <summary>A recvonly offer for one H.264 video section (or a sendrecv PCMU audio one), shaped like Chrome's (rtcp-mux, BUNDLE, actpass).</summary>
    public string CreateOffer() => _audio ? CreateAudioOffer() : string.Join("\r\n",
        [.. OfferHead("WMS", "m=video 9 UDP/TLS/RTP/SAVPF 102"),
        "a=recvonly",
        "a=rtcp-mux",
        "a=rtcp-rsize",
        "a=rtpmap:102 H264/90000",
        "a=rtcp-fb:102 ccm fir",
        "a=rtcp-fb:102 nack",
        "a=rtcp-fb:102 nack pli",
        "a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f",
        string.Empty]);

    /// <summary>The offer's session lines and the one media section's transport lines (ICE, DTLS, mid 0), shared by both offers.</summary>
    private string[] OfferHead(string msidSemantic, string media) =>
    [
        "v=0",
        "o=- " + RandomNumberGenerator.GetInt32(1, int.MaxValue).ToString(CultureInfo.InvariantCulture) + " 2 IN IP4 127.0.0.1",
        "s=-",
        "t=0 0",
        "a=group:BUNDLE 0",
        "a=msid-semantic: " + msidSemantic,
        media,
        "c=IN IP4 0.0.0.0",
        "a=rtcp:9 IN IP4 0.0.0.0",
        "a=ice-ufrag:" + _ufrag,
        "a=ice-pwd:" + _password,
        "a=ice-options:trickle",
        "a=fingerprint:" + _certificate.Fingerprint,
        "a=setup:actpass",
        "a=mid:0",
    ];

    private string CreateAudioOffer() => string.Join("\r\n",
        [.. OfferHead("WMS op", "m=audio 9 UDP/TLS/RTP/SAVPF 0"),
        "a=sendrecv",
        "a=msid:op mic",
        "a=rtcp-mux",
        "a=rtpmap:0 PCMU/8000",
        "a=ssrc:" + OperatorSsrc.ToString(CultureInfo.InvariantCulture) + " cname:operator",
        string.Empty]);

    /// <summary>The SSRC of the audio an operator peer sends.</summary>
    public const uint OperatorSsrc = 0x0FE7_A70F;

    /// <summary>
    /// Protects one RTP packet (in <paramref name="buffer"/>, with room for SRTP's tag) and sends it; false before the
    /// keys or when the send fails.
    /// </summary>
    public bool SendRtp(Span<byte> buffer, int length)
    {
        var srtp = Volatile.Read(ref _srtpOut);
        if (srtp is null)
        {
            return false;
        }

        lock (srtp)
        {
            if (!srtp.TryProtectRtp(buffer, length, out length, out _))
            {
                return false;
            }
        }

        try
        {
            _socket.Send(buffer[..length]);
            return true;
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            return false;
        }
    }

    /// <summary>ICE check to the answer's candidate, then the DTLS handshake; media counting starts with the keys.</summary>
    public async Task ConnectAsync(string answerSdp, TimeSpan timeout)
    {
        var answer = SdpSession.Parse(answerSdp);
        var media = answer.Media[0];
        var remoteUfrag = media.GetAttribute("ice-ufrag") ?? answer.GetAttribute("ice-ufrag") ?? throw new FormatException("answer has no ice-ufrag");
        var remotePassword = media.GetAttribute("ice-pwd") ?? answer.GetAttribute("ice-pwd") ?? throw new FormatException("answer has no ice-pwd");
        var fingerprint = media.GetAttribute("fingerprint") ?? answer.GetAttribute("fingerprint") ?? throw new FormatException("answer has no fingerprint");
        var candidate = (media.GetAttribute("candidate") ?? throw new FormatException("answer has no candidate")).Split(' ');
        _socket.Connect(IPAddress.Parse(candidate[4]), int.Parse(candidate[5], CultureInfo.InvariantCulture));
        _stunUsername = remoteUfrag + ":" + _ufrag;
        _stunKey = StunMessage.ShortTermKey(remotePassword);
        _receiveLoop = ReceiveLoopAsync(_cts.Token);

        using var deadline = new CancellationTokenSource(timeout);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token, _cts.Token);
        while (!_checked.Task.IsCompleted)
        {
            linked.Token.ThrowIfCancellationRequested(); // WhenAny does not throw for the cancelled delay
            SendCheck();
            await Task.WhenAny(_checked.Task, Task.Delay(200, linked.Token)).ConfigureAwait(false);
        }

        _consentLoop = ConsentLoopAsync(_cts.Token);
        var client = new DtlsViewerClient(_certificate, fingerprint, (int)timeout.TotalMilliseconds);
        var transport = new ViewerDatagramTransport(this);
        var keys = await client.ConnectAsync(transport, linked.Token).ConfigureAwait(false);

        // The server protects with the server_write keys; we unprotect with the same, and protect our RTCP with ours.
        Volatile.Write(ref _srtpOut, keys.CreateClientContext());
        Volatile.Write(ref _srtp, keys.CreateServerContext());
    }

    /// <summary>Sends a PLI for the video we receive (as a browser does when it cannot decode); false before any media.</summary>
    public bool RequestKeyframe()
    {
        var srtp = Volatile.Read(ref _srtpOut);
        var media = Volatile.Read(ref _mediaSsrc);
        if (srtp is null || media == 0)
        {
            return false;
        }

        var buffer = new byte[64];
        var length = new RtcpPli(0x5EED, media).Write(buffer);
        lock (srtp)
        {
            if (!srtp.TryProtectRtcp(buffer, length, out length, out _))
            {
                return false;
            }
        }

        try
        {
            _socket.Send(buffer.AsSpan(0, length));
            return true;
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _cts.CancelAsync().ConfigureAwait(false);
        _socket.Dispose();
        _dtlsIn.CompleteAdding();
        try
        {
            await Task.WhenAll(_receiveLoop, _consentLoop).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        _srtp?.Dispose();
        _srtpOut?.Dispose();
        _dtlsIn.Dispose();
        _cts.Dispose();
    }

    private static string RandomToken(int length) =>
        RandomNumberGenerator.GetString("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", length);

    private void SendCheck()
    {
        var request = StunMessage.CreateBindingRequest(_stunUsername, 1_853_824_767, 0x5EED_0000_0000_0001, controlling: true, useCandidate: true);
        Span<byte> buffer = stackalloc byte[512];
        try
        {
            _socket.Send(buffer[..request.Write(buffer, _stunKey)]);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
        }
    }

    /// <summary>RFC 7675 consent: the endpoint closes a peer after 30 s without a valid check.</summary>
    private async Task ConsentLoopAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(5));
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                SendCheck();
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task ReceiveLoopAsync(CancellationToken cancellationToken)
    {
        await Task.Yield();
        var buffer = GC.AllocateArray<byte>(2048, pinned: true);
        while (!cancellationToken.IsCancellationRequested)
        {
            int length;
            try
            {
                length = await _socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                if (ex is SocketException && !cancellationToken.IsCancellationRequested)
                {
                    continue; // ICMP port unreachable reported on a connected socket; keep going
                }

                return;
            }

            var datagram = buffer.AsSpan(0, length);
            if (length == 0)
            {
                continue;
            }

            var first = datagram[0];
            if (first <= 3)
            {
                if (StunMessage.TryParse(datagram, out var response, out _) && response.Type == StunMessageType.BindingSuccessResponse)
                {
                    _checked.TrySetResult();
                }
            }
            else if (first is >= 20 and <= 63)
            {
                try
                {
                    _dtlsIn.TryAdd(datagram.ToArray()); // a full queue drops, as a socket would; DTLS retransmits
                }
                catch (Exception ex) when (ex is InvalidOperationException or ObjectDisposedException)
                {
                    return; // disposed
                }
            }
            else if (first is >= 128 and <= 191 && length > 12)
            {
                OnMedia(datagram);
            }
        }
    }

    private void OnMedia(Span<byte> datagram)
    {
        var srtp = Volatile.Read(ref _srtp);
        if (srtp is null || (datagram[1] & 0x7F) is >= 64 and <= 95)
        {
            return; // RTCP (sender reports) is not needed here
        }

        if (!srtp.TryUnprotectRtp(datagram, out var length, out _))
        {
            Interlocked.Increment(ref _authFailures);
            return;
        }

        var sequence = BinaryPrimitives.ReadUInt16BigEndian(datagram[2..]);
        lock (_sequenceLock)
        {
            if (_highest < 0)
            {
                _highest = _firstSequence = sequence;
                Interlocked.Exchange(ref _firstPacketTicks, System.Diagnostics.Stopwatch.GetTimestamp());
            }
            else
            {
                // Extend to 64 bits around the highest seen, so a wrap past 65535 keeps counting.
                var delta = (short)(sequence - (ushort)_highest);
                var extended = _highest + delta;
                if (extended > _highest)
                {
                    _highest = extended;
                }
            }
        }

        Volatile.Write(ref _mediaSsrc, BinaryPrimitives.ReadUInt32BigEndian(datagram[8..]));
        Interlocked.Increment(ref _packets);
        Interlocked.Add(ref _bytes, length);
        _sink?.WriteRtp(_audio ? AudioTrack : VideoTrack, datagram[..length]);
    }

    /// <summary>BouncyCastle's blocking transport over the viewer's socket and its DTLS queue.</summary>
    private sealed class ViewerDatagramTransport(WebRtcViewer viewer) : DatagramTransport
    {
        public int GetReceiveLimit() => 1500;

        public int GetSendLimit() => 1200;

        public int Receive(byte[] buf, int off, int len, int waitMillis) => Receive(buf.AsSpan(off, len), waitMillis);

        public int Receive(Span<byte> buffer, int waitMillis)
        {
            try
            {
                if (!viewer._dtlsIn.TryTake(out var datagram, waitMillis))
                {
                    return -1;
                }

                var length = Math.Min(buffer.Length, datagram.Length);
                datagram.AsSpan(0, length).CopyTo(buffer);
                return length;
            }
            catch (ObjectDisposedException)
            {
                throw new IOException("viewer closed");
            }
        }

        public void Send(byte[] buf, int off, int len) => Send(buf.AsSpan(off, len));

        public void Send(ReadOnlySpan<byte> buffer)
        {
            try
            {
                viewer._socket.Send(buffer);
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                throw new IOException("viewer send failed", ex);
            }
        }

        public void Close()
        {
        }
    }
}
