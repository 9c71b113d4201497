using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;

namespace Portal.Media.Sip.Headers;

/// <summary>One <c>Via</c> value (RFC 3261 §20.42, §18.2.1; RFC 3581 rport).</summary>
/// <remarks>
/// <code>
/// via-parm = sent-protocol LWS sent-by *( SEMI via-params )
/// sent-protocol = "SIP" SLASH "2.0" SLASH transport         SLASH = SWS "/" SWS
/// Via: SIP/2.0/UDP 192.0.2.4:5060;branch=z9hG4bK776asdhds;rport;received=192.0.2.9
/// </code>
/// Blanks around the slashes are legal (RFC 4475 §3.1.1.1 folds them across lines) and are dropped when written.
/// </remarks>
public sealed class SipViaHeader
{
    /// <summary>RFC 3261 §8.1.1.7: branches of RFC 3261 elements start with this, so they are unique.</summary>
    public const string MagicCookie = "z9hG4bK";

    public SipViaHeader(string transport, string host, int? port, string branch)
    {
        Transport = transport;
        Host = host;
        Port = port;
        Parameters.Set("branch", branch);
    }

    private SipViaHeader(string version, string transport, string host, int? port, SipParameters parameters)
    {
        Version = version;
        Transport = transport;
        Host = host;
        Port = port;
        Parameters = parameters;
    }

    /// <summary>The protocol version, <c>2.0</c> for every SIP element we talk to.</summary>
    public string Version { get; } = "2.0";

    /// <summary>UDP, TCP, TLS, SCTP, WS... upper case.</summary>
    public string Transport { get; }

    public string Host { get; }

    public int? Port { get; }

    public SipParameters Parameters { get; } = new();

    public string? Branch => Parameters["branch"];

    /// <summary>The branch follows RFC 3261 (starts with the magic cookie): transactions match by it alone.</summary>
    public bool HasRfc3261Branch => Branch is { } b && b.StartsWith(MagicCookie, StringComparison.Ordinal) && b.Length > MagicCookie.Length;

    public string? Received => Parameters["received"];

    /// <summary>The client asked for rport (RFC 3581 §3): answer to the source port.</summary>
    public bool HasRport => Parameters.Contains("rport");

    /// <summary><c>host:port</c> as sent, the part of the transaction key that tells clients apart.</summary>
    public string SentBy => Port is { } p ? Host + ":" + p.ToString(CultureInfo.InvariantCulture) : Host;

    public static bool TryParse(string? text, [NotNullWhen(true)] out SipViaHeader? via, out string error)
    {
        via = null;
        if (string.IsNullOrEmpty(text))
        {
            error = "empty Via";
            return false;
        }

        var span = text.AsSpan();
        var i = 0;
        if (!ReadToken(span, ref i, out var protocol) || !string.Equals(protocol, "SIP", StringComparison.OrdinalIgnoreCase)
            || !Slash(span, ref i) || !ReadToken(span, ref i, out var version) || !Slash(span, ref i) || !ReadToken(span, ref i, out var transport))
        {
            error = "bad Via sent-protocol";
            return false;
        }

        SkipSpace(span, ref i);
        var start = i;
        while (i < span.Length && span[i] is not ';' and not ' ' and not '\t')
        {
            i++;
        }

        if (!SipUri.TryParseHostPort(span[start..i].ToString(), out var host, out var port))
        {
            error = "bad Via sent-by";
            return false;
        }

        if (!SipParameters.TryParse(span[i..], out var parameters, out error))
        {
            return false;
        }

        via = new SipViaHeader(version, transport.ToUpperInvariant(), host, port, parameters);
        return true;
    }

    public override string ToString()
    {
        var builder = new StringBuilder(96);
        builder.Append("SIP/").Append(Version).Append('/').Append(Transport).Append(' ').Append(SentBy);
        Parameters.WriteTo(builder);
        return builder.ToString();
    }

    private static bool ReadToken(ReadOnlySpan<char> text, ref int i, out string token)
    {
        SkipSpace(text, ref i);
        var start = i;
        while (i < text.Length && SipMethods.IsTokenChar(text[i]))
        {
            i++;
        }

        token = text[start..i].ToString();
        return i > start;
    }

    private static bool Slash(ReadOnlySpan<char> text, ref int i)
    {
        SkipSpace(text, ref i);
        if (i >= text.Length || text[i] != '/')
        {
            return false;
        }

        i++;
        return true;
    }

    private static void SkipSpace(ReadOnlySpan<char> text, ref int i)
    {
        while (i < text.Length && text[i] is ' ' or '\t')
        {
            i++;
        }
    }
}
