using System.Globalization;
using System.Net;

namespace Portal.Media.Sip.Transport;

/// <summary>The transport protocols; TLS shares the stream transport's code (<see cref="SipStreamTransport"/>).</summary>
public enum SipTransportProtocol
{
    Udp,
    Tcp,
    Tls,
}

/// <summary>
/// Where a message came from or goes to: transport, remote address and, on a stream transport, the
/// connection (0 = any connection to that address, or a new one).
/// </summary>
/// <remarks>
/// Responses and in-dialog requests to a terminal behind NAT must reuse the flow its request arrived on
/// (RFC 3261 §18.2.2, RFC 5626 §5.3), so the connection id travels with the address.
/// </remarks>
public readonly record struct SipEndPoint(SipTransportProtocol Protocol, IPEndPoint Address, long ConnectionId = 0)
{
    public string ViaTransport => Protocol switch
    {
        SipTransportProtocol.Tcp => "TCP",
        SipTransportProtocol.Tls => "TLS",
        _ => "UDP",
    };

    public bool IsReliable => Protocol != SipTransportProtocol.Udp;

    public static SipTransportProtocol? ParseTransport(string? name) => name?.ToUpperInvariant() switch
    {
        "UDP" or null => SipTransportProtocol.Udp,
        "TCP" => SipTransportProtocol.Tcp,
        "TLS" => SipTransportProtocol.Tls,
        _ => null,
    };

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{ViaTransport}:{Address}{(ConnectionId == 0 ? string.Empty : "#" + ConnectionId)}");
}
