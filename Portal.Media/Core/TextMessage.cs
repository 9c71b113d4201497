using System.Globalization;
using System.Text;

namespace Portal.Media.Core;

/// <summary>Outcome of parsing a text message from the front of a buffer.</summary>
public enum TextMessageParseStatus
{
    Complete,
    Incomplete,
    Invalid,
}

/// <summary>
/// The shape RTSP (RFC 2326 §4) and SIP (RFC 3261 §7) share with HTTP/1.1: a start line, header fields,
/// an empty line, and a body of Content-Length bytes. The protocol types interpret the start line.
/// </summary>
/// <remarks>
/// <code>
/// start-line CRLF
/// Name: value CRLF          (continuation lines starting with SP/HT are folded into the previous value)
/// CRLF
/// body (Content-Length octets)
/// </code>
/// Bare LF line ends are accepted, as RFC 2326 §4 allows and some cameras send.
/// </remarks>
public sealed class TextMessage(string startLine, TextHeaders headers, ReadOnlyMemory<byte> body)
{
    public const int DefaultMaxHeaderBytes = 16 * 1024;

    public const int DefaultMaxBodyBytes = 1024 * 1024;

    private static readonly UTF8Encoding Utf8Strict = new(false, true);

    public string StartLine { get; } = startLine;

    public TextHeaders Headers { get; } = headers;

    public ReadOnlyMemory<byte> Body { get; } = body;

    /// <summary>Line numbers of lines that were not header fields and were skipped (only when the caller asked to tolerate them).</summary>
    public IReadOnlyList<int> MalformedHeaderLines { get; init; } = [];

    /// <summary>Parses one message from the start of <paramref name="buffer"/>; never throws.</summary>
    /// <param name="buffer">Received bytes; may hold less or more than one message.</param>
    /// <param name="message">The message when complete.</param>
    /// <param name="consumed">Bytes the complete message used.</param>
    /// <param name="error">Why the input is invalid.</param>
    /// <param name="maxHeaderBytes">Refuse a head longer than this.</param>
    /// <param name="maxBodyBytes">Refuse a Content-Length above this.</param>
    /// <param name="tolerateMalformedLines">Skip lines that are not header fields and list them in <see cref="MalformedHeaderLines"/> (SIP) instead of failing.</param>
    public static TextMessageParseStatus TryParse(
        ReadOnlySpan<byte> buffer,
        out TextMessage? message,
        out int consumed,
        out string error,
        int maxHeaderBytes = DefaultMaxHeaderBytes,
        int maxBodyBytes = DefaultMaxBodyBytes,
        bool tolerateMalformedLines = false)
    {
        message = null;
        consumed = 0;
        var malformed = tolerateMalformedLines ? new List<int>() : null;
        var status = TryParseHead(buffer, out var startLine, out var headers, out var bodyStart, out error, maxHeaderBytes, malformed);
        if (status != TextMessageParseStatus.Complete)
        {
            return status;
        }

        // "l" is SIP's compact form of Content-Length (RFC 3261 §7.3.3).
        var lengthText = headers!["Content-Length"] ?? headers["l"];
        var bodyLength = 0;
        if (lengthText is not null
            && (!int.TryParse(lengthText, NumberStyles.None, CultureInfo.InvariantCulture, out bodyLength) || bodyLength > maxBodyBytes))
        {
            error = "bad or too large Content-Length";
            return TextMessageParseStatus.Invalid;
        }

        var total = bodyStart + bodyLength;
        if (buffer.Length < total)
        {
            return TextMessageParseStatus.Incomplete;
        }

        message = new TextMessage(startLine!, headers, buffer.Slice(bodyStart, bodyLength).ToArray()) { MalformedHeaderLines = malformed is { Count: > 0 } ? malformed : [] };
        consumed = total;
        return TextMessageParseStatus.Complete;
    }

    /// <summary>
    /// Parses the start line and header fields only, leaving the body to the protocol: SIP over UDP frames the
    /// body by the datagram (RFC 3261 §18.3) and must still answer 400 when its Content-Length is wrong.
    /// </summary>
    /// <param name="buffer">Received bytes.</param>
    /// <param name="startLine">The start line, without its line end.</param>
    /// <param name="headers">The header fields in order (folded lines joined).</param>
    /// <param name="bodyStart">Offset in <paramref name="buffer"/> where the body starts (leading empty lines skipped).</param>
    /// <param name="error">Why the input is invalid.</param>
    /// <param name="maxHeaderBytes">Refuse a head longer than this.</param>
    /// <param name="malformedLines">
    /// When given, a line that is not a header field (no colon, blanks in the name, a continuation with nothing to
    /// continue) is skipped and its 1-based line number added here instead of failing the whole head: SIP answers such a
    /// request 400 (RFC 3261 §21.4.1), which needs its Via. RTSP passes nothing and refuses the message as before.
    /// </param>
    public static TextMessageParseStatus TryParseHead(
        ReadOnlySpan<byte> buffer,
        out string? startLine,
        out TextHeaders? headers,
        out int bodyStart,
        out string error,
        int maxHeaderBytes = DefaultMaxHeaderBytes,
        ICollection<int>? malformedLines = null)
    {
        startLine = null;
        headers = null;
        bodyStart = 0;
        error = string.Empty;

        // Skip leading empty lines: RFC 3261 §7.5 keep-alive CRLFs, and stray CRLF after a body.
        var skip = 0;
        while (skip < buffer.Length && buffer[skip] is (byte)'\r' or (byte)'\n')
        {
            skip++;
        }

        var head = FindHeadEnd(buffer[skip..], out var relativeBodyStart);
        if (head < 0)
        {
            if (buffer.Length - skip > maxHeaderBytes)
            {
                error = "header section too long";
                return TextMessageParseStatus.Invalid;
            }

            return TextMessageParseStatus.Incomplete;
        }

        if (head > maxHeaderBytes)
        {
            error = "header section too long";
            return TextMessageParseStatus.Invalid;
        }

        var headBytes = buffer.Slice(skip, head);
        foreach (var b in headBytes)
        {
            if (b == 0 || (b < 0x20 && b is not (byte)'\r' and not (byte)'\n' and not (byte)'\t') || b == 0x7F)
            {
                error = "control character in header";
                return TextMessageParseStatus.Invalid;
            }
        }

        string text;
        try
        {
            text = Utf8Strict.GetString(headBytes);
        }
        catch (DecoderFallbackException)
        {
            error = "header is not UTF-8";
            return TextMessageParseStatus.Invalid;
        }

        var lines = text.Split('\n');
        var first = lines[0].TrimEnd('\r');
        if (first.Length == 0 || first[0] == ' ' || first[0] == '\t')
        {
            error = "empty start line";
            return TextMessageParseStatus.Invalid;
        }

        var result = new TextHeaders();
        string? lastName = null;
        string? lastValue = null;
        for (var i = 1; i < lines.Length; i++)
        {
            var line = lines[i].TrimEnd('\r');
            if (line.Length == 0)
            {
                continue;
            }

            if (line[0] is ' ' or '\t')
            {
                if (lastName is null)
                {
                    if (malformedLines is not null)
                    {
                        malformedLines.Add(i + 1);
                        continue;
                    }

                    error = "continuation line without a header";
                    return TextMessageParseStatus.Invalid;
                }

                var more = line.Trim();
                if (more.Length > 0)
                {
                    lastValue = lastValue!.Length == 0 ? more : lastValue + " " + more;
                }

                continue;
            }

            if (lastName is not null)
            {
                result.Add(lastName, lastValue!);
                lastName = null;
            }

            // RFC 3261 §25.1 HCOLON allows blanks between the name and the colon ("Via  : ..."); none inside the name.
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            var name = colon <= 0 ? ReadOnlySpan<char>.Empty : line.AsSpan(0, colon).TrimEnd(" \t");
            if (name.IsEmpty || name.ContainsAny(' ', '\t'))
            {
                if (malformedLines is not null)
                {
                    malformedLines.Add(i + 1); // its continuation lines, if any, are skipped with it (lastName is null)
                    continue;
                }

                error = "malformed header line";
                return TextMessageParseStatus.Invalid;
            }

            lastName = name.ToString();
            lastValue = line[(colon + 1)..].Trim();
        }

        if (lastName is not null)
        {
            result.Add(lastName, lastValue!);
        }

        startLine = first;
        headers = result;
        bodyStart = skip + relativeBodyStart;
        return TextMessageParseStatus.Complete;
    }

    /// <summary>Writes start line, headers (Content-Length set from the body when it has one) and body.</summary>
    public static byte[] Write(string startLine, TextHeaders headers, ReadOnlySpan<byte> body)
    {
        var sb = new StringBuilder(256);
        sb.Append(startLine).Append("\r\n");
        foreach (var (name, value) in headers)
        {
            if (!string.Equals(name, "Content-Length", StringComparison.OrdinalIgnoreCase))
            {
                sb.Append(name).Append(": ").Append(value).Append("\r\n");
            }
        }

        if (body.Length > 0)
        {
            sb.Append("Content-Length: ").Append(body.Length.ToString(CultureInfo.InvariantCulture)).Append("\r\n");
        }

        sb.Append("\r\n");
        var headLength = Encoding.UTF8.GetByteCount(sb.ToString());
        var result = new byte[headLength + body.Length];
        Encoding.UTF8.GetBytes(sb.ToString(), result);
        body.CopyTo(result.AsSpan(headLength));
        return result;
    }

    /// <summary>Index of the blank line ending the head, with the offset where the body starts; -1 if not yet seen.</summary>
    private static int FindHeadEnd(ReadOnlySpan<byte> buffer, out int bodyStart)
    {
        for (var i = 0; i < buffer.Length; i++)
        {
            if (buffer[i] != '\n')
            {
                continue;
            }

            if (i + 1 < buffer.Length && buffer[i + 1] == '\n')
            {
                bodyStart = i + 2;
                return i;
            }

            if (i + 2 < buffer.Length && buffer[i + 1] == '\r' && buffer[i + 2] == '\n')
            {
                bodyStart = i + 3;
                return i;
            }
        }

        bodyStart = 0;
        return -1;
    }
}
