using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;
using Portal.Media.Core;
using Portal.Media.Sip.Headers;

namespace Portal.Media.Sip;

/// <summary>The outcome of reading one SIP message: the message, or why it is malformed (RFC 3261 §7).</summary>
/// <param name="Message">The message; with an <paramref name="Error"/> it is a request read far enough to be answered.</param>
/// <param name="Error">Why the input is malformed, or null.</param>
/// <param name="RejectStatus">The status to answer a malformed request with (400, 505, 513), when it can be answered.</param>
public readonly record struct SipParseResult(SipMessage? Message, string? Error, int RejectStatus = SipStatus.BadRequest)
{
    public bool IsValid => Message is not null && Error is null;
}

/// <summary>
/// A SIP request or response (RFC 3261 §7): start line, header fields, body. Built on the text-message
/// framing SIP shares with RTSP (<see cref="TextMessage"/>); typed headers are read on demand.
/// </summary>
/// <remarks>
/// <code>
/// generic-message = start-line *message-header CRLF [ message-body ]
/// start-line      = Request-Line / Status-Line
/// </code>
/// Compact header names (<c>v</c>, <c>i</c>, <c>l</c>...) are expanded when read, so code asks for one spelling.
/// Over UDP the datagram frames the body: without Content-Length the body is the rest of the datagram, and
/// octets past Content-Length are discarded (RFC 3261 §18.3; RFC 4475 §3.1.1.8). Limits: 16 KiB of head,
/// 32 KiB of body, 200 header fields (terminals send about 15).
/// </remarks>
public abstract class SipMessage
{
    public const string Version = "SIP/2.0";

    public const int MaxHeaderBytes = 16 * 1024;

    public const int MaxBodyBytes = 32 * 1024;

    public const int MaxHeaderFields = 200;

    /// <summary>Elements in one list-valued header (Via, Contact, Route); the header limit bounds the total.</summary>
    public const int MaxListElements = 70;

    public TextHeaders Headers { get; } = new();

    public ReadOnlyMemory<byte> Body { get; set; }

    /// <summary>The start line as written (without CRLF).</summary>
    public abstract string StartLine { get; }

    public string? CallId => Headers[SipHeaderNames.CallId];

    public SipCSeqHeader? CSeq => SipCSeqHeader.TryParse(Headers[SipHeaderNames.CSeq], out var cseq) ? cseq : null;

    public SipNameAddressHeader? From => SipNameAddressHeader.TryParse(Headers[SipHeaderNames.From], out var from, out _) ? from : null;

    public SipNameAddressHeader? To => SipNameAddressHeader.TryParse(Headers[SipHeaderNames.To], out var to, out _) ? to : null;

    public string? ContentType => Headers[SipHeaderNames.ContentType];

    /// <summary>The first Via value: the one that routes a response (RFC 3261 §18.2.2).</summary>
    public SipViaHeader? TopVia
    {
        get
        {
            var first = Headers[SipHeaderNames.Via];
            var elements = new List<string>(2);
            return first is not null && SipText.TrySplitList(first, elements, int.MaxValue) && elements.Count > 0
                && SipViaHeader.TryParse(elements[0], out var via, out _) ? via : null;
        }
    }

    /// <summary>Every element of every header of <paramref name="name"/>, split at commas; null when malformed or too many.</summary>
    public IReadOnlyList<string>? GetList(string name)
    {
        var elements = new List<string>();
        foreach (var value in Headers.GetAll(name))
        {
            if (!SipText.TrySplitList(value, elements, MaxListElements))
            {
                return null;
            }
        }

        return elements;
    }

    /// <summary>Every Via in order; null when one is malformed.</summary>
    public IReadOnlyList<SipViaHeader>? GetVias() => ParseList<SipViaHeader>(SipHeaderNames.Via, (string s, out SipViaHeader? v) => SipViaHeader.TryParse(s, out v, out _));

    /// <summary>Every Contact (or Route, Record-Route) in order; null when one is malformed.</summary>
    public IReadOnlyList<SipNameAddressHeader>? GetAddresses(string name) =>
        ParseList<SipNameAddressHeader>(name, (string s, out SipNameAddressHeader? a) => SipNameAddressHeader.TryParse(s, out a, out _));

    /// <summary>Option tags of Require, Supported, Proxy-Require (RFC 3261 §20.32).</summary>
    public IReadOnlyList<string> GetTokens(string name) => GetList(name) ?? [];

    /// <summary>Reads one message from a datagram or a buffer holding exactly one message.</summary>
    public static SipParseResult Parse(ReadOnlySpan<byte> data, bool isDatagram = true)
    {
        var malformed = new List<int>(0);
        var status = TextMessage.TryParseHead(data, out var startLine, out var rawHeaders, out var bodyStart, out var error, MaxHeaderBytes, malformed);
        if (status == TextMessageParseStatus.Invalid)
        {
            return new SipParseResult(null, error);
        }

        if (status == TextMessageParseStatus.Incomplete)
        {
            return new SipParseResult(null, isDatagram ? "datagram ends inside the header section" : "incomplete message");
        }

        var result = Create(startLine!, rawHeaders!, malformed);
        if (!result.IsValid)
        {
            return result;
        }

        var message = result.Message!;
        var lengths = message.Headers.GetAll(SipHeaderNames.ContentLength).ToList();
        if (lengths.Count > 1)
        {
            return new SipParseResult(message, "more than one Content-Length");
        }

        var available = data.Length - bodyStart;
        var length = available;
        if (lengths.Count == 1)
        {
            if (!int.TryParse(lengths[0], NumberStyles.None, CultureInfo.InvariantCulture, out length))
            {
                return new SipParseResult(message, "Content-Length is not a number of octets");
            }

            if (length > available)
            {
                return new SipParseResult(message, "Content-Length larger than the message");
            }
        }
        else if (!isDatagram)
        {
            length = 0;
        }

        if (length > MaxBodyBytes)
        {
            return new SipParseResult(message, "body larger than " + MaxBodyBytes + " octets", SipStatus.MessageTooLarge);
        }

        message.Body = data.Slice(bodyStart, length).ToArray();
        return result;
    }

    public static bool TryParse(ReadOnlySpan<byte> data, [NotNullWhen(true)] out SipMessage? message, out string error)
    {
        var result = Parse(data);
        message = result.IsValid ? result.Message : null;
        error = result.Error ?? string.Empty;
        return result.IsValid;
    }

    /// <summary>A message a stream reader framed already (SIP over TCP/TLS, RFC 3261 §18.3).</summary>
    public static SipParseResult FromText(TextMessage text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var result = Create(text.StartLine, text.Headers, text.MalformedHeaderLines);
        if (result.IsValid)
        {
            if (text.Headers.GetAll("Content-Length").Count() + text.Headers.GetAll("l").Count() > 1)
            {
                return new SipParseResult(result.Message, "more than one Content-Length");
            }

            if (text.Body.Length > MaxBodyBytes)
            {
                return new SipParseResult(result.Message, "body too large", SipStatus.MessageTooLarge);
            }

            result.Message!.Body = text.Body;
        }

        return result;
    }

    /// <summary>Writes the message; Content-Length always comes from the body (required on streams, RFC 3261 §18.3).</summary>
    public byte[] ToBytes()
    {
        var builder = new StringBuilder(512);
        builder.Append(StartLine).Append("\r\n");
        foreach (var (name, value) in Headers)
        {
            if (!string.Equals(name, SipHeaderNames.ContentLength, StringComparison.OrdinalIgnoreCase))
            {
                builder.Append(name).Append(": ").Append(value).Append("\r\n");
            }
        }

        builder.Append("Content-Length: ").Append(Body.Length.ToString(CultureInfo.InvariantCulture)).Append("\r\n\r\n");
        var head = Encoding.UTF8.GetByteCount(builder.ToString());
        var result = new byte[head + Body.Length];
        Encoding.UTF8.GetBytes(builder.ToString(), result);
        Body.Span.CopyTo(result.AsSpan(head));
        return result;
    }

    /// <summary>Writes into <paramref name="destination"/>; returns the length, or -1 when it does not fit.</summary>
    public int Write(Span<byte> destination)
    {
        var bytes = ToBytes();
        if (bytes.Length > destination.Length)
        {
            return -1;
        }

        bytes.CopyTo(destination);
        return bytes.Length;
    }

    public override string ToString() => Encoding.UTF8.GetString(ToBytes());

    /// <param name="startLine">The request or status line.</param>
    /// <param name="rawHeaders">The header fields that could be read.</param>
    /// <param name="malformedLines">Lines that were not header fields (skipped): a request with any is refused 400 (RFC 3261 §21.4.1), named by line number only.</param>
    private static SipParseResult Create(string startLine, TextHeaders rawHeaders, IReadOnlyCollection<int> malformedLines)
    {
        SipMessage message;
        string? error = null;
        var reject = SipStatus.BadRequest;
        if (startLine.StartsWith("SIP/", StringComparison.OrdinalIgnoreCase))
        {
            if (!SipResponse.TryParseStatusLine(startLine, out var response, out var statusError))
            {
                return new SipParseResult(null, statusError); // a response is never answered
            }

            message = response;
        }
        else
        {
            var request = SipRequest.ParseRequestLine(startLine, out error, out var versionOk);
            if (!versionOk)
            {
                reject = SipStatus.VersionNotSupported;
            }

            message = request;
        }

        // The writer drops every Content-Length and writes one of its own, so the fields it would write are counted too:
        // 200 fields without a Content-Length parsed, but written back they were 201 (found by the 1,000,000-input fuzz run).
        var written = 1;
        foreach (var (name, value) in rawHeaders)
        {
            var full = SipHeaderNames.Expand(name);
            message.Headers.Add(full, value); // bounded by the 16 KiB head
            if (!string.Equals(full, SipHeaderNames.ContentLength, StringComparison.OrdinalIgnoreCase))
            {
                written++;
            }
        }

        if (rawHeaders.Count > MaxHeaderFields || written > MaxHeaderFields)
        {
            return new SipParseResult(message, "more than " + MaxHeaderFields + " header fields", SipStatus.MessageTooLarge);
        }

        if (error is null && malformedLines.Count > 0)
        {
            error = "line " + malformedLines.First().ToString(CultureInfo.InvariantCulture) + " is not a header field";
        }

        return new SipParseResult(message, error, reject);
    }

    private delegate bool ElementParser<T>(string text, out T? value);

    private List<T>? ParseList<T>(string name, ElementParser<T> parse)
        where T : class
    {
        var elements = GetList(name);
        if (elements is null)
        {
            return null;
        }

        var result = new List<T>(elements.Count);
        foreach (var element in elements)
        {
            if (!parse(element, out var value))
            {
                return null;
            }

            result.Add(value!);
        }

        return result;
    }
}
