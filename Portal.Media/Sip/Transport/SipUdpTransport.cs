using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Portal.Media.WebRtc.Stun;

namespace Portal.Media.Sip.Transport;

/// <summary>SIP over UDP (RFC 3261 §18): one socket, one datagram per message.</summary>
/// <remarks>
/// Keep-alives are answered or ignored before parsing: a STUN binding request gets its reflexive address back
/// (RFC 5626 §4.4.2), and a datagram of bare CRLFs (what many terminals send to hold their NAT binding open)
/// is dropped. Every other datagram goes through the admission check (per-source rate limit) first, so a flood
/// costs a dictionary lookup per packet, not a parse.
/// <para>
/// The socket is read by one dedicated thread with blocking receives, and each datagram is handled on that thread up
/// to the application's first real await: a REGISTER answered from cached credentials costs no thread-pool work
/// item at all. An awaited receive (what this was) queues one work item per datagram on Linux, and in a registration
/// storm the pool's workers spent about half the portal's CPU spinning between them (dotnet-trace).
/// </para>
/// </remarks>
public sealed class SipUdpTransport : SipTransport
{
    /// <summary>The largest UDP payload over IPv4; SIP messages above the path MTU should go over TCP (RFC 3261 §18.1.1).</summary>
    public const int MaxDatagram = 65_507;

    private readonly IPEndPoint _bind;
    private readonly ILogger _logger;
    private readonly Socket _socket;
    private readonly CancellationTokenSource _cts = new();
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Thread? _thread;

    public SipUdpTransport(IPEndPoint bind, ILogger<SipUdpTransport> logger)
    {
        ArgumentNullException.ThrowIfNull(bind);
        _bind = bind;
        _logger = logger;
        _socket = new Socket(bind.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        if (bind.AddressFamily == AddressFamily.InterNetworkV6)
        {
            _socket.DualMode = true;
        }

        // A registration storm arrives faster than one loop drains it for a moment; the kernel may cap this.
        _socket.ReceiveBufferSize = 4 * 1024 * 1024;
    }

    public override SipTransportProtocol Protocol => SipTransportProtocol.Udp;

    public override IPEndPoint LocalEndPoint => (IPEndPoint)_socket.LocalEndPoint!;

    /// <summary>Datagrams dropped unparsed: refused by admission, keep-alives, or unreadable.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    private long _dropped;

    public override ValueTask<bool> SendAsync(SipEndPoint destination, ReadOnlyMemory<byte> message, CancellationToken cancellationToken = default)
    {
        try
        {
            _socket.SendTo(message.Span, SocketFlags.None, destination.Address);
            return ValueTask.FromResult(true);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            _logger.LogDebug(ex, "SIP UDP send to {Address} failed", destination.Address);
            return ValueTask.FromResult(false);
        }
    }

    public override async ValueTask DisposeAsync()
    {
        if (_cts.IsCancellationRequested)
        {
            return;
        }

        await _cts.CancelAsync().ConfigureAwait(false);
        _socket.Dispose();
        if (_thread is not null)
        {
            await _stopped.Task.ConfigureAwait(false);
        }

        _cts.Dispose();
    }

    protected override void StartCore()
    {
        _socket.Bind(_bind);

        // Closing the socket ends a blocking receive; the time-out is only a safety net so the loop sees the cancellation.
        _socket.ReceiveTimeout = 1000;
        var token = _cts.Token;
        _thread = new Thread(() => ReceiveLoop(token)) { IsBackground = true, Name = "SIP UDP " + _bind.Port.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        _thread.Start();
    }

    private void ReceiveLoop(CancellationToken cancellationToken)
    {
        try
        {
            ReceiveUntilStopped(cancellationToken);
        }
        finally
        {
            _stopped.TrySetResult();
        }
    }

    /// <summary>Runs first on the receive thread (the host raises its priority: every terminal's REGISTER and press waits on it).</summary>
    public Action? ReceiveThreadStarted { get; init; }

    private void ReceiveUntilStopped(CancellationToken cancellationToken)
    {
        ReceiveThreadStarted?.Invoke();
        var buffer = GC.AllocateArray<byte>(MaxDatagram, pinned: true);
        var from = new SocketAddress(_socket.AddressFamily);
        var any = new IPEndPoint(_socket.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any, 0);
        while (!cancellationToken.IsCancellationRequested)
        {
            int received;
            try
            {
                received = _socket.ReceiveFrom(buffer, SocketFlags.None, from);
            }
            catch (ObjectDisposedException)
            {
                break;
            }
            catch (SocketException) when (cancellationToken.IsCancellationRequested)
            {
                break;
            }
            catch (SocketException ex) when (ex.SocketErrorCode is SocketError.TimedOut or SocketError.WouldBlock)
            {
                continue; // idle: look at the cancellation again
            }
            catch (SocketException ex)
            {
                // ICMP port unreachable from an earlier send surfaces here on some systems: not fatal.
                _logger.LogDebug(ex, "SIP UDP receive error");
                continue;
            }

            try
            {
                OnDatagram(buffer.AsSpan(0, received), (IPEndPoint)any.Create(from));
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // One bad datagram or a throwing handler never ends the loop that every terminal depends on.
                _logger.LogError(ex, "SIP UDP datagram handling failed");
            }
        }
    }

    private void OnDatagram(ReadOnlySpan<byte> datagram, IPEndPoint source)
    {
        if (source.Address.IsIPv4MappedToIPv6)
        {
            source = new IPEndPoint(source.Address.MapToIPv4(), source.Port);
        }

        if (datagram.IsEmpty || datagram.IndexOfAnyExcept((byte)'\r', (byte)'\n') < 0)
        {
            Interlocked.Increment(ref _dropped); // CRLF keep-alive
            return;
        }

        if (!Admit(source.Address))
        {
            Interlocked.Increment(ref _dropped);
            return;
        }

        if (datagram[0] <= 1)
        {
            AnswerStun(datagram, source);
            return;
        }

        var result = SipMessage.Parse(datagram, isDatagram: true);
        Deliver(new SipEndPoint(SipTransportProtocol.Udp, source), result);
    }

    /// <summary>RFC 5626 §4.4.2: a STUN binding request on the SIP port learns the terminal's reflexive address.</summary>
    private void AnswerStun(ReadOnlySpan<byte> datagram, IPEndPoint source)
    {
        if (!StunMessage.TryParse(datagram, out var request, out _) || request.Type != StunMessageType.BindingRequest)
        {
            Interlocked.Increment(ref _dropped);
            return;
        }

        Span<byte> answer = stackalloc byte[128];
        var length = StunMessage.CreateSuccessResponse(request, source).Write(answer, default);
        try
        {
            _socket.SendTo(answer[..length], SocketFlags.None, source);
        }
        catch (SocketException ex)
        {
            _logger.LogDebug(ex, "STUN keep-alive answer failed");
        }
    }
}
