namespace Portal.Media.Sdp;

/// <summary>
/// <c>o=&lt;username&gt; &lt;sess-id&gt; &lt;sess-version&gt; &lt;nettype&gt; &lt;addrtype&gt; &lt;unicast-address&gt;</c>, RFC 8866 §5.2.
/// </summary>
/// <remarks>Session id and version stay strings: the RFC says numeric, but cameras send 20-digit values and some send hex.</remarks>
public sealed record SdpOrigin(
    string Username = "-",
    string SessionId = "0",
    string SessionVersion = "0",
    string NetType = "IN",
    string AddressType = "IP4",
    string Address = "127.0.0.1")
{
    public static bool TryParse(string value, out SdpOrigin origin)
    {
        var t = SdpText.Tokens(value);
        origin = t.Length == 6 ? new SdpOrigin(t[0], t[1], t[2], t[3], t[4], t[5]) : null!;
        return t.Length == 6;
    }

    public override string ToString() => $"{Username} {SessionId} {SessionVersion} {NetType} {AddressType} {Address}";
}

/// <summary><c>c=&lt;nettype&gt; &lt;addrtype&gt; &lt;connection-address&gt;</c>, RFC 8866 §5.7. Address keeps any <c>/ttl/count</c> suffix.</summary>
public sealed record SdpConnection(string NetType, string AddressType, string Address)
{
    public static SdpConnection Create(string address) =>
        new("IN", address.Contains(':', StringComparison.Ordinal) ? "IP6" : "IP4", address);

    public static bool TryParse(string value, out SdpConnection connection)
    {
        var t = SdpText.Tokens(value);
        connection = t.Length == 3 ? new SdpConnection(t[0], t[1], t[2]) : null!;
        return t.Length == 3;
    }

    /// <summary>The address without a multicast <c>/ttl</c> or <c>/count</c> suffix.</summary>
    public string Host => Address.Split('/')[0];

    public override string ToString() => $"{NetType} {AddressType} {Address}";
}
