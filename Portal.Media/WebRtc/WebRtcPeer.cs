using System.Diagnostics.CodeAnalysis;
using System.Net;
using Microsoft.Extensions.Logging;
using Portal.Media.WebRtc.Dtls;
using Portal.Media.WebRtc.Srtp;

namespace Portal.Media.WebRtc;

/// <summary>Receives one decrypted RTP packet; <paramref name="rtpPacket"/> is only valid during the call.</summary>
public delegate void WebRtcRtpHandler(WebRtcPeer peer, WebRtcTrack track, ReadOnlySpan<byte> rtpPacket);

public enum WebRtcPeerState
{
    /// <summary>Answer produced; waiting for the browser's ICE checks.</summary>
    New,

    /// <summary>ICE check received, DTLS handshake running.</summary>
    Connecting,

    /// <summary>DTLS done, SRTP keys in place: media flows.</summary>
    Connected,

    /// <summary>Handshake failed; the peer is being closed.</summary>
    Failed,

    Closed,
}

/// <summary>
/// One browser session on the shared <see cref="WebRtcEndpoint"/>: the answer to its offer, ICE-lite consent,
/// the DTLS-SRTP handshake, and RTP/RTCP both ways. Create with <see cref="WebRtcEndpoint.CreatePeer"/>.
/// </summary>
/// <remarks>
/// Incoming packets are handled on the endpoint's receive loop, so <see cref="RtpReceived"/> and
/// <see cref="KeyframeRequested"/> handlers must return quickly (copy or queue, never block).
/// </remarks>
public sealed partial class WebRtcPeer : IAsyncDisposable
{
    /// <summary>Remote addresses one peer may validate (host, srflx, IPv6, relay...); more are ignored.</summary>
    internal const int MaxRemoteAddresses = 8;

    private readonly WebRtcEndpoint _endpoint;
    private readonly ILogger<WebRtcPeer> _logger;
    private readonly TimeProvider _timeProvider;
    private readonly DtlsServerSession _dtls;
    private readonly Lock _negotiation = new();

    // Replaced whole (never mutated) by a renegotiation, so the receive loop and senders read them without locks.
    private volatile IReadOnlyList<WebRtcTrack> _tracks;
    private volatile Dictionary<WebRtcTrack, WebRtcRtpSender> _senders = [];
    private volatile Dictionary<WebRtcTrack, WebRtcRtpReceiver> _receivers = [];
    private volatile string _answerSdp;
    private WebRtcLocalDescription _local;
    private readonly List<SocketAddress> _addresses = [];
    private readonly TaskCompletionSource _connected = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _cts = new();
    private readonly byte[] _rtcpBuffer = new byte[1500];
    private readonly Lock _sync = new();
    private readonly Action<ReadOnlySpan<byte>> _sendMedia;
    private SocketAddress? _selected;
    private SrtpContext? _inbound;
    private SrtpContext? _outbound;
    private long _lastConsentTicks;
    private int _state;

    internal WebRtcPeer(WebRtcEndpoint endpoint, WebRtcNegotiation negotiation, WebRtcLocalDescription local, ILogger<WebRtcPeer> logger, TimeProvider timeProvider)
    {
        _endpoint = endpoint;
        _logger = logger;
        _timeProvider = timeProvider;
        _local = local;
        LocalUfrag = local.Ufrag;
        LocalKey = Stun.StunMessage.ShortTermKey(local.Password);
        RemoteUfrag = negotiation.RemoteUfrag;
        RemotePassword = negotiation.RemotePassword;
        RemoteFingerprint = negotiation.RemoteFingerprint;
        _answerSdp = negotiation.AnswerSdp;
        _tracks = negotiation.Tracks;
        ApplyTracks(negotiation.Tracks);

        _sendMedia = SendMedia; // one delegate, not one per packet
        _lastConsentTicks = timeProvider.GetTimestamp();
        _dtls = new DtlsServerSession(endpoint.Certificate, RemoteFingerprint, SendDtls, endpoint.Options.HandshakeTimeout, OnDtlsFailed);
    }

    /// <summary>Raised for every authenticated RTP packet the browser sends (its microphone, later its camera).</summary>
    public event WebRtcRtpHandler? RtpReceived;

    /// <summary>Raised when the browser sends PLI or FIR for a track we send: the source should produce a keyframe.</summary>
    public event Action<WebRtcPeer, WebRtcTrack>? KeyframeRequested;

    /// <summary>Raised once when the peer closes (disposed, consent expired or handshake failed).</summary>
    public event Action<WebRtcPeer>? Closed;

    /// <summary>Our ICE username fragment: the peer's id on the endpoint.</summary>
    public string LocalUfrag { get; }

    public string RemoteUfrag { get; }

    public string RemoteFingerprint { get; }

    /// <summary>The latest SDP answer to hand back to the browser (<c>setRemoteDescription</c>).</summary>
    public string AnswerSdp => _answerSdp;

    /// <summary>The negotiated tracks; a renegotiation replaces the list (unchanged tracks keep their objects).</summary>
    public IReadOnlyList<WebRtcTrack> Tracks => _tracks;

    internal string RemotePassword { get; }

    public WebRtcPeerState State => (WebRtcPeerState)Volatile.Read(ref _state);

    /// <summary>The address media goes to: the nominated (USE-CANDIDATE) pair, else the latest checked one.</summary>
    public IPEndPoint? RemoteEndPoint
    {
        get
        {
            lock (_sync)
            {
                return _selected is null ? null : (IPEndPoint)new IPEndPoint(IPAddress.Any, 0).Create(_selected);
            }
        }
    }

    internal byte[] LocalKey { get; }

    /// <summary>Completes when DTLS is done and media can flow; faults if the handshake fails.</summary>
    public Task WaitConnectedAsync(CancellationToken cancellationToken = default) => _connected.Task.WaitAsync(cancellationToken);

    /// <summary>The first track of a kind we may send on, e.g. the gate camera's video.</summary>
    public WebRtcTrack? FindSendTrack(Core.MediaKind kind) => Tracks.FirstOrDefault(t => t.Kind == kind && t.CanSend);

    /// <summary>
    /// Sends one RTP packet on <paramref name="track"/>: SSRC and payload type are rewritten to the negotiated
    /// values, sequence number and timestamp are kept. False before <see cref="WebRtcPeerState.Connected"/>.
    /// </summary>
    public bool SendRtp(WebRtcTrack track, ReadOnlySpan<byte> rtpPacket)
    {
        var srtp = Volatile.Read(ref _outbound);
        return srtp is not null && _senders.TryGetValue(track, out var sender) && sender.Send(rtpPacket, srtp, _sendMedia);
    }

    /// <summary>
    /// Answers a re-offer on this live session, e.g. when the operator's console adds the intercom camera.
    /// ICE and DTLS stay as they are, so an ICE restart or a new certificate is refused: create a new peer for those.
    /// </summary>
    public bool TryRenegotiate(string offerSdp, [NotNullWhen(true)] out string? answerSdp, out string error)
    {
        answerSdp = null;
        lock (_negotiation)
        {
            var local = _local with { SessionVersion = _local.SessionVersion + 1 };
            if (!WebRtcSdp.TryNegotiate(offerSdp, local, out var negotiation, out error, _tracks))
            {
                return false;
            }

            if (negotiation.RemoteUfrag != RemoteUfrag || negotiation.RemotePassword != RemotePassword
                || !string.Equals(negotiation.RemoteFingerprint, RemoteFingerprint, StringComparison.OrdinalIgnoreCase))
            {
                error = "re-offer restarts ICE or changes the DTLS certificate; create a new peer instead";
                return false;
            }

            _local = local;
            ApplyTracks(negotiation.Tracks);
            _tracks = negotiation.Tracks;
            _answerSdp = answerSdp = negotiation.AnswerSdp;
            _logger.LogInformation("WebRTC peer {Ufrag} renegotiated: {Tracks}", LocalUfrag, string.Join(", ", negotiation.Tracks));
            return true;
        }
    }

    public async ValueTask DisposeAsync()
    {
        var previous = (WebRtcPeerState)Interlocked.Exchange(ref _state, (int)WebRtcPeerState.Closed);
        if (previous == WebRtcPeerState.Closed)
        {
            return;
        }

        await _cts.CancelAsync().ConfigureAwait(false);
        _endpoint.Remove(this);
        _dtls.Dispose();
        lock (_sync)
        {
            _inbound?.Dispose();
            _outbound?.Dispose();
            _inbound = _outbound = null;
        }

        _connected.TrySetException(new ObjectDisposedException(nameof(WebRtcPeer)));
        _ = _connected.Task.Exception; // observed: a peer closed before connecting is not an error
        _cts.Dispose();
        _logger.LogInformation("WebRTC peer {Ufrag} closed (was {State})", LocalUfrag, previous);
        Closed?.Invoke(this);
    }

    internal bool IsConsentExpired(TimeSpan timeout) => _timeProvider.GetElapsedTime(Interlocked.Read(ref _lastConsentTicks)) > timeout;

    /// <summary>A binding request from <paramref name="from"/> passed integrity: refresh consent, learn the address.</summary>
    internal void OnValidBindingRequest(SocketAddress from, bool useCandidate)
    {
        Interlocked.Exchange(ref _lastConsentTicks, _timeProvider.GetTimestamp());
        var isNew = false;
        lock (_sync)
        {
            if (!_addresses.Contains(from))
            {
                if (_addresses.Count >= MaxRemoteAddresses)
                {
                    return;
                }

                var copy = Copy(from);
                _addresses.Add(copy);
                _endpoint.Map(copy, this);
                isNew = true;
            }

            if (_selected is null || (useCandidate && !_selected.Equals(from)))
            {
                _selected = _addresses.First(a => a.Equals(from));
                _logger.LogDebug("WebRTC peer {Ufrag} selected {Address} (nominated: {Nominated})", LocalUfrag, RemoteEndPoint, useCandidate);
            }
        }

        if (isNew && Interlocked.CompareExchange(ref _state, (int)WebRtcPeerState.Connecting, (int)WebRtcPeerState.New) == (int)WebRtcPeerState.New)
        {
            _ = RunHandshakeAsync();
        }
    }

    internal void OnDtls(ReadOnlySpan<byte> datagram) => _dtls.OnDatagram(datagram);

    /// <summary>RTP or RTCP (RFC 5761 §4: payload types 64..95 after masking the marker are RTCP).</summary>
    internal void OnRtpOrRtcp(Span<byte> datagram)
    {
        var srtp = Volatile.Read(ref _inbound);
        if (srtp is null || datagram.Length < 2)
        {
            return;
        }

        if ((datagram[1] & 0x7F) is >= 64 and <= 95)
        {
            if (srtp.TryUnprotectRtcp(datagram, out var length, out var error))
            {
                HandleRtcp(datagram[..length]);
            }
            else
            {
                _logger.LogTrace("WebRTC peer {Ufrag} dropped SRTCP: {Error}", LocalUfrag, error);
            }

            return;
        }

        if (!srtp.TryUnprotectRtp(datagram, out var rtpLength, out var rtpError))
        {
            _logger.LogTrace("WebRTC peer {Ufrag} dropped SRTP: {Error}", LocalUfrag, rtpError);
            return;
        }

        var track = FindReceiveTrack(System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(datagram[8..]), datagram[1] & 0x7F);
        if (track is not null)
        {
            if (_receivers.TryGetValue(track, out var receiver))
            {
                receiver.OnRtp(datagram[..rtpLength]);
            }

            RtpReceived?.Invoke(this, track, datagram[..rtpLength]);
        }
    }

    /// <summary>
    /// The receiving track for an SSRC: the one the offer announced, else the first unbound track with the
    /// payload type (Firefox announces no a=ssrc). Null for RTX, FEC or streams we did not negotiate.
    /// Plain loops: this runs for every received packet.
    /// </summary>
    private WebRtcTrack? FindReceiveTrack(uint ssrc, int payloadType)
    {
        foreach (var track in Tracks)
        {
            if (track.CanReceive && track.RemoteSsrc == ssrc)
            {
                return track;
            }
        }

        foreach (var track in Tracks)
        {
            if (track.CanReceive && track.RemoteSsrc is null && track.Codec.PayloadType == payloadType)
            {
                track.RemoteSsrc = ssrc;
                return track;
            }
        }

        return null;
    }

    /// <summary>Builds the sender/receiver maps for a track list, keeping the state of tracks that carry over.</summary>
    private void ApplyTracks(IReadOnlyList<WebRtcTrack> tracks)
    {
        var senders = new Dictionary<WebRtcTrack, WebRtcRtpSender>();
        var receivers = new Dictionary<WebRtcTrack, WebRtcRtpReceiver>();
        foreach (var track in tracks)
        {
            if (track.CanSend)
            {
                senders[track] = _senders.TryGetValue(track, out var sender) ? sender : new WebRtcRtpSender(track, _timeProvider);
            }

            if (track.CanReceive)
            {
                receivers[track] = _receivers.TryGetValue(track, out var receiver) ? receiver : new WebRtcRtpReceiver(track, _timeProvider);
            }
        }

        _senders = senders;
        _receivers = receivers;
    }

    private async Task RunHandshakeAsync()
    {
        try
        {
            var keys = await _dtls.HandshakeAsync(_cts.Token).ConfigureAwait(false);
            lock (_sync)
            {
                if (State == WebRtcPeerState.Closed)
                {
                    return;
                }

                _inbound = keys.CreateClientContext();
                _outbound = keys.CreateServerContext();
            }

            Interlocked.CompareExchange(ref _state, (int)WebRtcPeerState.Connected, (int)WebRtcPeerState.Connecting);
            _logger.LogInformation("WebRTC peer {Ufrag} connected from {Address}", LocalUfrag, RemoteEndPoint);
            _connected.TrySetResult();
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // BouncyCastle reports alerts and timeouts as IOException subclasses, but anything it throws ends this peer.
            if (Interlocked.CompareExchange(ref _state, (int)WebRtcPeerState.Failed, (int)WebRtcPeerState.Connecting) == (int)WebRtcPeerState.Connecting)
            {
                _logger.LogWarning(ex, "WebRTC peer {Ufrag}: DTLS handshake failed", LocalUfrag);
                _connected.TrySetException(ex);
                await DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private void SendDtls(byte[] datagram, int length) => SendMedia(datagram.AsSpan(0, length));

    /// <summary>The DTLS session failed after the handshake in an unexpected way: this peer ends, no other.</summary>
    private void OnDtlsFailed(Exception exception)
    {
        _logger.LogError(exception, "WebRTC peer {Ufrag}: DTLS failed; closing the session", LocalUfrag);
        _ = CloseAfterFailureAsync();
    }

    private async Task CloseAfterFailureAsync()
    {
        try
        {
            await DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            _logger.LogWarning(ex, "WebRTC peer {Ufrag}: a Closed handler failed", LocalUfrag);
        }
    }

    private void SendMedia(ReadOnlySpan<byte> datagram)
    {
        SocketAddress? target;
        lock (_sync)
        {
            target = _selected;
        }

        if (target is not null)
        {
            _endpoint.Send(datagram, target);
        }
    }

    private static SocketAddress Copy(SocketAddress address)
    {
        var copy = new SocketAddress(address.Family, address.Size);
        address.Buffer.Span[..address.Size].CopyTo(copy.Buffer.Span);
        return copy;
    }
}
