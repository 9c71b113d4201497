using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Portal.Media.WebRtc.Dtls;
using Portal.Media.WebRtc.Stun;

namespace Portal.Media.WebRtc;

/// <summary>
/// The shared WebRTC UDP port: an ICE-lite agent (RFC 8445 §2.5, server side only) that demultiplexes every
/// browser session arriving on one socket.
/// </summary>
/// <remarks>
/// Demultiplexing follows RFC 7983 §7 on the first byte: 0..3 STUN, 20..63 DTLS, 128..191 RTP/RTCP; anything else
/// is dropped. STUN binding requests are matched to a peer by the local half of USERNAME (our ufrag) and checked
/// with MESSAGE-INTEGRITY; a valid check maps its source address to that peer, and DTLS and SRTP are then routed
/// by source address. A lite agent never sends checks: it only answers, and the browser (controlling) nominates.
/// <code>
/// await using var endpoint = new WebRtcEndpoint(options, loggerFactory);
/// endpoint.Start();
/// var peer = endpoint.CreatePeer(offerSdp);           // peer.AnswerSdp goes back to the browser
/// </code>
/// </remarks>
public sealed class WebRtcEndpoint : IAsyncDisposable
{
    private const int ReceiveBufferSize = 2048;

    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger<WebRtcEndpoint> _logger;
    private readonly TimeProvider _timeProvider;
    private readonly Socket _socket;
    private readonly ConcurrentDictionary<string, WebRtcPeer> _byUfrag = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<SocketAddress, WebRtcPeer> _byAddress = new();
    private readonly CancellationTokenSource _cts = new();
    private readonly byte[] _stunBuffer = new byte[ReceiveBufferSize];
    private Task _receiveLoop = Task.CompletedTask;
    private Task _timerLoop = Task.CompletedTask;

    public WebRtcEndpoint(WebRtcEndpointOptions options, ILoggerFactory loggerFactory, TimeProvider? timeProvider = null, DtlsCertificate? certificate = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        Options = options;
        _loggerFactory = loggerFactory;
        _logger = loggerFactory.CreateLogger<WebRtcEndpoint>();
        _timeProvider = timeProvider ?? TimeProvider.System;
        Certificate = certificate ?? DtlsCertificate.Generate(_timeProvider);
        _socket = new Socket(options.BindAddress.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        if (options.BindAddress.AddressFamily == AddressFamily.InterNetworkV6)
        {
            _socket.DualMode = true; // [::] also serves IPv4 browsers
        }
    }

    public WebRtcEndpointOptions Options { get; }

    /// <summary>The certificate every peer presents; its fingerprint is in every answer.</summary>
    public DtlsCertificate Certificate { get; }

    /// <summary>The bound socket address (after <see cref="Start"/>).</summary>
    public IPEndPoint LocalEndPoint => (IPEndPoint)_socket.LocalEndPoint!;

    public int PeerCount => _byUfrag.Count;

    /// <summary>Binds the socket and starts the receive loop and the consent/RTCP timer.</summary>
    public void Start()
    {
        _socket.Bind(new IPEndPoint(Options.BindAddress, Options.Port));
        _receiveLoop = ReceiveLoopAsync(_cts.Token);
        _timerLoop = TimerLoopAsync(_cts.Token);
        _logger.LogInformation("WebRTC endpoint listening on {EndPoint}, announcing {Address}", LocalEndPoint, Options.AnnouncedAddress);
    }

    /// <summary>Answers a browser's offer; throws <see cref="FormatException"/> when it cannot be served.</summary>
    public WebRtcPeer CreatePeer(string offerSdp) =>
        TryCreatePeer(offerSdp, out var peer, out var error) ? peer : throw new FormatException(error);

    /// <param name="offerSdp">The browser's offer.</param>
    /// <param name="peer">The new session.</param>
    /// <param name="error">Why the offer cannot be served.</param>
    /// <param name="audioCodecs">Audio encodings for this session only (the intercom takes the one its SIP call agreed), else the endpoint's.</param>
    public bool TryCreatePeer(string offerSdp, [NotNullWhen(true)] out WebRtcPeer? peer, out string error, IReadOnlyList<string>? audioCodecs = null)
    {
        peer = null;
        if (!_socket.IsBound)
        {
            throw new InvalidOperationException("Start the WebRTC endpoint before creating peers: the answer needs its port.");
        }

        string ufrag;
        do
        {
            ufrag = RandomToken(8);
        }
        while (_byUfrag.ContainsKey(ufrag));

        var password = RandomToken(24);
        var local = new WebRtcLocalDescription(
            ufrag,
            password,
            Certificate.Fingerprint,
            new IPEndPoint(Options.AnnouncedAddress, LocalEndPoint.Port),
            audioCodecs ?? Options.AudioCodecs,
            RandomNumberGenerator.GetInt32(1, int.MaxValue).ToString(CultureInfo.InvariantCulture));
        if (!WebRtcSdp.TryNegotiate(offerSdp, local, out var negotiation, out error))
        {
            _logger.LogWarning("WebRTC offer refused: {Error}", error);
            return false;
        }

        peer = new WebRtcPeer(this, negotiation, local, _loggerFactory.CreateLogger<WebRtcPeer>(), _timeProvider);
        _byUfrag[ufrag] = peer;
        _logger.LogInformation("WebRTC peer {Ufrag} created with {Tracks}", ufrag, string.Join(", ", peer.Tracks));
        return true;
    }

    public async ValueTask DisposeAsync()
    {
        if (_cts.IsCancellationRequested)
        {
            return;
        }

        await _cts.CancelAsync().ConfigureAwait(false);
        foreach (var peer in _byUfrag.Values)
        {
            await peer.DisposeAsync().ConfigureAwait(false);
        }

        _socket.Dispose();
        await Task.WhenAll(_receiveLoop, _timerLoop).ConfigureAwait(false);
        _cts.Dispose();
    }

    internal void Map(SocketAddress address, WebRtcPeer peer) => _byAddress[address] = peer;

    internal void Remove(WebRtcPeer peer)
    {
        _byUfrag.TryRemove(new KeyValuePair<string, WebRtcPeer>(peer.LocalUfrag, peer));
        foreach (var entry in _byAddress.Where(e => ReferenceEquals(e.Value, peer)).ToList())
        {
            _byAddress.TryRemove(entry);
        }
    }

    internal void Send(ReadOnlySpan<byte> datagram, SocketAddress target)
    {
        try
        {
            _socket.SendTo(datagram, SocketFlags.None, target);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            _logger.LogDebug(ex, "WebRTC send failed");
        }
    }

    /// <summary>Handles one datagram; pure dispatch, so tests and the receive loop share it.</summary>
    internal void Dispatch(Span<byte> datagram, SocketAddress from)
    {
        if (datagram.IsEmpty)
        {
            return;
        }

        var first = datagram[0];
        if (first <= 3)
        {
            HandleStun(datagram, from);
        }
        else if (first is >= 20 and <= 63)
        {
            if (_byAddress.TryGetValue(from, out var peer))
            {
                peer.OnDtls(datagram);
            }
        }
        else if (first is >= 128 and <= 191 && _byAddress.TryGetValue(from, out var peer))
        {
            peer.OnRtpOrRtcp(datagram);
        }
    }

    private void HandleStun(ReadOnlySpan<byte> datagram, SocketAddress from)
    {
        if (!StunMessage.TryParse(datagram, out var request, out var error))
        {
            _logger.LogTrace("Dropped STUN datagram: {Error}", error);
            return;
        }

        if (request.Type != StunMessageType.BindingRequest)
        {
            return; // indications are keepalives; a lite agent sends no requests, so expects no responses
        }

        var colon = request.Username?.IndexOf(':', StringComparison.Ordinal) ?? -1;
        if (colon <= 0 || !_byUfrag.TryGetValue(request.Username![..colon], out var peer))
        {
            return; // unknown session: stay silent rather than answer scanners
        }

        if (!request.HasMessageIntegrity)
        {
            Reply(StunMessage.CreateErrorResponse(request, 400, "Bad Request"), default, from); // RFC 8489 §9.1.3
            return;
        }

        if (!request.CheckIntegrity(datagram, peer.LocalKey))
        {
            Reply(StunMessage.CreateErrorResponse(request, 401, "Unauthorized"), default, from);
            return;
        }

        if (!string.Equals(request.Username[(colon + 1)..], peer.RemoteUfrag, StringComparison.Ordinal))
        {
            Reply(StunMessage.CreateErrorResponse(request, 401, "Unauthorized"), default, from);
            return;
        }

        var mapped = (IPEndPoint)new IPEndPoint(IPAddress.Any, 0).Create(from);
        if (mapped.Address.IsIPv4MappedToIPv6)
        {
            mapped = new IPEndPoint(mapped.Address.MapToIPv4(), mapped.Port); // dual-mode socket: report what the browser sent from
        }

        // Learn the address before answering: the browser starts DTLS the moment it has the answer, and its
        // first flight must find the address already mapped to this peer.
        peer.OnValidBindingRequest(from, request.UseCandidate);
        Reply(StunMessage.CreateSuccessResponse(request, mapped), peer.LocalKey, from);
    }

    private void Reply(StunMessage response, ReadOnlySpan<byte> key, SocketAddress to)
    {
        lock (_stunBuffer)
        {
            var length = response.Write(_stunBuffer, key);
            Send(_stunBuffer.AsSpan(0, length), to);
        }
    }

    private async Task ReceiveLoopAsync(CancellationToken cancellationToken)
    {
        await Task.Yield();
        var buffer = GC.AllocateArray<byte>(ReceiveBufferSize, pinned: true);
        var from = new SocketAddress(_socket.AddressFamily);
        while (!cancellationToken.IsCancellationRequested)
        {
            int received;
            try
            {
                received = await _socket.ReceiveFromAsync(buffer, SocketFlags.None, from, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
            catch (ObjectDisposedException)
            {
                break;
            }
            catch (SocketException ex)
            {
                _logger.LogDebug(ex, "WebRTC receive error");
                continue;
            }

            try
            {
                Dispatch(buffer.AsSpan(0, received), from);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // One bad datagram or a throwing application handler must not stop every session.
                _logger.LogError(ex, "WebRTC datagram handling failed");
            }
        }
    }

    private async Task TimerLoopAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(Options.RtcpInterval, _timeProvider);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                foreach (var peer in _byUfrag.Values)
                {
                    // Each peer on its own: one that throws (a Closed handler, a disposal race) must not stop the
                    // loop, or no peer would expire or get reports again for the life of the process (issue #14).
                    try
                    {
                        if (peer.IsConsentExpired(Options.ConsentTimeout))
                        {
                            _logger.LogInformation("WebRTC peer {Ufrag} consent expired", peer.LocalUfrag);
                            await peer.DisposeAsync().ConfigureAwait(false);
                        }
                        else
                        {
                            peer.SendReports();
                        }
                    }
                    catch (Exception ex) when (ex is not OutOfMemoryException and not OperationCanceledException)
                    {
                        _logger.LogError(ex, "WebRTC peer {Ufrag}: consent/RTCP tick failed", peer.LocalUfrag);
                        if (peer.State == WebRtcPeerState.Closed)
                        {
                            Remove(peer); // closed, whatever threw after: never tick it again
                        }
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>ICE ufrag/pwd characters are ice-char: ALPHA / DIGIT / "+" / "/" (RFC 8839 §5.4); alphanumerics suffice.</summary>
    private static string RandomToken(int length) =>
        RandomNumberGenerator.GetString("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", length);
}
