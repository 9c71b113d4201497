using System.Net;

namespace Portal.Media.Sip.Transport;

/// <summary>Delivers one received message (or why it could not be read) to the stack.</summary>
public delegate void SipReceiveHandler(SipTransport transport, SipEndPoint source, SipParseResult result);

/// <summary>
/// One listening transport of the stack (RFC 3261 §18): UDP (<see cref="SipUdpTransport"/>) or a stream
/// (<see cref="SipStreamTransport"/>: TCP now, TLS by overriding how a socket becomes a stream).
/// </summary>
public abstract class SipTransport : IAsyncDisposable
{
    private Func<IPAddress, bool> _admit = _ => true;
    private SipReceiveHandler _received = (_, _, _) => { };

    public abstract SipTransportProtocol Protocol { get; }

    /// <summary>The bound address (after <see cref="Start"/>).</summary>
    public abstract IPEndPoint LocalEndPoint { get; }

    public bool IsReliable => Protocol != SipTransportProtocol.Udp;

    /// <summary>Binds and starts receiving; <paramref name="admit"/> is asked before a source's bytes are even parsed.</summary>
    public void Start(SipReceiveHandler received, Func<IPAddress, bool> admit)
    {
        _received = received ?? throw new ArgumentNullException(nameof(received));
        _admit = admit ?? throw new ArgumentNullException(nameof(admit));
        StartCore();
    }

    /// <summary>Sends one whole message; false when it could not be sent (no route, connection failed, closed).</summary>
    public abstract ValueTask<bool> SendAsync(SipEndPoint destination, ReadOnlyMemory<byte> message, CancellationToken cancellationToken = default);

    public abstract ValueTask DisposeAsync();

    protected abstract void StartCore();

    protected bool Admit(IPAddress source) => _admit(source);

    protected void Deliver(SipEndPoint source, SipParseResult result) => _received(this, source, result);
}
