using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Text;
using System.Text.Unicode;

namespace Portal.Media.Rtp.Rtcp;

/// <summary>RTCP source description (SDES), RFC 3550 §6.5, reduced to what WebRTC uses: one CNAME per source.</summary>
/// <remarks>
/// <code>
///         0                   1                   2                   3
///         0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
///        +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// header |V=2|P|    SC   |  PT=SDES=202  |             length            |
///        +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
/// chunk  |                          SSRC/CSRC_1                          |
///   1    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///        |    CNAME=1    |     length    | user and domain name        ...
///        +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///        | END=0 (one or more zero bytes, to the next 32-bit boundary)   |
///        +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
/// </code>
/// RFC 3550 §6.1 wants a CNAME in every compound packet, so it follows each sender report. Items other than
/// CNAME are skipped when parsing.
/// </remarks>
public sealed class RtcpSourceDescription
{
    public const byte CnameItem = 1;

    public IReadOnlyList<(uint Ssrc, string Cname)> Chunks { get; init; } = [];

    public int Length => 4 + Chunks.Sum(c => ChunkLength(Encoding.UTF8.GetByteCount(c.Cname)));

    public static bool TryParse(ReadOnlySpan<byte> packet, [NotNullWhen(true)] out RtcpSourceDescription? sdes, out string error)
    {
        sdes = null;
        if (!RtcpHeader.TryParse(packet, out var header, out error) || !RtcpHeader.TryGetBody(packet, header, out var body, out error))
        {
            return false;
        }

        if (header.PacketType != RtcpPacketType.SourceDescription)
        {
            error = "not an SDES";
            return false;
        }

        var chunks = new List<(uint, string)>(header.Count);
        for (var i = 0; i < header.Count; i++)
        {
            if (body.Length < 8)
            {
                error = "SDES chunk truncated";
                return false;
            }

            var ssrc = BinaryPrimitives.ReadUInt32BigEndian(body);
            var pos = 4;
            string? cname = null;
            while (pos < body.Length && body[pos] != 0)
            {
                if (pos + 2 > body.Length || pos + 2 + body[pos + 1] > body.Length)
                {
                    error = "SDES item runs past the packet";
                    return false;
                }

                var value = body.Slice(pos + 2, body[pos + 1]);
                if (body[pos] == CnameItem)
                {
                    if (!Utf8.IsValid(value))
                    {
                        error = "SDES CNAME is not UTF-8";
                        return false;
                    }

                    cname = Encoding.UTF8.GetString(value);
                }

                pos += 2 + value.Length;
            }

            pos = (pos + 4) & ~3; // the END byte, then padding to the chunk's 32-bit boundary
            if (pos > body.Length)
            {
                error = "SDES chunk not terminated";
                return false;
            }

            chunks.Add((ssrc, cname ?? string.Empty));
            body = body[pos..];
        }

        sdes = new RtcpSourceDescription { Chunks = chunks };
        return true;
    }

    public int Write(Span<byte> destination)
    {
        if (Chunks.Count > 31)
        {
            throw new InvalidOperationException("At most 31 SDES chunks fit in one packet.");
        }

        var length = Length;
        destination[..length].Clear();
        var pos = new RtcpHeader(false, (byte)Chunks.Count, RtcpPacketType.SourceDescription, length).Write(destination);
        foreach (var (ssrc, cname) in Chunks)
        {
            var text = Encoding.UTF8.GetBytes(cname);
            if (text.Length > 255)
            {
                throw new InvalidOperationException("A CNAME is at most 255 bytes.");
            }

            BinaryPrimitives.WriteUInt32BigEndian(destination[pos..], ssrc);
            destination[pos + 4] = CnameItem;
            destination[pos + 5] = (byte)text.Length;
            text.CopyTo(destination[(pos + 6)..]);
            pos += ChunkLength(text.Length);
        }

        return pos;
    }

    /// <summary>SSRC, CNAME item header and text, at least one END byte, padded to 32 bits.</summary>
    private static int ChunkLength(int cnameBytes) => (4 + 2 + cnameBytes + 1 + 3) & ~3;
}
