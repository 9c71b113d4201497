using System.Globalization;
using Portal.Media.Sip.Headers;

namespace Portal.Media.Sip;

/// <summary>What a UAS serves: the methods it answers, the bodies it reads, the extensions it supports.</summary>
/// <param name="Methods">Methods answered (anything else: 405 for a known method, 501 for an unknown one).</param>
/// <param name="ContentTypes">Body types understood (anything else: 415 with Accept).</param>
/// <param name="Extensions">Option tags understood in Require (anything else: 420 with Unsupported).</param>
public sealed record SipCapabilities(IReadOnlyList<string> Methods, IReadOnlyList<string> ContentTypes, IReadOnlyList<string> Extensions)
{
    public static SipCapabilities Default { get; } = new(
        [SipMethods.Invite, SipMethods.Ack, SipMethods.Bye, SipMethods.Cancel, SipMethods.Options, SipMethods.Register, SipMethods.Info],
        ["application/sdp"],
        []);

    public string AllowHeader => string.Join(", ", Methods);
}

/// <summary>
/// The checks a UAS makes before it processes a request, in RFC 3261 §8.2's order, each with the answer the
/// RFC prescribes (400, 405, 415, 416, 420, 501 and 406 for an INVITE that accepts no SDP).
/// </summary>
/// <remarks>
/// Malformed single-valued headers and a CSeq that names another method are 400 (RFC 4475 §3.1.2.17,
/// §3.3.8); Max-Forwards may be missing (RFC 2543 clients, RFC 4475 §3.4) but not wrong. Max-Forwards 0 is
/// not refused: we are the endpoint, and an endpoint processes it (RFC 4475 §3.3.11).
/// </remarks>
public static class SipRequestValidator
{
    /// <summary>The error response for <paramref name="request"/>, or null when it may be processed.</summary>
    public static SipResponse? Check(SipRequest request, SipCapabilities capabilities)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(capabilities);
        foreach (var name in SipHeaderNames.SingleValued)
        {
            if (request.Headers.GetAll(name).Skip(1).Any())
            {
                return Reject(request, SipStatus.BadRequest, "Duplicate " + name);
            }
        }

        if (request.CallId is not { Length: > 0 } || request.From is null || request.To is null)
        {
            return Reject(request, SipStatus.BadRequest, "Missing or malformed Call-ID, From or To");
        }

        if (request.CSeq is not { } cseq)
        {
            return Reject(request, SipStatus.BadRequest, "Missing or malformed CSeq");
        }

        if (!string.Equals(cseq.Method, request.Method, StringComparison.Ordinal))
        {
            return Reject(request, SipStatus.BadRequest, "CSeq method does not match the request line");
        }

        if (request.Headers[SipHeaderNames.MaxForwards] is not null && request.MaxForwards is null)
        {
            return Reject(request, SipStatus.BadRequest, "Malformed Max-Forwards");
        }

        if (request.GetVias() is null)
        {
            return Reject(request, SipStatus.BadRequest, "Malformed Via");
        }

        if (request.Headers[SipHeaderNames.Expires] is { } expires && !IsDeltaSeconds(expires))
        {
            return Reject(request, SipStatus.BadRequest, "Malformed Expires");
        }

        SipUri.HasScheme(request.RequestUriText, out var scheme);
        if (!string.Equals(scheme, "sip", StringComparison.OrdinalIgnoreCase) && !string.Equals(scheme, "sips", StringComparison.OrdinalIgnoreCase))
        {
            return Reject(request, SipStatus.UnsupportedUriScheme);
        }

        if (request.RequestUri is not { } uri || uri.Headers is not null)
        {
            return Reject(request, SipStatus.BadRequest, "Malformed Request-URI");
        }

        if (!capabilities.Methods.Contains(request.Method, StringComparer.Ordinal))
        {
            var refusal = Reject(request, SipMethods.IsKnown(request.Method) ? SipStatus.MethodNotAllowed : SipStatus.NotImplemented);
            refusal.Headers.Add(SipHeaderNames.Allow, capabilities.AllowHeader);
            return refusal;
        }

        if (request.Method is not SipMethods.Ack and not SipMethods.Cancel)
        {
            var unsupported = request.GetTokens(SipHeaderNames.Require)
                .Where(tag => !capabilities.Extensions.Contains(tag, StringComparer.OrdinalIgnoreCase)).ToList();
            if (unsupported.Count > 0)
            {
                var refusal = Reject(request, SipStatus.BadExtension);
                refusal.Headers.Add(SipHeaderNames.Unsupported, string.Join(", ", unsupported));
                return refusal;
            }
        }

        if (!request.Body.IsEmpty || request.ContentType is not null)
        {
            var type = request.ContentType?.Split(';')[0].Trim();
            var encoding = request.Headers[SipHeaderNames.ContentEncoding]?.Trim();
            if ((!request.Body.IsEmpty && type is null) || (type is not null && !capabilities.ContentTypes.Contains(type, StringComparer.OrdinalIgnoreCase))
                || (encoding is { Length: > 0 } && !string.Equals(encoding, "identity", StringComparison.OrdinalIgnoreCase)))
            {
                var refusal = Reject(request, SipStatus.UnsupportedMediaType);
                refusal.Headers.Add(SipHeaderNames.Accept, string.Join(", ", capabilities.ContentTypes));
                refusal.Headers.Add("Accept-Encoding", "identity");
                return refusal;
            }
        }

        if (request.Method == SipMethods.Invite && request.Headers[SipHeaderNames.Accept] is { } accept && !AcceptsSdp(accept))
        {
            var refusal = Reject(request, SipStatus.NotAcceptable);
            refusal.Headers.Add(SipHeaderNames.Accept, "application/sdp");
            return refusal;
        }

        return null;
    }

    /// <summary>A response to a request the stack cannot process, with a To tag as RFC 3261 §8.2.6.2 requires.</summary>
    public static SipResponse Reject(SipRequest request, int status, string? reason = null)
    {
        var response = SipResponse.CreateFor(request, status, reason);
        if (status > 100 && SipNameAddressHeader.TryParse(response.Headers[SipHeaderNames.To], out var to, out _) && to.Tag is null)
        {
            to.Tag = SipTags.NewTag();
            response.Headers.Set(SipHeaderNames.To, to.ToString());
        }

        return response;
    }

    private static bool IsDeltaSeconds(string value)
    {
        var text = value.Trim();
        return text.Length is > 0 and <= 20 && text.All(char.IsAsciiDigit);
    }

    private static bool AcceptsSdp(string accept) => accept.Split(',').Select(a => a.Split(';')[0].Trim())
        .Any(a => a.Length == 0 || a is "*/*" or "application/*" || string.Equals(a, "application/sdp", StringComparison.OrdinalIgnoreCase));
}

/// <summary>Random identifiers with the entropy RFC 3261 asks for: tags (§19.3, 32 bits at least), branches, Call-IDs.</summary>
public static class SipTags
{
    public static string NewTag() => Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(8));

    public static string NewBranch() => SipViaHeader.MagicCookie + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(10));

    public static string NewCallId() => Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));

    /// <summary>A CSeq start: random below 2^31 as RFC 3261 §8.1.1.5 suggests, leaving room to count up.</summary>
    public static uint NewSequence() => (uint)System.Security.Cryptography.RandomNumberGenerator.GetInt32(1, 1 << 30);

    internal static string Invariant(int value) => value.ToString(CultureInfo.InvariantCulture);
}
