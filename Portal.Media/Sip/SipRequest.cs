using System.Globalization;
using Portal.Media.Sip.Headers;

namespace Portal.Media.Sip;

/// <summary>A SIP request (RFC 3261 §7.1): <c>Method SP Request-URI SP SIP-Version CRLF</c>, headers, body.</summary>
/// <remarks>
/// The request line is read strictly: exactly one SP between its three elements, no trailing blanks, no
/// <c>&lt;&gt;</c> around the URI (RFC 4475 §3.1.2.6–§3.1.2.10 expect 400 for each).
/// </remarks>
public sealed class SipRequest : SipMessage
{
    public SipRequest(string method, string requestUri)
    {
        Method = method;
        RequestUriText = requestUri;
    }

    public string Method { get; }

    /// <summary>The Request-URI exactly as on the wire (digest auth hashes it verbatim).</summary>
    public string RequestUriText { get; }

    /// <summary>The Request-URI when it is sip: or sips:; null for other schemes (answered 416).</summary>
    public SipUri? RequestUri => SipUri.TryParse(RequestUriText, out var uri, out _) ? uri : null;

    public string SipVersion { get; private init; } = Version;

    public override string StartLine => Method + " " + RequestUriText + " " + SipVersion;

    /// <summary>Max-Forwards, or null when absent or not a number in 0..255 (RFC 3261 §20.22).</summary>
    public int? MaxForwards =>
        int.TryParse(Headers[SipHeaderNames.MaxForwards], NumberStyles.None, CultureInfo.InvariantCulture, out var hops) && hops <= 255 ? hops : null;

    /// <summary>
    /// Creates a request with the headers RFC 3261 §8.1.1 requires except Via, which the transport layer adds
    /// when it sends (it knows the address and the branch).
    /// </summary>
    public static SipRequest Create(string method, SipUri requestUri, SipNameAddressHeader from, SipNameAddressHeader to, string callId, uint cseq)
    {
        ArgumentNullException.ThrowIfNull(requestUri);
        ArgumentNullException.ThrowIfNull(from);
        ArgumentNullException.ThrowIfNull(to);
        var request = new SipRequest(method, requestUri.ToString());
        request.Headers.Add(SipHeaderNames.MaxForwards, "70");
        request.Headers.Add(SipHeaderNames.From, from.ToString());
        request.Headers.Add(SipHeaderNames.To, to.ToString());
        request.Headers.Add(SipHeaderNames.CallId, callId);
        request.Headers.Add(SipHeaderNames.CSeq, new SipCSeqHeader(cseq, method).ToString());
        return request;
    }

    /// <summary>Reads the request line; with an error the request still carries what could be read, to be answered.</summary>
    internal static SipRequest ParseRequestLine(string line, out string? error, out bool versionOk)
    {
        versionOk = true;
        var parts = line.Split(' ');
        var method = parts[0];
        if (!SipMethods.IsToken(method))
        {
            error = "bad method";
            return new SipRequest(string.Empty, string.Empty);
        }

        if (parts.Length != 3 || parts[1].Length == 0 || parts[2].Length == 0)
        {
            error = "request line needs exactly: method SP Request-URI SP SIP/2.0";
            return new SipRequest(method, string.Empty);
        }

        var request = new SipRequest(method, parts[1]) { SipVersion = parts[2] };
        if (!parts[2].StartsWith("SIP/", StringComparison.OrdinalIgnoreCase))
        {
            error = "bad SIP-Version";
            return request;
        }

        if (!string.Equals(parts[2], Version, StringComparison.OrdinalIgnoreCase))
        {
            versionOk = false;
            error = "SIP version " + parts[2] + " is not supported";
            return request;
        }

        if (parts[1][0] == '<' || !SipUri.HasScheme(parts[1], out _) || parts[1].AsSpan().ContainsAny('<', '>', '"'))
        {
            error = "Request-URI is not an absolute URI";
            return request;
        }

        error = null;
        return request;
    }
}
