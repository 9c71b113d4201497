using System.Text;
using Portal.Media.Core;

namespace Portal.Media.Rtsp;

/// <summary>An RTSP request (RFC 2326 §6): <c>Method SP Request-URI SP RTSP/1.0</c>, headers, optional body.</summary>
public sealed class RtspRequest
{
    public const string Version = "RTSP/1.0";

    public RtspRequest(string method, string uri)
    {
        Method = method;
        Uri = uri;
    }

    public string Method { get; }

    /// <summary>The Request-URI exactly as on the wire (digest auth hashes it verbatim).</summary>
    public string Uri { get; }

    public TextHeaders Headers { get; } = new();

    public ReadOnlyMemory<byte> Body { get; set; }

    public int CSeq => RtspResponse.ParseCSeq(Headers["CSeq"]);

    public static bool TryParse(TextMessage message, out RtspRequest request, out string error)
    {
        request = null!;
        var parts = message.StartLine.Split(' ');
        if (parts.Length != 3 || parts[0].Length == 0 || parts[1].Length == 0 || !parts[2].StartsWith("RTSP/1.", StringComparison.Ordinal))
        {
            error = "bad request line";
            return false;
        }

        foreach (var c in parts[0])
        {
            if (c is < 'A' or > 'Z' and not '_')
            {
                error = "bad method";
                return false;
            }
        }

        request = new RtspRequest(parts[0], parts[1]) { Body = message.Body };
        foreach (var (name, value) in message.Headers)
        {
            request.Headers.Add(name, value);
        }

        error = string.Empty;
        return true;
    }

    public byte[] ToBytes() => TextMessage.Write($"{Method} {Uri} {Version}", Headers, Body.Span);

    public override string ToString() => Encoding.UTF8.GetString(ToBytes());
}
