using System.Globalization;
using System.Text;

namespace Portal.Media.Sdp;

/// <summary>One media description: the <c>m=</c> line and the lines up to the next <c>m=</c>.</summary>
/// <remarks>
/// RFC 8866 §5.14: <c>m=&lt;media&gt; &lt;port&gt;[/&lt;number of ports&gt;] &lt;proto&gt; &lt;fmt&gt; ...</c>,
/// followed by optional <c>i=</c>, <c>c=</c>, <c>b=</c>, <c>k=</c> and <c>a=</c> lines in that order.
/// </remarks>
public sealed class SdpMedia
{
    public string Type { get; set; } = "video";

    public int Port { get; set; }

    public int? PortCount { get; set; }

    public string Protocol { get; set; } = "RTP/AVP";

    /// <summary>Payload types for RTP profiles, or other format tokens (e.g. <c>webrtc-datachannel</c>).</summary>
    public IList<string> Formats { get; } = new List<string>();

    public string? Information { get; set; }

    public SdpConnection? Connection { get; set; }

    /// <summary>Raw <c>b=</c> values, e.g. <c>AS:5000</c>.</summary>
    public IList<string> Bandwidths { get; } = new List<string>();

    public string? EncryptionKey { get; set; }

    public IList<SdpAttribute> Attributes { get; } = new List<SdpAttribute>();

    public IReadOnlyList<SdpRtpMap> RtpMaps => SdpText.ParseAll<SdpRtpMap>(Attributes, "rtpmap", SdpRtpMap.TryParse);

    public IReadOnlyList<SdpFmtp> Fmtps => SdpText.ParseAll<SdpFmtp>(Attributes, "fmtp", SdpFmtp.TryParse);

    public IReadOnlyList<SdpSsrc> Ssrcs => SdpText.ParseAll<SdpSsrc>(Attributes, "ssrc", SdpSsrc.TryParse);

    /// <summary>The direction attribute of this media, or null when it has none (the session's then applies).</summary>
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

    /// <summary><c>a=control</c> (RFC 2326 C.1.1): a URL, absolute or relative to the content base.</summary>
    public string? Control
    {
        get => SdpText.Get(Attributes, "control");
        set => SdpText.Set(Attributes, "control", value);
    }

    /// <summary><c>a=mid</c>, RFC 5888 §4.</summary>
    public string? Mid
    {
        get => SdpText.Get(Attributes, "mid");
        set => SdpText.Set(Attributes, "mid", value);
    }

    public string? GetAttribute(string name) => SdpText.Get(Attributes, name);

    public IEnumerable<string> GetAttributes(string name) =>
        Attributes.Where(a => string.Equals(a.Name, name, StringComparison.OrdinalIgnoreCase)).Select(a => a.Value ?? string.Empty);

    public void AddAttribute(string name, string? value = null) => Attributes.Add(new SdpAttribute(name, value));

    public void RemoveAttributes(string name) => SdpText.Remove(Attributes, name);

    public SdpRtpMap? GetRtpMap(int payloadType) => RtpMaps.FirstOrDefault(r => r.PayloadType == payloadType);

    public SdpFmtp? GetFmtp(int payloadType) => Fmtps.FirstOrDefault(f => f.PayloadType == payloadType);

    /// <summary>
    /// The payload type for an encoding name, or null. Static payload types without an rtpmap count too
    /// (RFC 3551 table 4/5: 0 PCMU, 8 PCMA), because some terminals omit the rtpmap for them.
    /// </summary>
    public int? FindPayloadType(string encodingName)
    {
        foreach (var map in RtpMaps)
        {
            if (string.Equals(map.EncodingName, encodingName, StringComparison.OrdinalIgnoreCase))
            {
                return map.PayloadType;
            }
        }

        var staticPt = encodingName.ToUpperInvariant() switch { "PCMU" => "0", "PCMA" => "8", _ => null };
        return staticPt is not null && Formats.Contains(staticPt) && GetRtpMap(int.Parse(staticPt, CultureInfo.InvariantCulture)) is null
            ? int.Parse(staticPt, CultureInfo.InvariantCulture)
            : null;
    }

    internal static bool TryParseMediaLine(string value, out SdpMedia media, out string error)
    {
        media = null!;
        var t = SdpText.Tokens(value);
        if (t.Length < 3)
        {
            error = "m= line needs media, port and protocol";
            return false;
        }

        var portText = t[1];
        int? count = null;
        var slash = portText.IndexOf('/', StringComparison.Ordinal);
        if (slash >= 0)
        {
            if (!int.TryParse(portText.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var c) || c is < 1 or > 65535)
            {
                error = "m= line has a bad port count";
                return false;
            }

            count = c;
            portText = portText[..slash];
        }

        if (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port > 65535)
        {
            error = "m= line has a bad port";
            return false;
        }

        media = new SdpMedia { Type = t[0], Port = port, PortCount = count, Protocol = t[2] };
        foreach (var f in t.AsSpan(3))
        {
            media.Formats.Add(f);
        }

        error = string.Empty;
        return true;
    }

    internal void Write(StringBuilder sb)
    {
        sb.Append("m=").Append(Type).Append(' ').Append(Port.ToString(CultureInfo.InvariantCulture));
        if (PortCount is { } count)
        {
            sb.Append('/').Append(count.ToString(CultureInfo.InvariantCulture));
        }

        sb.Append(' ').Append(Protocol);
        foreach (var f in Formats)
        {
            sb.Append(' ').Append(f);
        }

        sb.Append("\r\n");
        SdpSession.WriteLine(sb, 'i', Information);
        SdpSession.WriteLine(sb, 'c', Connection?.ToString());
        foreach (var b in Bandwidths)
        {
            SdpSession.WriteLine(sb, 'b', b);
        }

        SdpSession.WriteLine(sb, 'k', EncryptionKey);
        foreach (var a in Attributes)
        {
            SdpSession.WriteLine(sb, 'a', a.ToString());
        }
    }
}
