using System.Globalization;
using System.Text;

namespace Portal.Media.Rtsp;

/// <summary>The <c>Transport</c> header of SETUP (RFC 2326 §12.39).</summary>
/// <remarks>
/// <code>
/// Transport: RTP/AVP/TCP;unicast;interleaved=0-1
/// Transport: RTP/AVP;unicast;client_port=50000-50001;server_port=6970-6971;ssrc=1A2B3C4D;mode="PLAY"
/// </code>
/// A client may offer several comma-separated specs; we read the first, which is what the server chose in a reply.
/// </remarks>
public sealed record RtspTransportHeader
{
    /// <summary><c>RTP/AVP</c> (UDP) or <c>RTP/AVP/TCP</c>.</summary>
    public string Protocol { get; init; } = "RTP/AVP";

    public bool IsTcp => Protocol.EndsWith("/TCP", StringComparison.OrdinalIgnoreCase);

    public bool Unicast { get; init; } = true;

    public (int Rtp, int Rtcp)? Interleaved { get; init; }

    public (int Rtp, int Rtcp)? ClientPort { get; init; }

    public (int Rtp, int Rtcp)? ServerPort { get; init; }

    public uint? Ssrc { get; init; }

    public string? Mode { get; init; }

    public string? Source { get; init; }

    public string? Destination { get; init; }

    public static bool TryParse(string? value, out RtspTransportHeader header)
    {
        header = null!;
        if (string.IsNullOrWhiteSpace(value) || value.Length > 1024)
        {
            return false;
        }

        var parts = value.Split(',')[0].Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0 || !parts[0].StartsWith("RTP/AVP", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var result = new RtspTransportHeader { Protocol = parts[0] };
        foreach (var part in parts.AsSpan(1))
        {
            var eq = part.IndexOf('=', StringComparison.Ordinal);
            var key = (eq < 0 ? part : part[..eq]).ToLowerInvariant();
            var v = eq < 0 ? string.Empty : part[(eq + 1)..].Trim('"');
            switch (key)
            {
                case "unicast": result = result with { Unicast = true }; break;
                case "multicast": result = result with { Unicast = false }; break;
                case "interleaved" when TryParseRange(v, 255, out var r): result = result with { Interleaved = r }; break;
                case "client_port" when TryParseRange(v, 65535, out var r): result = result with { ClientPort = r }; break;
                case "server_port" when TryParseRange(v, 65535, out var r): result = result with { ServerPort = r }; break;
                case "ssrc" when uint.TryParse(v, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var s): result = result with { Ssrc = s }; break;
                case "mode": result = result with { Mode = v }; break;
                case "source": result = result with { Source = v }; break;
                case "destination": result = result with { Destination = v }; break;
                case "interleaved" or "client_port" or "server_port":
                    return false;
            }
        }

        header = result;
        return true;
    }

    public override string ToString()
    {
        var sb = new StringBuilder(Protocol);
        sb.Append(Unicast ? ";unicast" : ";multicast");
        Append(sb, "destination", Destination);
        Append(sb, "source", Source);
        AppendRange(sb, "interleaved", Interleaved);
        AppendRange(sb, "client_port", ClientPort);
        AppendRange(sb, "server_port", ServerPort);
        if (Ssrc is { } ssrc)
        {
            sb.Append(CultureInfo.InvariantCulture, $";ssrc={ssrc:X8}");
        }

        Append(sb, "mode", Mode is null ? null : "\"" + Mode + "\"");
        return sb.ToString();
    }

    private static void Append(StringBuilder sb, string key, string? value)
    {
        if (value is not null)
        {
            sb.Append(';').Append(key).Append('=').Append(value);
        }
    }

    private static void AppendRange(StringBuilder sb, string key, (int A, int B)? range)
    {
        if (range is { } r)
        {
            sb.Append(CultureInfo.InvariantCulture, $";{key}={r.A}-{r.B}");
        }
    }

    /// <summary><c>n-m</c> or a lone <c>n</c> (then m = n + 1, as RFC 2326 §12.39 implies for RTP/RTCP pairs).</summary>
    private static bool TryParseRange(string value, int max, out (int, int) range)
    {
        range = default;
        var dash = value.IndexOf('-', StringComparison.Ordinal);
        var a = dash < 0 ? value : value[..dash];
        if (!int.TryParse(a, NumberStyles.None, CultureInfo.InvariantCulture, out var first) || first > max)
        {
            return false;
        }

        var second = first + 1;
        if (dash >= 0 && (!int.TryParse(value.AsSpan(dash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out second) || second > max))
        {
            return false;
        }

        range = (first, second);
        return true;
    }
}
