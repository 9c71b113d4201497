using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace Portal.Media.Sip.Headers;

/// <summary>The <c>CSeq</c> header: a sequence number and the request's method (RFC 3261 §20.16, §8.1.1.5).</summary>
/// <remarks><c>CSeq = 1*DIGIT LWS Method</c>; the number must be below 2^31 (RFC 4475 §3.1.2.4 sends 2^65 to test it).</remarks>
public sealed record SipCSeqHeader(uint Number, string Method)
{
    public const uint MaxNumber = int.MaxValue;

    public static bool TryParse(string? text, [NotNullWhen(true)] out SipCSeqHeader? cseq)
    {
        cseq = null;
        if (string.IsNullOrEmpty(text))
        {
            return false;
        }

        var span = text.AsSpan().Trim(" \t");
        var space = span.IndexOfAny(' ', '\t');
        if (space <= 0 || space > 10
            || !uint.TryParse(span[..space], NumberStyles.None, CultureInfo.InvariantCulture, out var number) || number > MaxNumber)
        {
            return false;
        }

        var method = span[(space + 1)..].Trim(" \t");
        if (!SipMethods.IsToken(method))
        {
            return false;
        }

        cseq = new SipCSeqHeader(number, method.ToString());
        return true;
    }

    public override string ToString() => Number.ToString(CultureInfo.InvariantCulture) + " " + Method;
}
