using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace Portal.Media.Sip.Transport;

/// <summary>Limits of a stream transport; each bounds what one peer or a crowd can hold.</summary>
public sealed class SipStreamTransportOptions
{
    /// <summary>Open connections in all (inbound and outbound); a new one beyond it is closed at once.</summary>
    public int MaxConnections { get; set; } = 20_000;

    /// <summary>Connections from one address (a school's NAT holds one or two terminals).</summary>
    public int MaxConnectionsPerAddress { get; set; } = 32;

    /// <summary>A connection with no traffic this long is closed; terminals re-register or ping well within it.</summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromMinutes(10);

    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(5);
}

/// <summary>
/// SIP over TCP (RFC 3261 §18), written so TLS (SIPS, RFC 3261 §26.2) is a subclass: override
/// <see cref="OpenStreamAsync"/> to wrap the socket in an <c>SslStream</c> and pass <see cref="SipTransportProtocol.Tls"/>.
/// </summary>
/// <remarks>
/// A request to a terminal goes on the connection its registration or call arrived on (connection reuse, RFC
/// 5626 §5.3) and only without one does the transport connect out. Per-address and total connection limits
/// and an idle sweep keep a misbehaving peer from holding sockets.
/// </remarks>
public class SipStreamTransport : SipTransport
{
    private readonly IPEndPoint _bind;
    private readonly SipStreamTransportOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly Socket _listener;
    private readonly ConcurrentDictionary<long, SipStreamConnection> _connections = new();
    private readonly ConcurrentDictionary<IPEndPoint, SipStreamConnection> _byAddress = new();
    private readonly CancellationTokenSource _cts = new();
    private long _nextId;
    private Task _accept = Task.CompletedTask;
    private Task _sweep = Task.CompletedTask;

    public SipStreamTransport(IPEndPoint bind, SipStreamTransportOptions options, ILogger<SipStreamTransport> logger, TimeProvider? time = null, SipTransportProtocol protocol = SipTransportProtocol.Tcp)
    {
        ArgumentNullException.ThrowIfNull(bind);
        _bind = bind;
        _options = options ?? throw new ArgumentNullException(nameof(options));
        _logger = logger;
        _time = time ?? TimeProvider.System;
        Protocol = protocol == SipTransportProtocol.Udp ? throw new ArgumentException("UDP is not a stream transport.", nameof(protocol)) : protocol;
        _listener = new Socket(bind.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        if (bind.AddressFamily == AddressFamily.InterNetworkV6)
        {
            _listener.DualMode = true;
        }
    }

    public override SipTransportProtocol Protocol { get; }

    public override IPEndPoint LocalEndPoint => (IPEndPoint)_listener.LocalEndPoint!;

    public int ConnectionCount => _connections.Count;

    public override async ValueTask<bool> SendAsync(SipEndPoint destination, ReadOnlyMemory<byte> message, CancellationToken cancellationToken = default)
    {
        if (destination.ConnectionId != 0 && _connections.TryGetValue(destination.ConnectionId, out var known))
        {
            return await known.SendAsync(message, cancellationToken).ConfigureAwait(false);
        }

        if (!_byAddress.TryGetValue(destination.Address, out var connection))
        {
            connection = await ConnectAsync(destination.Address, cancellationToken).ConfigureAwait(false);
            if (connection is null)
            {
                return false;
            }
        }

        return await connection.SendAsync(message, cancellationToken).ConfigureAwait(false);
    }

    public override async ValueTask DisposeAsync()
    {
        if (_cts.IsCancellationRequested)
        {
            return;
        }

        await _cts.CancelAsync().ConfigureAwait(false);
        _listener.Dispose();
        foreach (var connection in _connections.Values)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
        }

        await Task.WhenAll(_accept, _sweep).ConfigureAwait(false);
        await Task.WhenAll(_connections.Values.Select(c => c.Completion)).ConfigureAwait(false);
        _cts.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>Turns a connected socket into the stream messages travel on; TLS overrides this to authenticate.</summary>
    /// <param name="socket">The connected socket (owned by the returned stream).</param>
    /// <param name="inbound">True for an accepted connection (TLS server side), false for one we opened.</param>
    /// <param name="cancellationToken">Bounds a handshake.</param>
    protected virtual ValueTask<Stream> OpenStreamAsync(Socket socket, bool inbound, CancellationToken cancellationToken) =>
        ValueTask.FromResult<Stream>(new NetworkStream(socket, ownsSocket: true));

    protected override void StartCore()
    {
        _listener.Bind(_bind);
        _listener.Listen(512);
        _accept = AcceptLoopAsync(_cts.Token);
        _sweep = SweepLoopAsync(_cts.Token);
    }

    private async Task AcceptLoopAsync(CancellationToken ct)
    {
        await Task.Yield();
        while (!ct.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptAsync(ct).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException)
            {
                break;
            }
            catch (SocketException ex)
            {
                _logger.LogDebug(ex, "SIP accept failed");
                continue;
            }

            try
            {
                var remote = Normalize((IPEndPoint)socket.RemoteEndPoint!);
                if (!Admit(remote.Address) || _connections.Count >= _options.MaxConnections
                    || _connections.Values.Count(c => c.Remote.Address.Equals(remote.Address)) >= _options.MaxConnectionsPerAddress)
                {
                    _logger.LogInformation("SIP connection from {Remote} refused (limits)", remote);
                    socket.Dispose();
                    continue;
                }

                _ = AdoptAsync(socket, remote, inbound: true, ct);
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                socket.Dispose();
            }
        }
    }

    private async Task<SipStreamConnection?> AdoptAsync(Socket socket, IPEndPoint remote, bool inbound, CancellationToken ct)
    {
        Stream stream;
        try
        {
            using var handshake = CancellationTokenSource.CreateLinkedTokenSource(ct);
            handshake.CancelAfter(_options.ConnectTimeout);
            socket.NoDelay = true;
            stream = await OpenStreamAsync(socket, inbound, handshake.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or System.Security.Authentication.AuthenticationException)
        {
            _logger.LogInformation("SIP {Protocol} connection with {Remote} failed to open: {Reason}", Protocol, remote, ex.Message);
            socket.Dispose();
            return null;
        }

        var connection = new SipStreamConnection(Interlocked.Increment(ref _nextId), remote, stream, _time);
        _connections[connection.Id] = connection;
        _byAddress[remote] = connection;
        connection.Start(OnMessage, _logger);
        _ = connection.Completion.ContinueWith(_ => Forget(connection), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        return connection;
    }

    private async Task<SipStreamConnection?> ConnectAsync(IPEndPoint remote, CancellationToken ct)
    {
        var socket = new Socket(remote.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            using var connect = CancellationTokenSource.CreateLinkedTokenSource(ct, _cts.Token);
            connect.CancelAfter(_options.ConnectTimeout);
            await socket.ConnectAsync(remote, connect.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException or ObjectDisposedException)
        {
            _logger.LogInformation("SIP {Protocol} connect to {Remote} failed: {Reason}", Protocol, remote, ex.Message);
            socket.Dispose();
            return null;
        }

        return await AdoptAsync(socket, remote, inbound: false, _cts.Token).ConfigureAwait(false);
    }

    private void OnMessage(SipStreamConnection connection, SipParseResult result) =>
        Deliver(new SipEndPoint(Protocol, connection.Remote, connection.Id), result);

    private void Forget(SipStreamConnection connection)
    {
        _connections.TryRemove(connection.Id, out _);
        _byAddress.TryRemove(new KeyValuePair<IPEndPoint, SipStreamConnection>(connection.Remote, connection));
    }

    private async Task SweepLoopAsync(CancellationToken ct)
    {
        var period = TimeSpan.FromTicks(Math.Max(TimeSpan.TicksPerSecond, _options.IdleTimeout.Ticks / 4));
        using var timer = new PeriodicTimer(period, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(ct).ConfigureAwait(false))
            {
                foreach (var connection in _connections.Values.Where(c => c.Idle > _options.IdleTimeout))
                {
                    _logger.LogDebug("SIP connection {Id} from {Remote} idle, closed", connection.Id, connection.Remote);
                    await connection.DisposeAsync().ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static IPEndPoint Normalize(IPEndPoint endPoint) =>
        endPoint.Address.IsIPv4MappedToIPv6 ? new IPEndPoint(endPoint.Address.MapToIPv4(), endPoint.Port) : endPoint;
}
