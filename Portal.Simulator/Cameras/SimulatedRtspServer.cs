using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Portal.Media.Core;
using Portal.Media.Rtp;
using Portal.Media.Rtp.Rtcp;
using Portal.Media.Rtsp;
using Portal.Media.Sdp;

namespace Portal.Simulator.Cameras;

/// <summary>
/// The gate camera's RTSP server (RFC 2326): DESCRIBE/SETUP/PLAY/TEARDOWN with Digest auth, RTP over TCP
/// interleaved or UDP, streaming <see cref="GateClip"/> in a loop at 25 fps with continuous timestamps. Like a good
/// camera it answers an RTCP PLI or FIR about its stream (RFC 4585, RFC 5104; on the interleaved RTCP channel or its
/// UDP RTCP port) by sending the clip's next IDR at the next frame, unless told to ignore them.
/// </summary>
public sealed class SimulatedRtspServer : IAsyncDisposable
{
    public const string Realm = "SimulatedGateCamera";

    private readonly SimulatedCameraOptions _options;
    private readonly GateClip _clip;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _cts = new();
    private int _disposed;
    private readonly List<TcpClient> _connections = [];
    private readonly Dictionary<TcpClient, string> _cameraOf = [];
    private readonly List<Session> _sessions = [];
    private readonly long _started;
    private Task _acceptLoop = Task.CompletedTask;
    private int _activeStreams;
    private int _totalSessions;
    private int _keyframeRequests;
    private long _framesSent;
    private int _describes;
    private int _challenges;
    private readonly Lock _nonceLock = new();
    private string _nonce = NewNonce();
    private string? _oldNonce;
    private long _nonceIssued;

    public SimulatedRtspServer(SimulatedCameraOptions options, ILogger? logger = null, TimeProvider? timeProvider = null)
    {
        _options = options;
        _clip = options.Clip ?? GateClip.Instance;
        _logger = logger ?? NullLogger.Instance;
        _time = timeProvider ?? TimeProvider.System;
        _listener = new TcpListener(IPAddress.Parse(options.Host), options.RtspPort);
        _started = _time.GetTimestamp();
        _nonceIssued = _started;
        if (options.Fleet is { } fleet)
        {
            fleet.Changed += (name, availability) =>
            {
                if (availability != CameraAvailability.Up)
                {
                    DropConnections(name);
                }
            };
        }
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public Uri Uri => new($"rtsp://{_options.Host}:{Port}{_options.Path}");

    /// <summary>The RTSP URL of one camera of the fleet (<see cref="SimulatedCameraOptions.Fleet"/>).</summary>
    public Uri UriOf(string name) => new($"rtsp://{_options.Host}:{Port}/{name}{_options.Path}");

    /// <summary>Sessions currently playing.</summary>
    public int ActiveStreams => Volatile.Read(ref _activeStreams);

    /// <summary>PLAY requests served since start.</summary>
    public int TotalSessions => Volatile.Read(ref _totalSessions);

    /// <summary>RTCP PLI/FIR packets about a session's stream received (answered or, when ignoring them, not).</summary>
    public int KeyframeRequests => Volatile.Read(ref _keyframeRequests);

    /// <summary>Frames sent, every session together (a test with one session counts where in the clip it is).</summary>
    public long FramesSent => Interlocked.Read(ref _framesSent);

    /// <summary>DESCRIBE requests answered (a 401 included), every connection together: what a health probe costs the camera.</summary>
    public int Describes => Volatile.Read(ref _describes);

    /// <summary>401 answers sent (Digest challenges), every connection together.</summary>
    public int Challenges => Volatile.Read(ref _challenges);

    /// <summary>Retires the shared Digest nonce now, as its lifetime would (<see cref="SimulatedCameraOptions.NonceLifetime"/>): the next request with it is answered stale.</summary>
    public void ExpireNonce()
    {
        lock (_nonceLock)
        {
            (_oldNonce, _nonce, _nonceIssued) = (_nonce, NewNonce(), _time.GetTimestamp());
        }
    }

    /// <summary>While true, playing sessions stop sending RTP (the camera "freezes"): for stall-detection tests.</summary>
    public bool Frozen { get; set; }

    public void Start()
    {
        _listener.Start();
        _acceptLoop = Task.Run(AcceptLoopAsync);
    }

    /// <summary>Every playing session sends the clip's next IDR at its next frame (the camera's HTTP keyframe request).</summary>
    public void ForceKeyframe()
    {
        lock (_sessions)
        {
            foreach (var session in _sessions)
            {
                Volatile.Write(ref session.KeyframeWanted, 1);
            }
        }
    }

    /// <summary>Closes every client connection, as a camera reboot would.</summary>
    public void DropConnections()
    {
        lock (_connections)
        {
            foreach (var c in _connections)
            {
                c.Dispose();
            }

            _connections.Clear();
        }
    }

    /// <summary>Closes the connections of one camera of the fleet (it went down).</summary>
    public void DropConnections(string name)
    {
        lock (_connections)
        {
            foreach (var (client, camera) in _cameraOf)
            {
                if (string.Equals(camera, name, StringComparison.OrdinalIgnoreCase))
                {
                    client.Dispose();
                }
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _cts.CancelAsync().ConfigureAwait(false);
        await _acceptLoop.ConfigureAwait(false);
        DropConnections();
        _cts.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        try
        {
            while (!_cts.IsCancellationRequested)
            {
                TcpClient client;
                try
                {
                    client = await _listener.AcceptTcpClientAsync(_cts.Token).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
                {
                    return;
                }

                lock (_connections)
                {
                    _connections.Add(client);
                }

                _ = Task.Run(() => ServeAsync(client));
            }
        }
        finally
        {
            // The loop stops its listener after its last accept: a TcpListener stopped by DisposeAsync between two
            // accepts made the next one throw InvalidOperationException ("Not listening") out of DisposeAsync.
            _listener.Stop();
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        client.NoDelay = true;
        var session = new Session(client, NewNonce());
        lock (_sessions)
        {
            _sessions.Add(session);
        }

        try
        {
            var stream = client.GetStream();
            var reader = new TextMessageReader(stream);
            while (!_cts.IsCancellationRequested)
            {
                if (await reader.PeekByteAsync(_cts.Token).ConfigureAwait(false) is var first && first < 0)
                {
                    break;
                }

                if (first == '$')
                {
                    // RTCP from the client over the interleaved channel (receiver reports, keyframe requests).
                    var header = await reader.ReadBytesAsync(4, _cts.Token).ConfigureAwait(false);
                    var packet = await reader.ReadBytesAsync(BinaryPrimitives.ReadUInt16BigEndian(header.Span[2..]), _cts.Token).ConfigureAwait(false);
                    if (header.Span[1] == session.Transport?.Interleaved?.Rtcp)
                    {
                        OnRtcp(session, packet.Span);
                    }

                    continue;
                }

                var message = await reader.ReadMessageAsync(_cts.Token).ConfigureAwait(false);
                if (!RtspRequest.TryParse(message, out var request, out _))
                {
                    await session.WriteAsync(new RtspResponse(400, "Bad Request").ToBytes(), _cts.Token).ConfigureAwait(false);
                    continue;
                }

                if (_options.Fleet is { } fleet && !await AdmitAsync(fleet, session, request, stream).ConfigureAwait(false))
                {
                    break;
                }

                var response = Handle(session, request);
                response.Headers.Set("CSeq", request.Headers["CSeq"] ?? "0");
                response.Headers.Set("Server", "Portal.Simulator gate camera");
                await session.WriteAsync(response.ToBytes(), _cts.Token).ConfigureAwait(false);
                if (request.Method == "PLAY" && response.IsSuccess && session.Streaming is null)
                {
                    session.Streaming = Task.Run(() => StreamAsync(session, session.Cancel.Token));
                }
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or InvalidDataException or EndOfStreamException or OperationCanceledException or ObjectDisposedException)
        {
            _logger.LogDebug("RTSP client gone: {Reason}", ex.Message);
        }
        finally
        {
            await session.Cancel.CancelAsync().ConfigureAwait(false);
            if (session.Streaming is { } streaming)
            {
                await streaming.ConfigureAwait(false);
            }

            lock (_sessions)
            {
                _sessions.Remove(session);
            }

            session.Dispose();
            lock (_connections)
            {
                _connections.Remove(client);
                _cameraOf.Remove(client);
            }

            client.Dispose();
        }
    }

    /// <summary>
    /// Fleet mode: binds the connection to the camera its request names and applies that camera's availability. False
    /// when the connection must end: the camera is down (closed unanswered), hung (read until the client gives up), or
    /// or the path names no camera (closed, as an address with no camera behind it would be).
    /// </summary>
    private async Task<bool> AdmitAsync(SimulatedCameraFleet fleet, Session session, RtspRequest request, NetworkStream stream)
    {
        var path = Uri.TryCreate(request.Uri, UriKind.Absolute, out var uri) ? uri.AbsolutePath : string.Empty;
        var name = SimulatedCameraFleet.NameOf(path, _options.Path) ?? session.Camera;
        if (name is null)
        {
            return request.Method == "OPTIONS"; // "OPTIONS *" and the like: answer; anything else for no camera: close
        }

        if (session.Camera is null)
        {
            session.Camera = name;
            session.CameraUri = UriOf(name);
            lock (_connections)
            {
                _cameraOf[session.Client] = name;
            }
        }

        switch (fleet[name])
        {
            case CameraAvailability.Down:
                return false;
            case CameraAvailability.Hang:
                var sink = new byte[4096];
                while (await stream.ReadAsync(sink, _cts.Token).ConfigureAwait(false) > 0)
                {
                }

                return false;
            default:
                return true;
        }
    }

    private RtspResponse Handle(Session session, RtspRequest request)
    {
        var uri = session.CameraUri ?? Uri;
        if (request.Method == "DESCRIBE")
        {
            Interlocked.Increment(ref _describes);
        }

        if (!IsAuthorized(session, request, out var nonce, out var stale))
        {
            Interlocked.Increment(ref _challenges);
            var challenge = new RtspResponse(401, "Unauthorized");
            challenge.Headers.Add("WWW-Authenticate", $"Digest realm=\"{Realm}\", nonce=\"{nonce}\", algorithm=MD5" + (stale ? ", stale=TRUE" : string.Empty));
            return challenge;
        }

        var response = new RtspResponse(200, "OK");
        switch (request.Method)
        {
            case "OPTIONS":
                response.Headers.Add("Public", "OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN, GET_PARAMETER");
                return response;
            case "DESCRIBE" when !request.Uri.StartsWith(uri.ToString(), StringComparison.Ordinal):
                return new RtspResponse(404, "Stream Not Found");
            case "DESCRIBE":
                response.Headers.Add("Content-Type", "application/sdp");
                response.Headers.Add("Content-Base", uri + "/");
                response.Body = Encoding.UTF8.GetBytes(BuildSdp().ToString());
                return response;
            case "SETUP":
                return Setup(session, request, response);
            case "PLAY":
                if (session.Transport is null)
                {
                    return new RtspResponse(455, "Method Not Valid in This State");
                }

                response.Headers.Add("Session", session.Id);
                response.Headers.Add("RTP-Info", string.Create(CultureInfo.InvariantCulture, $"url={uri}/trackID=0;seq={session.Packetizer.NextSequenceNumber};rtptime={session.NextTimestamp}"));
                return response;
            case "GET_PARAMETER":
                response.Headers.Add("Session", session.Id);
                return response;
            case "TEARDOWN":
                session.Cancel.Cancel();
                return response;
            default:
                return new RtspResponse(501, "Not Implemented");
        }
    }

    private RtspResponse Setup(Session session, RtspRequest request, RtspResponse response)
    {
        if (!request.Uri.EndsWith("trackID=0", StringComparison.Ordinal))
        {
            return new RtspResponse(404, "Not Found");
        }

        if (!RtspTransportHeader.TryParse(request.Headers["Transport"], out var wanted))
        {
            return new RtspResponse(461, "Unsupported Transport");
        }

        RtspTransportHeader chosen;
        if (wanted.IsTcp)
        {
            chosen = new RtspTransportHeader { Protocol = "RTP/AVP/TCP", Interleaved = wanted.Interleaved ?? (0, 1), Ssrc = session.Ssrc };
        }
        else if (wanted.ClientPort is { } ports && _options.AllowUdp)
        {
            var remote = ((IPEndPoint)session.Client.Client.RemoteEndPoint!).Address;
            if (session.Udp is null)
            {
                (session.Udp, session.UdpRtcp) = BindPair(IPAddress.Parse(_options.Host));
                session.RtcpLoop = Task.Run(() => ReceiveRtcpAsync(session));
            }

            session.UdpTarget = new IPEndPoint(remote, ports.Rtp);
            var local = ((IPEndPoint)session.Udp.Client.LocalEndPoint!).Port;
            chosen = new RtspTransportHeader { ClientPort = ports, ServerPort = (local, local + 1), Ssrc = session.Ssrc };
        }
        else
        {
            return new RtspResponse(461, "Unsupported Transport");
        }

        session.Transport = chosen;
        response.Headers.Add("Transport", chosen.ToString());
        response.Headers.Add("Session", session.Id + ";timeout=" + _options.SessionTimeoutSeconds.ToString(CultureInfo.InvariantCulture));
        return response;
    }

    /// <summary>RTP on an even port, RTCP on the next (RFC 3550 §11), so the server_port pair we announce is real.</summary>
    private static (UdpClient Rtp, UdpClient Rtcp) BindPair(IPAddress address)
    {
        for (var attempt = 0; ; attempt++)
        {
            var rtp = new UdpClient(new IPEndPoint(address, 0));
            var port = ((IPEndPoint)rtp.Client.LocalEndPoint!).Port;
            if (port % 2 == 0 && port < 65534)
            {
                try
                {
                    return (rtp, new UdpClient(new IPEndPoint(address, port + 1)));
                }
                catch (SocketException) when (attempt < 50)
                {
                }
            }

            rtp.Dispose();
        }
    }

    private async Task ReceiveRtcpAsync(Session session)
    {
        try
        {
            while (!session.Cancel.IsCancellationRequested && session.UdpRtcp is { } socket)
            {
                var received = await socket.ReceiveAsync(session.Cancel.Token).ConfigureAwait(false);
                OnRtcp(session, received.Buffer);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
    }

    /// <summary>A PLI or FIR about this session's SSRC asks for a keyframe; anything else (reports, SDES) is read and dropped.</summary>
    private void OnRtcp(Session session, ReadOnlySpan<byte> compound)
    {
        var asked = false;
        var reader = new RtcpCompoundReader(compound);
        while (reader.TryReadNext(out var header, out var packet, out _))
        {
            if (header.PacketType != RtcpPacketType.PayloadFeedback)
            {
                continue;
            }

            asked |= (header.Count == RtcpPacketType.PictureLossFormat && RtcpPli.TryParse(packet, out var pli, out _) && pli.MediaSsrc == session.Ssrc)
                || (header.Count == RtcpPacketType.FullIntraRequestFormat && RtcpFir.TryParse(packet, out var fir, out _) && fir.Entries.Any(e => e.Ssrc == session.Ssrc));
        }

        if (asked)
        {
            Interlocked.Increment(ref _keyframeRequests);
            if (_options.HonourRtcpKeyframeRequests)
            {
                Volatile.Write(ref session.KeyframeWanted, 1);
            }
        }
    }

    /// <summary>
    /// Checks the request's Digest answer against the nonce of the moment (<paramref name="nonce"/>: the connection's own, or
    /// the camera's shared one, renewed once its lifetime is over); <paramref name="stale"/> when the answer was right for
    /// the nonce just retired.
    /// </summary>
    private bool IsAuthorized(Session session, RtspRequest request, out string nonce, out bool stale)
    {
        stale = false;
        string? old;
        if (_options.NoncePerConnection)
        {
            (nonce, old) = (session.Nonce, null);
        }
        else
        {
            lock (_nonceLock)
            {
                if (_time.GetElapsedTime(_nonceIssued) >= _options.NonceLifetime)
                {
                    (_oldNonce, _nonce, _nonceIssued) = (_nonce, NewNonce(), _time.GetTimestamp());
                }

                (nonce, old) = (_nonce, _oldNonce);
            }
        }

        if (_options.Username is null)
        {
            return true;
        }

        var authorization = request.Headers["Authorization"];
        if (authorization is null)
        {
            return false;
        }

        if (HttpDigest.Verify(authorization, request.Method, Realm, nonce, _options.Username, _options.Password ?? string.Empty))
        {
            return true;
        }

        stale = old is not null && HttpDigest.Verify(authorization, request.Method, Realm, old, _options.Username, _options.Password ?? string.Empty);
        return false;
    }

    private static string NewNonce() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));

    private SdpSession BuildSdp()
    {
        var sdp = new SdpSession
        {
            Origin = new SdpOrigin("-", "1", "1", "IN", "IP4", _options.Host),
            SessionName = "Portal.Simulator gate camera",
            Connection = SdpConnection.Create("0.0.0.0"),
        };
        sdp.Control = "*";
        var video = new SdpMedia { Type = "video", Port = 0, Protocol = "RTP/AVP" };
        video.Formats.Add("96");
        video.AddAttribute("rtpmap", "96 H264/90000");
        video.AddAttribute("fmtp", $"96 packetization-mode=1;profile-level-id={_clip.ProfileLevelId};sprop-parameter-sets={_clip.SpropParameterSets}");
        video.Control = "trackID=0";
        video.Direction = SdpDirection.RecvOnly;
        sdp.Media.Add(video);
        return sdp;
    }

    private async Task StreamAsync(Session session, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _activeStreams);
        Interlocked.Increment(ref _totalSessions);
        try
        {
            // A live camera is mid-GOP when a viewer arrives: start where the wall clock says, unless told otherwise.
            var frame = _options.StartFrame ?? (_options.StartAtLiveEdge
                ? (long)(_time.GetElapsedTime(_started).TotalSeconds * GateClip.FramesPerSecond)
                : 0);
            using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1.0 / GateClip.FramesPerSecond), _time);
            var output = new MemoryStream();
            do
            {
                if (Frozen)
                {
                    continue;
                }

                if (Interlocked.Exchange(ref session.KeyframeWanted, 0) != 0)
                {
                    frame = _clip.NextKeyframe(frame); // the encoder makes this very frame an IDR
                }

                var nals = _clip.Frames[(int)(frame % _clip.Frames.Count)];
                if (!_options.InBandParameterSets)
                {
                    nals = nals.Where(n => H264NalUnit.TypeOf(n.Span[0]) is not (H264NalUnit.Sps or H264NalUnit.Pps)).ToList();
                }

                output.SetLength(0);
                var timestamp = session.NextTimestamp;
                session.NextTimestamp += GateClip.TicksPerFrame;
                frame++;
                session.Packetizer.Packetize(nals, timestamp, packet => session.Emit(output, packet));
                if (session.Udp is null)
                {
                    await session.WriteAsync(output.GetBuffer().AsMemory(0, (int)output.Length), cancellationToken).ConfigureAwait(false);
                }

                Interlocked.Increment(ref _framesSent);
            }
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false));
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or SocketException or ObjectDisposedException)
        {
        }
        finally
        {
            Interlocked.Decrement(ref _activeStreams);
        }
    }

    /// <summary>One client connection and its (single-track) RTSP session.</summary>
    private sealed class Session(TcpClient client, string nonce) : IDisposable
    {
        private readonly SemaphoreSlim _writeLock = new(1, 1);

        public TcpClient Client { get; } = client;

        public string Nonce { get; } = nonce;

        public string Id { get; } = Convert.ToHexString(RandomNumberGenerator.GetBytes(6));

        public uint Ssrc { get; } = BinaryPrimitives.ReadUInt32BigEndian(RandomNumberGenerator.GetBytes(4));

        public uint NextTimestamp { get; set; } = BinaryPrimitives.ReadUInt32BigEndian(RandomNumberGenerator.GetBytes(4));

        public H264Packetizer Packetizer { get; } = new(1400, 96);

        public RtspTransportHeader? Transport { get; set; }

        /// <summary>Fleet mode: the camera this connection talks to, and its URL.</summary>
        public string? Camera { get; set; }

        public Uri? CameraUri { get; set; }
        public int KeyframeWanted;

        public UdpClient? Udp { get; set; }

        public UdpClient? UdpRtcp { get; set; }

        public Task? RtcpLoop { get; set; }

        public IPEndPoint? UdpTarget { get; set; }

        public CancellationTokenSource Cancel { get; } = new();

        public Task? Streaming { get; set; }

        public void Emit(MemoryStream output, ReadOnlySpan<byte> packet)
        {
            var rewritten = packet.ToArray();
            BinaryPrimitives.WriteUInt32BigEndian(rewritten.AsSpan(8), Ssrc);
            if (Udp is not null)
            {
                Udp.Send(rewritten, UdpTarget);
                return;
            }

            var channel = Transport?.Interleaved?.Rtp ?? 0;
            Span<byte> header = [(byte)'$', (byte)channel, 0, 0];
            BinaryPrimitives.WriteUInt16BigEndian(header[2..], (ushort)rewritten.Length);
            output.Write(header);
            output.Write(rewritten);
        }

        public async Task WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
        {
            await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                await Client.GetStream().WriteAsync(data, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                _writeLock.Release();
            }
        }

        public void Dispose()
        {
            Udp?.Dispose();
            UdpRtcp?.Dispose();
            Cancel.Dispose();
            _writeLock.Dispose();
        }
    }
}
