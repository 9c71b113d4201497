using System.Globalization;
using System.Text;
using Portal.Media.Core;

namespace Portal.Media.Rtsp;

/// <summary>An RTSP response (RFC 2326 §7): <c>RTSP/1.0 SP Status-Code SP Reason-Phrase</c>, headers, optional body.</summary>
public sealed class RtspResponse
{
    public RtspResponse(int statusCode, string reason)
    {
        StatusCode = statusCode;
        Reason = reason;
    }

    public int StatusCode { get; }

    public string Reason { get; }

    public TextHeaders Headers { get; } = new();

    public ReadOnlyMemory<byte> Body { get; set; }

    public int CSeq => ParseCSeq(Headers["CSeq"]);

    public bool IsSuccess => StatusCode is >= 200 and < 300;

    /// <summary>The session id of the <c>Session</c> header, without <c>;timeout=</c> (RFC 2326 §12.37).</summary>
    public string? SessionId => Headers["Session"]?.Split(';')[0].Trim();

    /// <summary>The session timeout the server announced, or 60 s (the RFC 2326 default).</summary>
    public TimeSpan SessionTimeout
    {
        get
        {
            foreach (var part in (Headers["Session"] ?? string.Empty).Split(';').Skip(1))
            {
                var kv = part.Split('=', 2, StringSplitOptions.TrimEntries);
                if (kv.Length == 2 && kv[0].Equals("timeout", StringComparison.OrdinalIgnoreCase)
                    && int.TryParse(kv[1], NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) && seconds is > 0 and < 3600)
                {
                    return TimeSpan.FromSeconds(seconds);
                }
            }

            return TimeSpan.FromSeconds(60);
        }
    }

    public static bool TryParse(TextMessage message, out RtspResponse response, out string error)
    {
        response = null!;
        var line = message.StartLine;
        var parts = line.Split(' ', 3);
        if (parts.Length < 2 || !parts[0].StartsWith("RTSP/1.", StringComparison.Ordinal) || parts[1].Length != 3
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var code) || code < 100)
        {
            error = "bad status line";
            return false;
        }

        response = new RtspResponse(code, parts.Length == 3 ? parts[2] : string.Empty) { Body = message.Body };
        foreach (var (name, value) in message.Headers)
        {
            response.Headers.Add(name, value);
        }

        error = string.Empty;
        return true;
    }

    public byte[] ToBytes() => TextMessage.Write(
        string.Create(CultureInfo.InvariantCulture, $"{RtspRequest.Version} {StatusCode} {Reason}"), Headers, Body.Span);

    public override string ToString() => Encoding.UTF8.GetString(ToBytes());

    internal static int ParseCSeq(string? value) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var cseq) ? cseq : -1;
}
