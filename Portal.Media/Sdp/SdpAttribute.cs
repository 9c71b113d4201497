using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace Portal.Media.Sdp;

/// <summary>One <c>a=</c> line: a property attribute (<c>a=recvonly</c>, <see cref="Value"/> null) or a value attribute.</summary>
/// <remarks>RFC 8866 §5.13: <c>attribute = (attribute-name ":" attribute-value) / attribute-name</c>.</remarks>
[SuppressMessage("Naming", "CA1711", Justification = "RFC 8866 §5.13 calls an a= line an attribute; this is not a .NET Attribute.")]
public sealed record SdpAttribute(string Name, string? Value = null)
{
    public override string ToString() => Value is null ? Name : Name + ":" + Value;
}

/// <summary>Media direction attributes, RFC 8866 §6.7. <see cref="SendRecv"/> is the default when none is given.</summary>
public enum SdpDirection
{
    SendRecv,
    SendOnly,
    RecvOnly,
    Inactive,
}

/// <summary><c>a=rtpmap:&lt;payload type&gt; &lt;encoding name&gt;/&lt;clock rate&gt;[/&lt;channels&gt;]</c>, RFC 8866 §6.6.</summary>
public sealed record SdpRtpMap(int PayloadType, string EncodingName, int ClockRate, int? Channels = null)
{
    public static bool TryParse(string value, out SdpRtpMap rtpMap)
    {
        rtpMap = null!;
        var space = value.IndexOf(' ', StringComparison.Ordinal);
        if (space <= 0 || !SdpText.TryParsePayloadType(value.AsSpan(0, space), out var pt))
        {
            return false;
        }

        var parts = value[(space + 1)..].Trim().Split('/');
        if (parts.Length is < 2 or > 3 || parts[0].Length == 0
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var clock) || clock <= 0)
        {
            return false;
        }

        int? channels = null;
        if (parts.Length == 3)
        {
            if (!int.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var c) || c <= 0)
            {
                return false;
            }

            channels = c;
        }

        rtpMap = new SdpRtpMap(pt, parts[0], clock, channels);
        return true;
    }

    public override string ToString() => Channels is { } c
        ? string.Create(CultureInfo.InvariantCulture, $"{PayloadType} {EncodingName}/{ClockRate}/{c}")
        : string.Create(CultureInfo.InvariantCulture, $"{PayloadType} {EncodingName}/{ClockRate}");
}

/// <summary><c>a=fmtp:&lt;format&gt; &lt;parameters&gt;</c>, RFC 8866 §6.15. Parameters are usually <c>key=value;key=value</c>.</summary>
public sealed record SdpFmtp(int PayloadType, string Parameters)
{
    public static bool TryParse(string value, out SdpFmtp fmtp)
    {
        fmtp = null!;
        var space = value.IndexOf(' ', StringComparison.Ordinal);
        var ptText = space < 0 ? value.AsSpan() : value.AsSpan(0, space);
        if (!SdpText.TryParsePayloadType(ptText, out var pt))
        {
            return false;
        }

        fmtp = new SdpFmtp(pt, space < 0 ? string.Empty : value[(space + 1)..].Trim());
        return true;
    }

    /// <summary>Splits <c>key=value;key=value</c>; keys are case-insensitive (RFC 6184 §8.1 media type parameters).</summary>
    public IReadOnlyDictionary<string, string> GetParameters()
    {
        var result = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var part in Parameters.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var eq = part.IndexOf('=', StringComparison.Ordinal);
            var key = eq < 0 ? part : part[..eq].Trim();
            result[key] = eq < 0 ? string.Empty : part[(eq + 1)..].Trim();
        }

        return result;
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{PayloadType} {Parameters}");
}

/// <summary><c>a=ssrc:&lt;ssrc-id&gt; &lt;attribute&gt;[:&lt;value&gt;]</c>, RFC 5576 §4.1.</summary>
public sealed record SdpSsrc(uint Ssrc, string Attribute, string? Value)
{
    public static bool TryParse(string value, out SdpSsrc ssrc)
    {
        ssrc = null!;
        var space = value.IndexOf(' ', StringComparison.Ordinal);
        if (space <= 0 || !uint.TryParse(value.AsSpan(0, space), NumberStyles.None, CultureInfo.InvariantCulture, out var id))
        {
            return false;
        }

        var rest = value[(space + 1)..];
        var colon = rest.IndexOf(':', StringComparison.Ordinal);
        var name = colon < 0 ? rest : rest[..colon];
        if (name.Length == 0)
        {
            return false;
        }

        ssrc = new SdpSsrc(id, name, colon < 0 ? null : rest[(colon + 1)..]);
        return true;
    }

    public override string ToString() => Value is null
        ? string.Create(CultureInfo.InvariantCulture, $"{Ssrc} {Attribute}")
        : string.Create(CultureInfo.InvariantCulture, $"{Ssrc} {Attribute}:{Value}");
}

/// <summary><c>a=group:&lt;semantics&gt; &lt;mid&gt; ...</c>, RFC 5888 §5 (e.g. <c>BUNDLE 0 1</c>).</summary>
public sealed record SdpGroup(string Semantics, IReadOnlyList<string> Mids)
{
    public static bool TryParse(string value, out SdpGroup group)
    {
        var parts = value.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        group = parts.Length == 0 ? null! : new SdpGroup(parts[0], parts[1..]);
        return parts.Length > 0;
    }

    public override string ToString() => Mids.Count == 0 ? Semantics : Semantics + " " + string.Join(' ', Mids);
}
