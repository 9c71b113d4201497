using System.Text;

namespace Portal.Media.Sdp;

/// <summary>A session description (RFC 8866): session-level lines, then zero or more media descriptions.</summary>
/// <remarks>
/// <code>
/// v=0                                   protocol version, always 0 (§5.1)
/// o=- 2890844526 2890842807 IN IP4 ...  origin (§5.2)
/// s=-                                   session name (§5.3)
/// [i= u= e= p= c= b=]                   optional (§5.4–§5.8)
/// t=0 0  [r=] [z=]                      timing (§5.9–§5.11)
/// [k=] [a=]*                            (§5.12, §5.13)
/// m=video 0 RTP/AVP 96  ...             media descriptions (§5.14)
/// </code>
/// The parser is lenient where cameras are known to be sloppy (LF without CR, blank lines, runs of spaces,
/// a missing <c>o=</c>/<c>s=</c>/<c>t=</c>, unknown line types are skipped) and strict where input is dangerous:
/// size, line and media counts are bounded, control characters are refused, and it never throws.
/// </remarks>
public sealed class SdpSession
{
    /// <summary>Largest description accepted, in characters. Camera and browser SDPs are a few KB.</summary>
    public const int MaxLength = 64 * 1024;

    public const int MaxLines = 2048;

    public const int MaxMedia = 64;

    public SdpOrigin Origin { get; set; } = new();

    public string SessionName { get; set; } = "-";

    public string? Information { get; set; }

    public string? Uri { get; set; }

    public IList<string> Emails { get; } = new List<string>();

    public IList<string> Phones { get; } = new List<string>();

    public SdpConnection? Connection { get; set; }

    /// <summary>Raw <c>b=</c> values, e.g. <c>AS:5000</c>.</summary>
    public IList<string> Bandwidths { get; } = new List<string>();

    /// <summary>Raw <c>t=</c> values; written as <c>t=0 0</c> when empty.</summary>
    public IList<string> Times { get; } = new List<string>();

    public IList<string> Repeats { get; } = new List<string>();

    public string? TimeZones { get; set; }

    public string? EncryptionKey { get; set; }

    public IList<SdpAttribute> Attributes { get; } = new List<SdpAttribute>();

    public IList<SdpMedia> Media { get; } = new List<SdpMedia>();

    public IReadOnlyList<SdpGroup> Groups => SdpText.ParseAll<SdpGroup>(Attributes, "group", SdpGroup.TryParse);

    public SdpDirection? Direction
    {
        get => SdpText.GetDirection(Attributes);
        set
        {
            if (value is { } d)
            {
                SdpText.SetDirection(Attributes, d);
            }
        }
    }

    /// <summary>Session-level <c>a=control</c> (RFC 2326 C.1.1), often <c>*</c> or the aggregate URL.</summary>
    public string? Control
    {
        get => SdpText.Get(Attributes, "control");
        set => SdpText.Set(Attributes, "control", value);
    }

    public string? GetAttribute(string name) => SdpText.Get(Attributes, name);

    public void AddAttribute(string name, string? value = null) => Attributes.Add(new SdpAttribute(name, value));

    /// <summary>The direction that applies to a media: its own attribute, else the session's, else sendrecv (RFC 8866 §6.7).</summary>
    public SdpDirection EffectiveDirection(SdpMedia media) => media.Direction ?? Direction ?? SdpDirection.SendRecv;

    public static SdpSession Parse(string text) =>
        TryParse(text, out var session, out var error) ? session : throw new FormatException(error);

    public static bool TryParse(string? text, out SdpSession session, out string error)
    {
        session = null!;
        if (string.IsNullOrEmpty(text))
        {
            error = "empty description";
            return false;
        }

        if (text.Length > MaxLength)
        {
            error = "description longer than " + MaxLength + " characters";
            return false;
        }

        var result = new SdpSession();
        SdpMedia? media = null;
        var lineCount = 0;
        var sawVersion = false;
        foreach (var rawLine in text.Split('\n'))
        {
            var line = rawLine.TrimEnd('\r', ' ', '\t');
            if (line.Length == 0)
            {
                continue;
            }

            if (++lineCount > MaxLines)
            {
                error = "more than " + MaxLines + " lines";
                return false;
            }

            if (line.Length < 2 || line[1] != '=' || line[0] is < 'a' or > 'z')
            {
                error = "malformed line " + lineCount + ": expected <type>=<value>";
                return false;
            }

            foreach (var c in line)
            {
                // RFC 8866 §9: byte-string excludes NUL, CR and LF; other controls have no business in SDP either.
                if (c < 0x20 && c != '\t')
                {
                    error = "control character in line " + lineCount;
                    return false;
                }
            }

            var type = line[0];
            var value = line[2..];
            if (!sawVersion)
            {
                if (type != 'v' || value.Trim() != "0")
                {
                    error = "description must start with v=0";
                    return false;
                }

                sawVersion = true;
                continue;
            }

            if (type == 'm')
            {
                if (result.Media.Count >= MaxMedia)
                {
                    error = "more than " + MaxMedia + " media descriptions";
                    return false;
                }

                if (!SdpMedia.TryParseMediaLine(value, out media, out error))
                {
                    return false;
                }

                result.Media.Add(media);
                continue;
            }

            if (!(media is null ? result.TryApplySessionLine(type, value, out error) : TryApplyMediaLine(media, type, value, out error)))
            {
                error = "line " + lineCount + ": " + error;
                return false;
            }
        }

        if (!sawVersion)
        {
            error = "description must start with v=0";
            return false;
        }

        session = result;
        error = string.Empty;
        return true;
    }

    public override string ToString()
    {
        var sb = new StringBuilder(512);
        sb.Append("v=0\r\n");
        WriteLine(sb, 'o', Origin.ToString());
        WriteLine(sb, 's', SessionName.Length == 0 ? "-" : SessionName);
        WriteLine(sb, 'i', Information);
        WriteLine(sb, 'u', Uri);
        foreach (var e in Emails)
        {
            WriteLine(sb, 'e', e);
        }

        foreach (var p in Phones)
        {
            WriteLine(sb, 'p', p);
        }

        WriteLine(sb, 'c', Connection?.ToString());
        foreach (var b in Bandwidths)
        {
            WriteLine(sb, 'b', b);
        }

        if (Times.Count == 0)
        {
            WriteLine(sb, 't', "0 0");
        }

        foreach (var t in Times)
        {
            WriteLine(sb, 't', t);
        }

        foreach (var r in Repeats)
        {
            WriteLine(sb, 'r', r);
        }

        WriteLine(sb, 'z', TimeZones);
        WriteLine(sb, 'k', EncryptionKey);
        foreach (var a in Attributes)
        {
            WriteLine(sb, 'a', a.ToString());
        }

        foreach (var m in Media)
        {
            m.Write(sb);
        }

        return sb.ToString();
    }

    internal static void WriteLine(StringBuilder sb, char type, string? value)
    {
        if (value is not null)
        {
            sb.Append(type).Append('=').Append(value).Append("\r\n");
        }
    }

    private bool TryApplySessionLine(char type, string value, out string error)
    {
        error = string.Empty;
        switch (type)
        {
            case 'o':
                if (!SdpOrigin.TryParse(value, out var origin))
                {
                    error = "o= needs six fields";
                    return false;
                }

                Origin = origin;
                return true;
            case 's': SessionName = value; return true;
            case 'i': Information = value; return true;
            case 'u': Uri = value; return true;
            case 'e': Emails.Add(value); return true;
            case 'p': Phones.Add(value); return true;
            case 'c':
                if (!SdpConnection.TryParse(value, out var c))
                {
                    error = "c= needs three fields";
                    return false;
                }

                Connection = c;
                return true;
            case 'b': Bandwidths.Add(value); return true;
            case 't': Times.Add(value); return true;
            case 'r': Repeats.Add(value); return true;
            case 'z': TimeZones = value; return true;
            case 'k': EncryptionKey = value; return true;
            case 'a': return TryAddAttribute(Attributes, value, out error);
            default: return true; // RFC 8866 §5: unknown types may be ignored; cameras add private letters.
        }
    }

    private static bool TryApplyMediaLine(SdpMedia media, char type, string value, out string error)
    {
        error = string.Empty;
        switch (type)
        {
            case 'i': media.Information = value; return true;
            case 'c':
                if (!SdpConnection.TryParse(value, out var c))
                {
                    error = "c= needs three fields";
                    return false;
                }

                media.Connection = c;
                return true;
            case 'b': media.Bandwidths.Add(value); return true;
            case 'k': media.EncryptionKey = value; return true;
            case 'a': return TryAddAttribute(media.Attributes, value, out error);
            default: return true;
        }
    }

    private static bool TryAddAttribute(IList<SdpAttribute> attributes, string value, out string error)
    {
        var colon = value.IndexOf(':', StringComparison.Ordinal);
        var name = (colon < 0 ? value : value[..colon]).Trim();
        if (name.Length == 0 || name.Contains(' ', StringComparison.Ordinal))
        {
            error = "a= has no valid attribute name";
            return false;
        }

        attributes.Add(new SdpAttribute(name, colon < 0 ? null : value[(colon + 1)..]));
        error = string.Empty;
        return true;
    }
}
