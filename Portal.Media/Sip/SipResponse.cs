using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace Portal.Media.Sip;

/// <summary>A SIP response (RFC 3261 §7.2): <c>SIP-Version SP Status-Code SP Reason-Phrase CRLF</c>, headers, body.</summary>
public sealed class SipResponse : SipMessage
{
    public SipResponse(int statusCode, string? reasonPhrase = null)
    {
        if (statusCode is < 100 or > 699)
        {
            throw new ArgumentOutOfRangeException(nameof(statusCode), statusCode, "SIP status codes are 100..699.");
        }

        StatusCode = statusCode;
        ReasonPhrase = reasonPhrase ?? SipStatus.ReasonPhrase(statusCode);
    }

    public int StatusCode { get; }

    /// <summary>Free text, possibly empty (RFC 4475 §3.1.1.12 and §3.1.1.13: unusual and empty phrases are valid).</summary>
    public string ReasonPhrase { get; }

    public bool IsProvisional => StatusCode < 200;

    public bool IsSuccess => StatusCode is >= 200 and < 300;

    public override string StartLine => Version + " " + StatusCode.ToString(CultureInfo.InvariantCulture) + " " + ReasonPhrase;

    /// <summary>
    /// A response to <paramref name="request"/> with the fields RFC 3261 §8.2.6.2 copies: every Via in order,
    /// From, To, Call-ID and CSeq, as they arrived (so a client matches even a response to its malformed request).
    /// </summary>
    public static SipResponse CreateFor(SipRequest request, int statusCode, string? reasonPhrase = null)
    {
        ArgumentNullException.ThrowIfNull(request);
        var response = new SipResponse(statusCode, reasonPhrase);
        foreach (var via in request.Headers.GetAll(SipHeaderNames.Via))
        {
            response.Headers.Add(SipHeaderNames.Via, via);
        }

        foreach (var name in (ReadOnlySpan<string>)[SipHeaderNames.From, SipHeaderNames.To, SipHeaderNames.CallId, SipHeaderNames.CSeq])
        {
            if (request.Headers[name] is { } value)
            {
                response.Headers.Add(name, value);
            }
        }

        return response;
    }

    internal static bool TryParseStatusLine(string line, [NotNullWhen(true)] out SipResponse? response, out string error)
    {
        response = null;
        var first = line.IndexOf(' ', StringComparison.Ordinal);
        var second = first < 0 ? -1 : line.IndexOf(' ', first + 1);
        var codeText = first < 0 ? string.Empty : second < 0 ? line[(first + 1)..] : line[(first + 1)..second];
        if (first < 0 || !string.Equals(line[..first], Version, StringComparison.OrdinalIgnoreCase))
        {
            error = "bad status line version";
            return false;
        }

        if (codeText.Length != 3 || !int.TryParse(codeText, NumberStyles.None, CultureInfo.InvariantCulture, out var code) || code is < 100 or > 699)
        {
            error = "status code is not three digits in 100..699";
            return false;
        }

        response = new SipResponse(code, second < 0 ? string.Empty : line[(second + 1)..]);
        error = string.Empty;
        return true;
    }
}
