using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Portal.Media.Sip.Headers;
using Portal.Media.Sip.Transactions;
using Portal.Media.Sip.Transport;

namespace Portal.Media.Sip;

/// <summary>
/// The SIP transport and transaction layers (RFC 3261 §17, §18): owns the transports, matches messages to
/// transactions, answers what is malformed, and hands new requests to the application (the transaction user).
/// </summary>
/// <remarks>
/// <code>
/// datagram/stream --admit(source)--> parse --malformed--> 400/505/513 stateless (or dropped: no Via, a response, an ACK)
///                                          --request--> stamp Via (received, rport) --> retransmission? repeat answer
///                                                       --> CANCEL: 200 + cancel the INVITE, or 481
///                                                       --> ACK: to its INVITE transaction, or to the application (2xx ACK)
///                                                       --> §8.2 checks (<see cref="SipRequestValidator"/>) --> <see cref="RequestReceived"/>
///                                          --response--> its client transaction (branch + CSeq method)
/// </code>
/// Transactions match on the RFC 3261 branch plus sent-by and method (§17.2.3); a request from an RFC 2543
/// element (no magic cookie) matches on Request-URI, Call-ID, CSeq, From tag and top Via. Everything runs on
/// the transports' receive loops until the application awaits: handlers must not block.
/// </remarks>
public sealed class SipTransactionLayer : IAsyncDisposable
{
    private readonly ILogger<SipTransactionLayer> _logger;
    private readonly List<SipTransport> _transports = [];
    private readonly ConcurrentDictionary<string, SipServerTransaction> _server = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, SipClientTransaction> _client = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, CompletedAnswer> _completed = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<CompletedAnswer> _completedOrder = new();
    private readonly Lock _completedSweep = new();
    private readonly ConcurrentDictionary<IPAddress, IPAddress> _routes = new();
    private readonly SipSourceLimiter _limiter;
    private ITimer? _sweep;
    private ITimer? _timerJ;
    private int _serverCount;
    private int _completedCount;
    private long _received;
    private long _malformed;

    public SipTransactionLayer(SipOptions options, ILoggerFactory loggerFactory, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(loggerFactory);
        Options = options ?? throw new ArgumentNullException(nameof(options));
        LoggerFactory = loggerFactory;
        _logger = loggerFactory.CreateLogger<SipTransactionLayer>();
        Time = time ?? TimeProvider.System;
        _limiter = new SipSourceLimiter(options.MaxRequestsPerSourcePerSecond, options.SourceBurst, Time);
    }

    /// <summary>A new request in its server transaction: answer it through <see cref="SipServerTransaction.RespondAsync(SipResponse)"/>.</summary>
    public Func<SipServerTransaction, Task>? RequestReceived { get; set; }

    /// <summary>An ACK outside any transaction: the ACK for a 2xx, which belongs to the dialog (RFC 3261 §13.3.1.4).</summary>
    public Action<SipRequest, SipEndPoint>? AckReceived { get; set; }

    /// <summary>A 2xx to an INVITE whose transaction accepted one already: the far end lost our ACK (RFC 6026 §8.4).</summary>
    public Action<SipResponse, SipEndPoint>? StrayResponseReceived { get; set; }

    public SipOptions Options { get; }

    public ILoggerFactory LoggerFactory { get; }

    public TimeProvider Time { get; }

    public SipTimers Timers => Options.Timers;

    public IReadOnlyList<SipTransport> Transports => _transports;

    /// <summary>Server transactions alive, those in Timer J (non-INVITE answered over UDP) included.</summary>
    public int ServerTransactionCount => Volatile.Read(ref _serverCount) + Volatile.Read(ref _completedCount);

    public int ClientTransactionCount => _client.Count;

    /// <summary>Messages received and parsed (well-formed or not).</summary>
    public long Received => Interlocked.Read(ref _received);

    /// <summary>Messages that could not be read, or requests answered with 400/505/513 before processing.</summary>
    public long Malformed => Interlocked.Read(ref _malformed);

    public void AddTransport(SipTransport transport)
    {
        ArgumentNullException.ThrowIfNull(transport);
        _transports.Add(transport);
    }

    /// <summary>Starts every transport.</summary>
    public void Start()
    {
        foreach (var transport in _transports)
        {
            transport.Start(OnReceived, _limiter.TryAdmit);
            _logger.LogInformation("SIP listening on {Protocol} {EndPoint}", transport.Protocol, transport.LocalEndPoint);
        }

        _sweep = Time.CreateTimer(_ => _limiter.Sweep(TimeSpan.FromMinutes(1)), null, TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(30));
        _timerJ = Time.CreateTimer(_ => SweepCompleted(), null, Timers.T1, Timers.T1);
    }

    public SipTransport? FindTransport(SipTransportProtocol protocol) => _transports.FirstOrDefault(t => t.Protocol == protocol);

    /// <summary>
    /// Sends a request in a new client transaction: our Via (fresh branch, rport) goes on top. Completion gives
    /// the final response (a synthesized 408 or 503 when none comes).
    /// </summary>
    /// <param name="request">The request; its Via is added here.</param>
    /// <param name="destination">Where it goes.</param>
    /// <param name="onProvisional">
    /// Told each provisional response (180, 183...). Given here, it is subscribed before the request leaves: an answer
    /// can arrive (on a receive thread) before a caller's own subscription after this returns would run.
    /// </param>
    public SipClientTransaction SendRequest(SipRequest request, SipEndPoint destination, Action<SipClientTransaction, SipResponse>? onProvisional = null)
    {
        ArgumentNullException.ThrowIfNull(request);
        var via = CreateVia(destination);
        request.Headers.AddFirst(SipHeaderNames.Via, via.ToString());
        var transaction = new SipClientTransaction(this, ClientKey(via.Branch!, request.Method), request, destination);
        if (onProvisional is not null)
        {
            transaction.Provisional += onProvisional;
        }

        _client[transaction.Key] = transaction;
        _ = transaction.StartAsync();
        return transaction;
    }

    /// <summary>Sends an ACK for a 2xx: its own branch, no transaction (RFC 3261 §13.2.2.4). Returns the bytes, to resend.</summary>
    public async ValueTask<byte[]> SendAckAsync(SipRequest ack, SipEndPoint destination)
    {
        ArgumentNullException.ThrowIfNull(ack);
        ack.Headers.AddFirst(SipHeaderNames.Via, CreateVia(destination).ToString());
        var bytes = ack.ToBytes();
        await TransmitAsync(destination, bytes).ConfigureAwait(false);
        return bytes;
    }

    /// <summary>Our contact address for a transport, as a URI with <paramref name="user"/> (RFC 3261 §8.1.1.8).</summary>
    public SipUri CreateContact(string? user, SipEndPoint towards)
    {
        var transport = FindTransport(towards.Protocol) ?? throw new InvalidOperationException("No " + towards.Protocol + " transport.");
        var host = FormatHost(LocalAddressFor(transport, towards.Address.Address));
        var uri = new SipUri(host, user, transport.LocalEndPoint.Port);
        if (towards.Protocol != SipTransportProtocol.Udp)
        {
            uri.Parameters.Set("transport", towards.ViaTransport.ToLowerInvariant());
        }

        return uri;
    }

    /// <summary>
    /// Where to send a request for <paramref name="uri"/>: its literal address and port (terminals register by
    /// address; we do no DNS NAPTR/SRV, RFC 3263), on the transport the URI names. Null for a host name.
    /// </summary>
    public static SipEndPoint? Resolve(SipUri uri)
    {
        ArgumentNullException.ThrowIfNull(uri);
        if (uri.HostAddress is not { } address || SipEndPoint.ParseTransport(uri.Transport) is not { } protocol)
        {
            return null;
        }

        var port = uri.Port ?? (uri.IsSecure || protocol == SipTransportProtocol.Tls ? 5061 : 5060);
        return new SipEndPoint(uri.IsSecure ? SipTransportProtocol.Tls : protocol, new IPEndPoint(address, port));
    }

    public async ValueTask DisposeAsync()
    {
        _sweep?.Dispose();
        _timerJ?.Dispose();
        foreach (var transport in _transports)
        {
            await transport.DisposeAsync().ConfigureAwait(false);
        }

        foreach (var transaction in _server.Values)
        {
            transaction.Terminate();
        }

        foreach (var transaction in _client.Values)
        {
            transaction.Terminate();
        }
    }

    internal ValueTask<bool> TransmitAsync(SipEndPoint to, byte[] bytes)
    {
        var transport = FindTransport(to.Protocol);
        return transport is null ? ValueTask.FromResult(false) : transport.SendAsync(to, bytes);
    }

    /// <summary>Sends without waiting (retransmissions, stateless answers): UDP completes at once, a stream send runs on.</summary>
    internal void Transmit(SipEndPoint to, byte[] bytes) => TransmitAsync(to, bytes).Forget();

    /// <summary>Starts a client transaction for a request that carries its Via already (a CANCEL reuses the INVITE's).</summary>
    internal Task<SipResponse> SendPreparedAsync(SipRequest request, SipEndPoint destination)
    {
        var branch = request.TopVia?.Branch ?? SipTags.NewBranch();
        var transaction = new SipClientTransaction(this, ClientKey(branch, request.Method), request, destination);
        _client[transaction.Key] = transaction;
        _ = transaction.StartAsync();
        return transaction.Completion;
    }

    internal void Forget(SipServerTransaction transaction)
    {
        if (_server.TryRemove(new KeyValuePair<string, SipServerTransaction>(transaction.Key, transaction)))
        {
            Interlocked.Decrement(ref _serverCount);
        }
    }

    /// <summary>
    /// A non-INVITE server transaction sent its final answer over UDP: for Timer J (64*T1) a retransmitted request
    /// gets <paramref name="response"/> again (RFC 3261 §17.2.2). Only the answer is kept, in arrival order, and one
    /// sweep every T1 lets go of those whose Timer J has run out: no timer and no parsed request per transaction.
    /// </summary>
    internal void Complete(SipServerTransaction transaction, byte[] response)
    {
        var answer = new CompletedAnswer(transaction.Key, transaction.ResponseDestination, response, Time.GetUtcNow() + Timers.Timeout);
        if (_completed.TryAdd(answer.Key, answer))
        {
            Interlocked.Increment(ref _completedCount);
            _completedOrder.Enqueue(answer);
        }

        Forget(transaction); // after the answer is kept, so a retransmission in between finds one or the other
    }

    private void SweepCompleted()
    {
        lock (_completedSweep)
        {
            var now = Time.GetUtcNow();
            while (_completedOrder.TryPeek(out var answer) && answer.Due <= now && _completedOrder.TryDequeue(out answer))
            {
                if (_completed.TryRemove(new KeyValuePair<string, CompletedAnswer>(answer.Key, answer)))
                {
                    Interlocked.Decrement(ref _completedCount);
                }
            }
        }
    }

    /// <summary>What a completed non-INVITE server transaction keeps for Timer J: its key, where answers go, and the answer.</summary>
    private sealed record CompletedAnswer(string Key, SipEndPoint Destination, byte[] Response, DateTimeOffset Due);

    internal void Forget(SipClientTransaction transaction) => _client.TryRemove(new KeyValuePair<string, SipClientTransaction>(transaction.Key, transaction));

    internal void RaiseStrayResponse(SipResponse response, SipEndPoint source) => StrayResponseReceived?.Invoke(response, source);

    /// <summary>RFC 3261 §18.2.2 with RFC 3581: the same connection on streams; on UDP the source address, and its port when rport was asked.</summary>
    internal static SipEndPoint ResponseDestination(SipRequest request, SipEndPoint source)
    {
        if (source.IsReliable)
        {
            return source;
        }

        var via = request.TopVia;
        var port = via is null || via.HasRport ? source.Address.Port : via.Port ?? 5060;
        return source with { Address = new IPEndPoint(source.Address.Address, port) };
    }

    private void OnReceived(SipTransport transport, SipEndPoint source, SipParseResult result)
    {
        Interlocked.Increment(ref _received);
        switch (result.Message)
        {
            case SipResponse response when result.Error is null:
                OnResponse(response, source);
                return;
            case SipRequest request when result.Error is null:
                OnRequest(request, source);
                return;
            case SipRequest request when request.Method != SipMethods.Ack && request.TopVia is not null:
                // Malformed but answerable: tell the sender why (RFC 4475 expects 400 for most of its invalid messages).
                Interlocked.Increment(ref _malformed);
                _logger.LogDebug("Malformed SIP request from {Source}: {Error}", source, result.Error);
                var refusal = SipRequestValidator.Reject(request, result.RejectStatus, SipStatus.ReasonPhrase(result.RejectStatus) + " (" + result.Error + ")");
                Transmit(ResponseDestination(request, source), refusal.ToBytes());
                return;
            default:
                Interlocked.Increment(ref _malformed);
                _logger.LogDebug("Dropped unreadable SIP message from {Source}: {Error}", source, result.Error);
                return;
        }
    }

    private void OnRequest(SipRequest request, SipEndPoint source)
    {
        if (request.TopVia is not { } via)
        {
            Interlocked.Increment(ref _malformed);
            return; // no way to route a response
        }

        StampVia(request, via, source);
        switch (request.Method)
        {
            case SipMethods.Ack:
                if (_server.TryGetValue(ServerKey(request, via, SipMethods.Invite), out var invite))
                {
                    invite.OnAck();
                }
                else
                {
                    AckReceived?.Invoke(request, source);
                }

                return;
            case SipMethods.Cancel:
                OnCancel(request, via, source);
                return;
        }

        var key = ServerKey(request, via, request.Method);
        if (_server.TryGetValue(key, out var existing))
        {
            existing.OnRetransmission();
            return;
        }

        if (_completed.TryGetValue(key, out var done))
        {
            Transmit(done.Destination, done.Response);
            return;
        }

        if (ServerTransactionCount >= Options.MaxTransactions)
        {
            var busy = SipRequestValidator.Reject(request, SipStatus.ServiceUnavailable);
            busy.Headers.Add(SipHeaderNames.RetryAfter, "5");
            Transmit(ResponseDestination(request, source), busy.ToBytes());
            return;
        }

        var transaction = new SipServerTransaction(this, key, request, source);
        if (!_server.TryAdd(key, transaction))
        {
            return; // a retransmission raced us on another loop
        }

        Interlocked.Increment(ref _serverCount);

        if (SipRequestValidator.Check(request, Options.Capabilities) is { } refusal)
        {
            Interlocked.Increment(ref _malformed);
            transaction.RespondAsync(refusal).Forget();
            return;
        }

        // The application answers most requests (a REGISTER from a cached account) before this returns: the watchdog is
        // only started for one still unanswered, which saves a timer per request (it checks the state under its lock).
        _ = DispatchAsync(transaction);
        transaction.StartUnansweredWatchdog(Options.UnansweredTimeout);
    }

    /// <summary>RFC 3261 §9.2: a CANCEL is answered 200 in its own transaction and ends the INVITE it matches, or 481.</summary>
    private void OnCancel(SipRequest request, SipViaHeader via, SipEndPoint source)
    {
        var key = ServerKey(request, via, SipMethods.Cancel);
        if (_server.TryGetValue(key, out var again))
        {
            again.OnRetransmission();
            return;
        }

        if (_completed.TryGetValue(key, out var done))
        {
            Transmit(done.Destination, done.Response);
            return;
        }

        var transaction = new SipServerTransaction(this, key, request, source);
        if (!_server.TryAdd(key, transaction))
        {
            return;
        }

        Interlocked.Increment(ref _serverCount);

        if (SipRequestValidator.Check(request, Options.Capabilities) is { } refusal)
        {
            transaction.RespondAsync(refusal).Forget();
            return;
        }

        if (!_server.TryGetValue(ServerKey(request, via, SipMethods.Invite), out var invite))
        {
            transaction.RespondAsync(SipStatus.CallDoesNotExist).Forget();
            return;
        }

        // A matched CANCEL is always answered 200; it only ends an INVITE that has no final answer yet.
        transaction.RespondAsync(SipStatus.Ok).Forget();
        if (!invite.HasFinalResponse)
        {
            invite.OnCancel();
        }
    }

    private async Task DispatchAsync(SipServerTransaction transaction)
    {
        try
        {
            if (RequestReceived is { } handler)
            {
                await handler(transaction).ConfigureAwait(false);
            }
            else
            {
                await transaction.RespondAsync(SipStatus.ServiceUnavailable).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            _logger.LogError(ex, "SIP {Method} from {Source} failed in the application", transaction.Request.Method, transaction.Source);
            if (!transaction.HasFinalResponse)
            {
                await transaction.RespondAsync(SipStatus.ServerInternalError).ConfigureAwait(false);
            }
        }
    }

    private void OnResponse(SipResponse response, SipEndPoint source)
    {
        if (response.TopVia?.Branch is not { } branch || response.CSeq is not { } cseq)
        {
            Interlocked.Increment(ref _malformed);
            return;
        }

        if (_client.TryGetValue(ClientKey(branch, cseq.Method), out var transaction))
        {
            transaction.OnResponse(response);
        }
        else if (response.IsSuccess && cseq.Method == SipMethods.Invite)
        {
            StrayResponseReceived?.Invoke(response, source);
        }
    }

    /// <summary>RFC 3261 §18.2.1 and RFC 3581 §4: record the address and port the request really came from.</summary>
    private static void StampVia(SipRequest request, SipViaHeader via, SipEndPoint source)
    {
        var address = source.Address.Address.ToString();
        var changed = false;
        if (!string.Equals(via.Host.Trim('[', ']'), address, StringComparison.OrdinalIgnoreCase) || via.HasRport)
        {
            via.Parameters.Set("received", address);
            changed = true;
        }

        if (via.HasRport)
        {
            via.Parameters.Set("rport", source.Address.Port.ToString(CultureInfo.InvariantCulture));
        }

        if (!changed)
        {
            return;
        }

        var all = request.GetList(SipHeaderNames.Via)!;
        request.Headers.Remove(SipHeaderNames.Via);
        for (var i = all.Count - 1; i >= 1; i--)
        {
            request.Headers.AddFirst(SipHeaderNames.Via, all[i]);
        }

        request.Headers.AddFirst(SipHeaderNames.Via, via.ToString());
    }

    private static string ServerKey(SipRequest request, SipViaHeader via, string method)
    {
        if (via.HasRfc3261Branch)
        {
            return string.Concat(via.Branch, "|", via.SentBy.ToLowerInvariant(), "|", method);
        }

        // RFC 3261 §17.2.3 for RFC 2543 clients: what identifies their transaction without a unique branch.
        return string.Join('|', "2543", request.RequestUriText, request.CallId, request.CSeq?.Number, request.From?.Tag, via.SentBy, via.Branch, method);
    }

    private static string ClientKey(string branch, string method) => branch + "|" + method;

    private SipViaHeader CreateVia(SipEndPoint destination)
    {
        var transport = FindTransport(destination.Protocol) ?? throw new InvalidOperationException("No " + destination.Protocol + " transport.");
        var via = new SipViaHeader(destination.ViaTransport, FormatHost(LocalAddressFor(transport, destination.Address.Address)), transport.LocalEndPoint.Port, SipTags.NewBranch());
        via.Parameters.Set("rport", null);
        return via;
    }

    /// <summary>The advertised address, else the bound one, else the local address the system routes to <paramref name="remote"/> from.</summary>
    private IPAddress LocalAddressFor(SipTransport transport, IPAddress remote)
    {
        if (Options.AdvertisedAddress is { } advertised)
        {
            return advertised;
        }

        var bound = transport.LocalEndPoint.Address;
        if (!bound.Equals(IPAddress.Any) && !bound.Equals(IPAddress.IPv6Any))
        {
            return bound.IsIPv4MappedToIPv6 ? bound.MapToIPv4() : bound;
        }

        return _routes.GetOrAdd(remote, static r =>
        {
            try
            {
                using var probe = new Socket(r.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
                probe.Connect(r, 9); // no packet is sent: connect on UDP only picks the route
                return ((IPEndPoint)probe.LocalEndPoint!).Address;
            }
            catch (SocketException)
            {
                return r.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Loopback : IPAddress.Loopback;
            }
        });
    }

    private static string FormatHost(IPAddress address) =>
        address.AddressFamily == AddressFamily.InterNetworkV6 ? "[" + address + "]" : address.ToString();
}
