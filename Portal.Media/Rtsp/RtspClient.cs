using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Portal.Media.Core;
using Portal.Media.Sdp;

namespace Portal.Media.Rtsp;

/// <summary>How RTP travels from the camera: interleaved in the RTSP TCP connection, or on UDP port pairs.</summary>
public enum RtspTransport
{
    Tcp,
    Udp,
}

/// <summary>Receives one RTP packet of a track; the span is only valid during the call.</summary>
public delegate void RtpReceivedHandler(MediaTrack track, ReadOnlySpan<byte> packet);

/// <summary>One RTSP session with a camera (RFC 2326): OPTIONS, DESCRIBE, SETUP, PLAY, keep-alive, TEARDOWN.</summary>
/// <remarks>
/// One connection, one read loop: RTSP responses and "$"-framed interleaved RTP (§10.12) share the TCP stream,
/// so a single reader dispatches both and requests wait for the response with their CSeq. Reconnecting is
/// not done here but by <see cref="RtspSource"/>, which makes a new client per attempt.
/// <code>
/// interleaved frame:  '$' | channel (8) | length (16, big endian) | RTP or RTCP packet
/// </code>
/// </remarks>
public sealed class RtspClient : IAsyncDisposable
{
    private const string UserAgent = "SchoolSafetyPortal";

    private readonly NetworkCredential? _credential;
    private readonly RtspAuthenticator _auth;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _requestLock = new(1, 1);
    private readonly CancellationTokenSource _cts = new();
    private int _disposed;
    private readonly Dictionary<int, MediaTrack> _channels = [];
    private readonly Dictionary<MediaTrack, TrackRtcp> _rtcp = new(ReferenceEqualityComparer.Instance);
    private readonly HashSet<string> _firTracks = [];
    private readonly List<RtspUdpReceiver> _udp = [];
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly uint _ssrc = (uint)System.Security.Cryptography.RandomNumberGenerator.GetInt32(1, int.MaxValue);
    private long _keyframeRequests;
    private readonly List<MediaTrack> _tracks = [];
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TcpClient? _tcp;
    private Stream? _stream;
    private TaskCompletionSource<RtspResponse>? _pending;
    private int _pendingCSeq;
    private int _cseq;
    private string? _session;
    private string? _baseUrl;
    private string? _aggregateControl;
    private bool _useGetParameter;
    private long _lastActivity;
    private Task _keepAlive = Task.CompletedTask;

    /// <param name="uri">The camera's rtsp:// URL (credentials in it are used and never sent on the request line).</param>
    /// <param name="credential">User and password; null takes them from the URL.</param>
    /// <param name="transport">TCP interleaved or UDP.</param>
    /// <param name="logger">Connection-level events.</param>
    /// <param name="timeProvider">Clock of timeouts and keep-alives.</param>
    /// <param name="allowBasicAuth">Answer a Basic challenge (the password in the clear); off unless the device is explicitly allowed it.</param>
    public RtspClient(Uri uri, NetworkCredential? credential = null, RtspTransport transport = RtspTransport.Tcp, ILogger<RtspClient>? logger = null, TimeProvider? timeProvider = null, bool allowBasicAuth = false)
    {
        ArgumentNullException.ThrowIfNull(uri);
        if (!uri.Scheme.Equals("rtsp", StringComparison.OrdinalIgnoreCase))
        {
            throw new ArgumentException("Only rtsp:// URLs are supported.", nameof(uri));
        }

        // Credentials in the URL (rtsp://user:pass@host/...) are common in camera configs; they never go on the wire.
        if (credential is null && uri.UserInfo.Length > 0)
        {
            var parts = uri.UserInfo.Split(':', 2);
            credential = new NetworkCredential(Uri.UnescapeDataString(parts[0]), parts.Length > 1 ? Uri.UnescapeDataString(parts[1]) : string.Empty);
        }

        Uri = uri;
        RequestUrl = uri.GetComponents(UriComponents.AbsoluteUri & ~UriComponents.UserInfo, UriFormat.UriEscaped);
        Transport = transport;
        _credential = credential;
        _auth = new RtspAuthenticator(credential, allowBasicAuth);
        _logger = logger ?? NullLogger<RtspClient>.Instance;
        _time = timeProvider ?? TimeProvider.System;
    }

    public Uri Uri { get; }

    /// <summary>The camera URL without user info, as sent on request lines.</summary>
    public string RequestUrl { get; }

    public RtspTransport Transport { get; }

    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Set before <see cref="PlayAsync"/>; called on the receive loop for every RTP packet.</summary>
    public RtpReceivedHandler? RtpReceived { get; set; }

    public SdpSession? Sdp { get; private set; }

    /// <summary>The tracks the DESCRIBE answer offered, each with its resolved control URL as id.</summary>
    public IReadOnlyList<MediaTrack> Tracks => _tracks;

    public TimeSpan SessionTimeout { get; private set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// When the last RTP packet arrived (or PLAY was answered), as <see cref="TimeProvider.GetTimestamp"/>. Responses
    /// and RTCP do not count: a camera whose encoder hung still answers keep-alives and sends sender reports.
    /// </summary>
    public long LastPacketTimestamp => Interlocked.Read(ref _lastActivity);

    /// <summary>Completes when the connection ends, faulted with the reason unless it was closed by us.</summary>
    public Task Completion => _completion.Task;

    public async Task ConnectAsync(CancellationToken cancellationToken)
    {
        var port = Uri.Port > 0 ? Uri.Port : 554;
        _tcp = new TcpClient(Uri.HostNameType == UriHostNameType.IPv6 ? AddressFamily.InterNetworkV6 : AddressFamily.InterNetwork) { NoDelay = true };
        using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            timeout.CancelAfter(RequestTimeout);
            await _tcp.ConnectAsync(Uri.IdnHost, port, timeout.Token).ConfigureAwait(false);
        }

        _stream = _tcp.GetStream();
        Touch();
        _ = Task.Run(() => ReadLoopAsync(new TextMessageReader(_stream), _cts.Token), CancellationToken.None);
    }

    public async Task<RtspResponse> OptionsAsync(CancellationToken cancellationToken)
    {
        var response = await SendAsync(new RtspRequest("OPTIONS", RequestUrl), cancellationToken).ConfigureAwait(false);
        EnsureSuccess(response, "OPTIONS");
        _useGetParameter = response.Headers["Public"]?.Contains("GET_PARAMETER", StringComparison.OrdinalIgnoreCase) == true;
        return response;
    }

    public async Task<SdpSession> DescribeAsync(CancellationToken cancellationToken)
    {
        var request = new RtspRequest("DESCRIBE", RequestUrl);
        request.Headers.Add("Accept", "application/sdp");
        var response = await SendAsync(request, cancellationToken).ConfigureAwait(false);
        EnsureSuccess(response, "DESCRIBE");
        if (!SdpSession.TryParse(Encoding.UTF8.GetString(response.Body.Span), out var sdp, out var error))
        {
            throw new RtspException("DESCRIBE answer has no valid SDP: " + error);
        }

        Sdp = sdp;
        _baseUrl = response.Headers["Content-Base"] ?? response.Headers["Content-Location"] ?? RequestUrl;
        _aggregateControl = sdp.Control is { Length: > 0 } c && c != "*" ? ResolveControl(_baseUrl, c) : _baseUrl;
        _tracks.Clear();
        foreach (var media in sdp.Media)
        {
            var codecs = Codec.FromSdp(media);
            var codec = codecs.Count > 0 ? codecs[0] : null;
            var kind = media.Type.Equals("video", StringComparison.OrdinalIgnoreCase) ? MediaKind.Video
                : media.Type.Equals("audio", StringComparison.OrdinalIgnoreCase) ? MediaKind.Audio : (MediaKind?)null;
            if (codec is not null && kind is { } k)
            {
                var track = new MediaTrack(k, codec, ResolveControl(_baseUrl, media.Control ?? string.Empty));
                _tracks.Add(track);
                if (RtspKeyframeRequest.OffersFir(media.GetAttributes("rtcp-fb"), codec.PayloadType))
                {
                    _firTracks.Add(track.Id);
                }
            }
        }

        return sdp;
    }

    /// <summary>Sets up one track from <see cref="Tracks"/> on the client's transport.</summary>
    public async Task SetupAsync(MediaTrack track, CancellationToken cancellationToken)
    {
        var index = _channels.Count / 2;
        var request = new RtspRequest("SETUP", track.Id);
        RtspUdpReceiver? udp = null;
        if (Transport == RtspTransport.Tcp)
        {
            request.Headers.Add("Transport", new RtspTransportHeader { Protocol = "RTP/AVP/TCP", Interleaved = (2 * index, (2 * index) + 1) }.ToString());
        }
        else
        {
            var local = ((IPEndPoint)_tcp!.Client.LocalEndPoint!).Address;
            udp = RtspUdpReceiver.Bind(local);
            _udp.Add(udp);
            request.Headers.Add("Transport", new RtspTransportHeader { ClientPort = (udp.RtpPort, udp.RtpPort + 1) }.ToString());
        }

        var response = await SendAsync(request, cancellationToken).ConfigureAwait(false);
        EnsureSuccess(response, "SETUP");
        _session ??= response.SessionId;
        SessionTimeout = response.SessionTimeout;
        if (!RtspTransportHeader.TryParse(response.Headers["Transport"], out var transport))
        {
            throw new RtspException("SETUP answer has no valid Transport header.");
        }

        var offersFir = _firTracks.Contains(track.Id);
        if (udp is not null)
        {
            var server = ((IPEndPoint)_tcp!.Client.RemoteEndPoint!).Address;
            var state = new TrackRtcp(transport.Ssrc, offersFir, null, transport.ServerPort is { } ports ? new IPEndPoint(server, ports.Rtcp) : null, udp);
            _rtcp[track] = state;
            udp.Start(
                server,
                packet =>
                {
                    Touch();
                    OnRtp(state, packet);
                    RtpReceived?.Invoke(track, packet);
                },
                _logger);
            _channels[2 * index] = track;
            _channels[(2 * index) + 1] = track;
            return;
        }

        var (rtp, rtcp) = transport.Interleaved ?? (2 * index, (2 * index) + 1);
        _channels[rtp] = track;
        _channels[rtcp] = track;
        _rtcp[track] = new TrackRtcp(transport.Ssrc, offersFir, rtcp, null, null);
    }

    /// <summary>Keyframe requests sent to the camera on this session (for diagnostics and tests).</summary>
    public long KeyframeRequests => Interlocked.Read(ref _keyframeRequests);

    /// <summary>
    /// Asks the camera for a keyframe on <paramref name="track"/> (see <see cref="RtspKeyframeRequest"/>): on the RTCP
    /// interleaved channel over TCP, or from our RTCP port to the camera's (its <c>server_port</c>) over UDP. Before the
    /// camera's SSRC is known (neither the Transport header nor an RTP packet has told it), the request goes out with
    /// the first packet. False when the track has no RTCP path (not set up, or UDP without a server port).
    /// </summary>
    public bool RequestKeyframe(MediaTrack track)
    {
        ArgumentNullException.ThrowIfNull(track);
        if (!_rtcp.TryGetValue(track, out var state) || (state.Channel is null && state.ServerRtcp is null) || _completion.Task.IsCompleted)
        {
            return false;
        }

        if (state.MediaSsrc is null)
        {
            Volatile.Write(ref state.Pending, 1);
            return true;
        }

        SendKeyframeRequest(state);
        return true;
    }

    public async Task PlayAsync(CancellationToken cancellationToken)
    {
        var request = new RtspRequest("PLAY", _aggregateControl ?? RequestUrl);
        request.Headers.Add("Range", "npt=0.000-");
        var response = await SendAsync(request, cancellationToken).ConfigureAwait(false);
        EnsureSuccess(response, "PLAY");
        Touch();
        _keepAlive = Task.Run(() => KeepAliveLoopAsync(_cts.Token), CancellationToken.None);
    }

    /// <summary>Keeps the session alive (RFC 2326 §12.37): GET_PARAMETER where offered, else OPTIONS.</summary>
    public async Task KeepAliveAsync(CancellationToken cancellationToken)
    {
        var response = await SendAsync(new RtspRequest(_useGetParameter ? "GET_PARAMETER" : "OPTIONS", _aggregateControl ?? RequestUrl), cancellationToken).ConfigureAwait(false);
        EnsureSuccess(response, "keep-alive");
    }

    public async Task TeardownAsync(CancellationToken cancellationToken)
    {
        if (_session is null || _stream is null || _completion.Task.IsCompleted)
        {
            return;
        }

        var response = await SendAsync(new RtspRequest("TEARDOWN", _aggregateControl ?? RequestUrl), cancellationToken).ConfigureAwait(false);
        _session = null;
        EnsureSuccess(response, "TEARDOWN");
    }

    /// <summary>Sends a request and waits for its response, answering one authentication challenge on the way.</summary>
    public async Task<RtspResponse> SendAsync(RtspRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var stream = _stream ?? throw new InvalidOperationException("Not connected.");
        await _requestLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            for (var attempt = 0; ; attempt++)
            {
                var tcs = new TaskCompletionSource<RtspResponse>(TaskCreationOptions.RunContinuationsAsynchronously);
                var cseq = Interlocked.Increment(ref _cseq);
                request.Headers.Set("CSeq", cseq.ToString(CultureInfo.InvariantCulture));
                request.Headers.Set("User-Agent", UserAgent);
                if (_session is not null)
                {
                    request.Headers.Set("Session", _session);
                }

                if (_auth.Authorize(request.Method, request.Uri) is { } authorization)
                {
                    request.Headers.Set("Authorization", authorization);
                }

                Volatile.Write(ref _pendingCSeq, cseq);
                Volatile.Write(ref _pending, tcs);
                if (_completion.Task.IsCompleted)
                {
                    throw new RtspException("Connection closed.");
                }

                await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
                try
                {
                    await stream.WriteAsync(request.ToBytes(), cancellationToken).ConfigureAwait(false);
                }
                finally
                {
                    _writeLock.Release();
                }

                RtspResponse response;
                try
                {
                    response = await tcs.Task.WaitAsync(RequestTimeout, _time, cancellationToken).ConfigureAwait(false);
                }
                catch (TimeoutException ex)
                {
                    throw new RtspException($"{request.Method} timed out after {RequestTimeout.TotalSeconds:0} s.", ex);
                }

                if (response.StatusCode != 401)
                {
                    return response;
                }

                if (!_auth.HasCredential)
                {
                    throw new RtspAuthenticationException($"{request.Method}: camera requires credentials and none are configured.");
                }

                if (attempt >= 2 || !_auth.Accept(response, alreadyTried: attempt > 0 || request.Headers["Authorization"] is not null))
                {
                    throw new RtspAuthenticationException($"{request.Method}: camera refused the credentials for user '{_credential!.UserName}'.");
                }
            }
        }
        finally
        {
            Volatile.Write(ref _pending, null);
            _requestLock.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _cts.CancelAsync().ConfigureAwait(false);
        _tcp?.Dispose();
        foreach (var udp in _udp)
        {
            await udp.DisposeAsync().ConfigureAwait(false);
        }

        try
        {
            await _keepAlive.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        _completion.TrySetResult();
        _requestLock.Dispose();
        _cts.Dispose();
        // _writeLock is not disposed: a keyframe request queued from the receive loop may still be waiting on it.
    }

    /// <summary>RFC 2326 C.1.1: a control URL is absolute or relative to the content base; "*" means the base itself.</summary>
    internal static string ResolveControl(string baseUrl, string control)
    {
        if (control.Length == 0 || control == "*")
        {
            return baseUrl;
        }

        if (control.StartsWith("rtsp://", StringComparison.OrdinalIgnoreCase) || control.StartsWith("rtsps://", StringComparison.OrdinalIgnoreCase))
        {
            return control;
        }

        // Cameras mean "append" even when the base lacks its trailing slash (go2rtc and ffmpeg do the same).
        return baseUrl.EndsWith('/') ? baseUrl + control : baseUrl + "/" + control;
    }

    private static void EnsureSuccess(RtspResponse response, string what)
    {
        if (!response.IsSuccess)
        {
            throw new RtspException($"{what} failed: {response.StatusCode} {response.Reason}", response.StatusCode);
        }
    }

    private void Touch() => Interlocked.Exchange(ref _lastActivity, _time.GetTimestamp());

    /// <summary>Learns the camera's SSRC from its RTP, and sends a keyframe request that waited for it.</summary>
    private void OnRtp(TrackRtcp state, ReadOnlySpan<byte> packet)
    {
        if (state.MediaSsrc is null && packet.Length >= 12)
        {
            state.MediaSsrc = BinaryPrimitives.ReadUInt32BigEndian(packet[8..]);
        }

        if (Volatile.Read(ref state.Pending) != 0 && state.MediaSsrc is not null && Interlocked.Exchange(ref state.Pending, 0) != 0)
        {
            SendKeyframeRequest(state);
        }
    }

    private void SendKeyframeRequest(TrackRtcp state)
    {
        var request = new RtspKeyframeRequest(_ssrc, state.MediaSsrc!.Value, UserAgent, state.OffersFir ? (byte)Interlocked.Increment(ref state.FirSequence) : null);
        var buffer = new byte[4 + RtspKeyframeRequest.MaxLength];
        var length = request.Write(buffer.AsSpan(4));
        Interlocked.Increment(ref _keyframeRequests);
        if (state.Udp is { } udp)
        {
            udp.SendRtcp(buffer.AsSpan(4, length), state.ServerRtcp!);
            return;
        }

        buffer[0] = (byte)'$';
        buffer[1] = (byte)state.Channel!.Value;
        BinaryPrimitives.WriteUInt16BigEndian(buffer.AsSpan(2), (ushort)length);
        _ = WriteInterleavedAsync(buffer.AsMemory(0, 4 + length));
    }

    /// <summary>One "$"-framed RTCP packet on the RTSP connection, between requests (never inside one).</summary>
    private async Task WriteInterleavedAsync(ReadOnlyMemory<byte> frame)
    {
        try
        {
            var stream = _stream ?? throw new InvalidOperationException("Not connected.");
            await _writeLock.WaitAsync(_cts.Token).ConfigureAwait(false);
            try
            {
                await stream.WriteAsync(frame, _cts.Token).ConfigureAwait(false);
            }
            finally
            {
                _writeLock.Release();
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or OperationCanceledException or InvalidOperationException)
        {
            _logger.LogDebug("RTSP keyframe request to {Host} not sent: {Reason}", Uri.Host, ex.Message);
        }
    }

    private async Task ReadLoopAsync(TextMessageReader reader, CancellationToken cancellationToken)
    {
        Exception? failure = null;
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                var first = await reader.PeekByteAsync(cancellationToken).ConfigureAwait(false);
                if (first < 0)
                {
                    failure = new RtspException("Camera closed the connection.");
                    break;
                }

                if (first == '$')
                {
                    var header = await reader.ReadBytesAsync(4, cancellationToken).ConfigureAwait(false);
                    var channel = header.Span[1];
                    var length = BinaryPrimitives.ReadUInt16BigEndian(header.Span[2..]);
                    var data = await reader.ReadBytesAsync(length, cancellationToken).ConfigureAwait(false);
                    if (channel % 2 == 0 && _channels.TryGetValue(channel, out var track))
                    {
                        Touch();
                        if (_rtcp.TryGetValue(track, out var state))
                        {
                            OnRtp(state, data.Span);
                        }

                        RtpReceived?.Invoke(track, data.Span);
                    }

                    continue;
                }

                var message = await reader.ReadMessageAsync(cancellationToken).ConfigureAwait(false);
                if (!message.StartLine.StartsWith("RTSP/", StringComparison.Ordinal))
                {
                    continue; // a request from the camera (ANNOUNCE, SET_PARAMETER); nothing we need to act on
                }

                if (!RtspResponse.TryParse(message, out var response, out var error))
                {
                    throw new InvalidDataException(error);
                }

                // Some cameras omit CSeq on responses; with one request in flight the match is unambiguous.
                if (response.CSeq == Volatile.Read(ref _pendingCSeq) || response.CSeq < 0)
                {
                    Volatile.Read(ref _pending)?.TrySetResult(response);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception ex) when (ex is IOException or SocketException or InvalidDataException or ObjectDisposedException or RtspException)
        {
            failure = ex is RtspException ? ex : new RtspException("Connection to camera failed: " + ex.Message, ex);
        }

        var pending = Volatile.Read(ref _pending);
        if (failure is not null && !cancellationToken.IsCancellationRequested)
        {
            _logger.LogInformation("RTSP connection to {Host} ended: {Reason}", Uri.Host, failure.Message);
            pending?.TrySetException(failure);
            _completion.TrySetException(failure);
        }
        else
        {
            pending?.TrySetException(new RtspException("Connection closed."));
            _completion.TrySetResult();
        }
    }

    private async Task KeepAliveLoopAsync(CancellationToken cancellationToken)
    {
        var interval = SessionTimeout / 2;
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                await Task.Delay(interval, _time, cancellationToken).ConfigureAwait(false);
                await KeepAliveAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (RtspException ex)
        {
            _logger.LogInformation("RTSP keep-alive to {Host} failed: {Reason}", Uri.Host, ex.Message);
            _completion.TrySetException(ex);
            _tcp?.Dispose();
        }
    }

    /// <summary>Where a track's RTCP goes, and what a keyframe request for it needs.</summary>
    private sealed class TrackRtcp(uint? mediaSsrc, bool offersFir, int? channel, IPEndPoint? serverRtcp, RtspUdpReceiver? udp)
    {
        public int Pending;

        public int FirSequence;

        public uint? MediaSsrc { get; set; } = mediaSsrc;

        public bool OffersFir { get; } = offersFir;

        public int? Channel { get; } = channel;

        public IPEndPoint? ServerRtcp { get; } = serverRtcp;

        public RtspUdpReceiver? Udp { get; } = udp;
    }
}
