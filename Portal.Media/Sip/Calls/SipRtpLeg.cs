using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;

namespace Portal.Media.Sip.Calls;

/// <summary>Receives one RTP packet of a call leg; the span is only valid during the call.</summary>
public delegate void SipRtpHandler(SipRtpLeg leg, ReadOnlySpan<byte> rtpPacket);

/// <summary>
/// One stream (audio or video) of a call's terminal side: an even RTP port and the RTCP port above it
/// (RFC 3550 §11), a receive loop that accepts only the terminal, and sending with our own SSRC.
/// </summary>
/// <remarks>
/// Only packets from the call's peer are taken: the address its SDP names or the address its SIP messages come
/// from (a terminal behind NAT writes its private address in SDP). The first accepted packet latches the
/// terminal's real RTP address and port, and we send there (symmetric RTP, RFC 4961), which is what gets media
/// through a school's NAT. Once latched, only that address and port are taken; another port of the peer's
/// address is taken over only after the latched one fell silent for <see cref="RelatchAfter"/> (a NAT rebinding),
/// so a stranger cannot slip packets into a live call. Everything else is counted and dropped.
/// </remarks>
public sealed class SipRtpLeg : IAsyncDisposable
{
    private const int MaxPacket = 1500;

    /// <summary>Silence on the latched address after which the peer's address may latch a new port.</summary>
    public static readonly TimeSpan RelatchAfter = TimeSpan.FromSeconds(2);

    private readonly Socket _rtp;
    private readonly Socket _rtcp;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _cts = new();
    private readonly byte[] _sendBuffer = new byte[MaxPacket];
    private readonly Lock _sendLock = new();
    private volatile IPEndPoint? _remote;
    private volatile IPEndPoint? _latched;
    private volatile IPAddress? _signalling;
    private Task _rtpLoop = Task.CompletedTask;
    private Task _rtcpLoop = Task.CompletedTask;
    private long _received;
    private long _sent;
    private long _foreign;
    private long _lastFromLatched;

    private SipRtpLeg(Socket rtp, Socket rtcp, ILogger logger, TimeProvider time)
    {
        _rtp = rtp;
        _rtcp = rtcp;
        _logger = logger;
        _time = time;
        LocalSsrc = (uint)RandomNumberGenerator.GetInt32(1, int.MaxValue);
    }

    /// <summary>Raised on the receive loop for each RTP packet from the terminal.</summary>
    public event SipRtpHandler? RtpReceived;

    /// <summary>Raised when the peer's RTCP carries a PLI or FIR (RFC 4585 §6.3.1, RFC 5104 §4.3.1): a terminal's camera should send an IDR.</summary>
    public event Action<SipRtpLeg>? KeyframeRequested;

    public int Port => ((IPEndPoint)_rtp.LocalEndPoint!).Port;

    /// <summary>The SSRC we send with.</summary>
    public uint LocalSsrc { get; }

    /// <summary>The terminal's SSRC, from its first packet.</summary>
    public uint? RemoteSsrc { get; private set; }

    /// <summary>The payload type we write on packets we send (the negotiated one).</summary>
    public byte PayloadType { get; set; }

    public long PacketsReceived => Interlocked.Read(ref _received);

    public long PacketsSent => Interlocked.Read(ref _sent);

    /// <summary>Packets from addresses other than the call's peer, dropped.</summary>
    public long ForeignPackets => Interlocked.Read(ref _foreign);

    /// <summary>Where we send RTP: the latched address, else the SDP's.</summary>
    public IPEndPoint? SendTarget => _latched ?? _remote;

    /// <summary>Binds an even RTP port and the odd RTCP port above it, from the range or (0, 0) any free pair.</summary>
    public static SipRtpLeg Open(IPAddress bind, int portMin, int portMax, ILogger logger, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(bind);
        for (var attempt = 0; attempt < 64; attempt++)
        {
            var port = portMin > 0 && portMax > portMin
                ? (RandomNumberGenerator.GetInt32(portMin, portMax) & ~1)
                : 0;
            var rtp = new Socket(bind.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
            var rtcp = new Socket(bind.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
            try
            {
                rtp.Bind(new IPEndPoint(bind, port));
                var bound = ((IPEndPoint)rtp.LocalEndPoint!).Port;
                if (bound % 2 != 0 || bound == 65535)
                {
                    throw new SocketException((int)SocketError.AddressAlreadyInUse);
                }

                rtcp.Bind(new IPEndPoint(bind, bound + 1));
                return new SipRtpLeg(rtp, rtcp, logger, time ?? TimeProvider.System);
            }
            catch (SocketException)
            {
                rtp.Dispose();
                rtcp.Dispose();
            }
        }

        throw new InvalidOperationException("No free RTP port pair in " + portMin + "-" + portMax + ".");
    }

    /// <summary>Sets the terminal's addresses (from SDP and from signalling) and starts receiving.</summary>
    public void Start(IPEndPoint? remote, IPAddress signallingSource)
    {
        _remote = remote;
        _signalling = signallingSource;
        if (_rtpLoop.IsCompleted && !_cts.IsCancellationRequested)
        {
            _rtpLoop = ReceiveLoopAsync(_rtp, isRtcp: false, _cts.Token);
            _rtcpLoop = ReceiveLoopAsync(_rtcp, isRtcp: true, _cts.Token);
        }
    }

    /// <summary>A re-INVITE moved or held the stream (null: hold, RFC 3264 §8.4).</summary>
    public void UpdateRemote(IPEndPoint? remote)
    {
        if (!Equals(remote?.Address, _remote?.Address))
        {
            _latched = null;
        }

        _remote = remote;
    }

    /// <summary>Sends an RTP packet with our SSRC and payload type, keeping its sequence number and timestamp.</summary>
    public bool SendRtp(ReadOnlySpan<byte> rtp)
    {
        var target = SendTarget;
        if (target is null || rtp.Length is < 12 or > MaxPacket)
        {
            return false;
        }

        lock (_sendLock)
        {
            var packet = _sendBuffer.AsSpan(0, rtp.Length);
            rtp.CopyTo(packet);
            packet[1] = (byte)((packet[1] & 0x80) | PayloadType);
            BinaryPrimitives.WriteUInt32BigEndian(packet[8..], LocalSsrc);
            try
            {
                _rtp.SendTo(packet, SocketFlags.None, target);
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                return false;
            }
        }

        Interlocked.Increment(ref _sent);
        return true;
    }

    /// <summary>Sends an RTCP packet (a compound) to the terminal's RTCP port (RTP port + 1).</summary>
    public bool SendRtcp(ReadOnlySpan<byte> rtcp)
    {
        if (SendTarget is not { } target)
        {
            return false;
        }

        try
        {
            _rtcp.SendTo(rtcp, SocketFlags.None, new IPEndPoint(target.Address, target.Port + 1));
            return true;
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_cts.IsCancellationRequested)
        {
            return;
        }

        await _cts.CancelAsync().ConfigureAwait(false);
        _rtp.Dispose();
        _rtcp.Dispose();
        await Task.WhenAll(_rtpLoop, _rtcpLoop).ConfigureAwait(false);
        _cts.Dispose();
    }

    /// <summary>Walks an RTCP compound for payload-specific feedback PLI (FMT 1) or FIR (FMT 4).</summary>
    private static bool ContainsKeyframeRequest(ReadOnlySpan<byte> compound)
    {
        while (compound.Length >= 4 && compound[0] >> 6 == 2)
        {
            var length = (BinaryPrimitives.ReadUInt16BigEndian(compound[2..]) + 1) * 4;
            if (compound[1] == 206 && (compound[0] & 0x1F) is 1 or 4)
            {
                return true;
            }

            if (length > compound.Length)
            {
                break;
            }

            compound = compound[length..];
        }

        return false;
    }

    /// <summary>The latched address; else, when it is silent or none is latched yet, the peer's addresses (SDP, signalling).</summary>
    private bool IsPeer(IPEndPoint source, bool isRtcp)
    {
        var latched = _latched;
        if (latched is not null)
        {
            if (source.Address.Equals(latched.Address) && source.Port == (isRtcp ? latched.Port + 1 : latched.Port))
            {
                return true;
            }

            if (isRtcp || _time.GetElapsedTime(Interlocked.Read(ref _lastFromLatched)) < RelatchAfter)
            {
                return false;
            }
        }

        return source.Address.Equals(_remote?.Address) || source.Address.Equals(_signalling);
    }

    private async Task ReceiveLoopAsync(Socket socket, bool isRtcp, CancellationToken ct)
    {
        await Task.Yield();
        var buffer = GC.AllocateArray<byte>(MaxPacket + 100, pinned: true);
        var address = new SocketAddress(socket.AddressFamily);
        var any = new IPEndPoint(socket.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any, 0);
        IPEndPoint? lastSource = null;
        SocketAddress? lastAddress = null;
        while (!ct.IsCancellationRequested)
        {
            int length;
            try
            {
                length = await socket.ReceiveFromAsync(buffer, SocketFlags.None, address, ct).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException)
            {
                break;
            }
            catch (SocketException ex)
            {
                _logger.LogTrace(ex, "RTP receive error");
                continue;
            }

            try
            {
                // One IPEndPoint per peer, not per packet: the source rarely changes within a call.
                if (lastAddress is null || !lastAddress.Equals(address))
                {
                    lastSource = (IPEndPoint)any.Create(address);
                    lastAddress = new SocketAddress(address.Family, address.Size);
                    address.Buffer.Span[..address.Size].CopyTo(lastAddress.Buffer.Span);
                }

                if (!IsPeer(lastSource!, isRtcp))
                {
                    Interlocked.Increment(ref _foreign);
                    continue;
                }

                if (isRtcp)
                {
                    if (ContainsKeyframeRequest(buffer.AsSpan(0, length)))
                    {
                        KeyframeRequested?.Invoke(this);
                    }

                    continue; // reports from the peer change nothing we forward
                }

                if (length < 12 || buffer[0] >> 6 != 2)
                {
                    continue;
                }

                if (_latched is null || !_latched.Equals(lastSource))
                {
                    _latched = lastSource;
                }

                Interlocked.Exchange(ref _lastFromLatched, _time.GetTimestamp());

                RemoteSsrc = BinaryPrimitives.ReadUInt32BigEndian(buffer.AsSpan(8));
                Interlocked.Increment(ref _received);
                RtpReceived?.Invoke(this, buffer.AsSpan(0, length));
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                _logger.LogError(ex, "RTP packet handling failed");
            }
        }
    }
}
