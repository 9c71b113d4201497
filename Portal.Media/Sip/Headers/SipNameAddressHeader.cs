using System.Diagnostics.CodeAnalysis;
using System.Text;

namespace Portal.Media.Sip.Headers;

/// <summary>
/// A name-addr or addr-spec with header parameters, the shape of From, To, Contact, Route and Record-Route
/// (RFC 3261 §20.10, §20.20, §20.39, §25.1).
/// </summary>
/// <remarks>
/// <code>
/// name-addr = [ display-name ] LAQUOT addr-spec RAQUOT      display-name = *(token LWS) / quoted-string
/// From: "Guard room" &lt;sip:terminal-00001@school.example&gt;;tag=a73kszlfl
/// To: sip:110@portal.example;tag=x                            (addr-spec: its ';' starts header parameters)
/// </code>
/// The URI is kept as text (<see cref="UriText"/>) because To and From may carry any scheme (RFC 4475 §3.3.4);
/// <see cref="Uri"/> is its sip/sips reading. An addr-spec with '?' or ',' is refused: those are only legal
/// inside angle brackets (RFC 4475 §3.1.2.12).
/// </remarks>
public sealed class SipNameAddressHeader
{
    public SipNameAddressHeader(SipUri uri, string? displayName = null)
    {
        ArgumentNullException.ThrowIfNull(uri);
        Uri = uri;
        UriText = uri.ToString();
        DisplayName = displayName;
    }

    private SipNameAddressHeader(string? displayName, string uriText, SipUri? uri, SipParameters parameters, bool wildcard)
    {
        DisplayName = displayName;
        UriText = uriText;
        Uri = uri;
        Parameters = parameters;
        IsWildcard = wildcard;
    }

    public string? DisplayName { get; }

    public string UriText { get; }

    /// <summary>The URI when it is sip: or sips:, else null.</summary>
    public SipUri? Uri { get; }

    public SipParameters Parameters { get; } = new();

    /// <summary><c>Contact: *</c>, which REGISTER uses with <c>Expires: 0</c> to remove every binding (RFC 3261 §10.2.2).</summary>
    public bool IsWildcard { get; }

    public string? Tag
    {
        get => Parameters["tag"];
        set
        {
            if (value is null)
            {
                Parameters.Remove("tag");
            }
            else
            {
                Parameters.Set("tag", value);
            }
        }
    }

    public static bool TryParse(string? text, [NotNullWhen(true)] out SipNameAddressHeader? header, out string error)
    {
        header = null;
        var span = (text ?? string.Empty).AsSpan().Trim(" \t");
        if (span.IsEmpty)
        {
            error = "empty address";
            return false;
        }

        if (span is "*")
        {
            header = new SipNameAddressHeader(null, "*", null, new SipParameters(), wildcard: true);
            error = string.Empty;
            return true;
        }

        string? displayName = null;
        string uriText;
        ReadOnlySpan<char> rest;
        var i = 0;
        if (span[0] == '"')
        {
            if (!SipText.TryReadQuoted(span, ref i, out var quoted))
            {
                error = "unterminated quoted display name";
                return false;
            }

            displayName = quoted;
            span = span[i..].TrimStart(" \t");
            if (span.IsEmpty || span[0] != '<')
            {
                error = "display name without <URI>";
                return false;
            }
        }

        var open = span.IndexOf('<');
        if (open >= 0)
        {
            var name = span[..open].Trim(" \t");
            if (displayName is null && !name.IsEmpty)
            {
                foreach (var c in name)
                {
                    if (!SipMethods.IsTokenChar(c) && c is not ' ' and not '\t')
                    {
                        error = "display name with characters outside token; it must be quoted";
                        return false;
                    }
                }

                displayName = name.ToString();
            }

            var close = span.IndexOf('>');
            if (close < open)
            {
                error = "unterminated <URI>";
                return false;
            }

            uriText = span[(open + 1)..close].ToString();
            rest = span[(close + 1)..];
        }
        else
        {
            var semi = span.IndexOf(';');
            var spec = semi < 0 ? span : span[..semi];
            if (spec.ContainsAny('?', ',') || spec.ContainsAny(' ', '\t'))
            {
                error = "addr-spec with '?', ',' or blanks must be enclosed in <>";
                return false;
            }

            uriText = spec.ToString();
            rest = semi < 0 ? ReadOnlySpan<char>.Empty : span[semi..];
        }

        if (!SipUri.HasScheme(uriText, out var scheme))
        {
            error = "address without a URI scheme";
            return false;
        }

        SipUri? uri = null;
        if ((scheme.Equals("sip", StringComparison.OrdinalIgnoreCase) || scheme.Equals("sips", StringComparison.OrdinalIgnoreCase))
            && !SipUri.TryParse(uriText, out uri, out error))
        {
            return false;
        }

        if (uriText.AsSpan().ContainsAny(' ', '\t'))
        {
            error = "blanks inside the URI";
            return false;
        }

        if (!SipParameters.TryParse(rest, out var parameters, out error))
        {
            return false;
        }

        header = new SipNameAddressHeader(displayName, uriText, uri, parameters, wildcard: false);
        return true;
    }

    public override string ToString()
    {
        if (IsWildcard)
        {
            return "*";
        }

        var builder = new StringBuilder(96);
        if (!string.IsNullOrEmpty(DisplayName))
        {
            SipText.AppendQuoted(builder, DisplayName);
            builder.Append(' ');
        }

        builder.Append('<').Append(UriText).Append('>');
        Parameters.WriteTo(builder);
        return builder.ToString();
    }
}
