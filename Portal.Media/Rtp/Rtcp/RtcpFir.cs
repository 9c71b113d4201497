using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;

namespace Portal.Media.Rtp.Rtcp;

/// <summary>Full Intra Request, RFC 5104 §4.3.1: a decoder refresh point is wanted from each listed source.</summary>
/// <remarks>
/// <code>
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |V=2|P| FMT=4   |   PT=PSFB=206 |          length               |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                  SSRC of packet sender                        |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                  SSRC of media source (unused, 0)             |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                              SSRC                             |  FCI entry,
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+  repeated
/// | Seq nr.       |    Reserved                                   |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// </code>
/// The sequence number lets the media sender ignore a repeated request (§4.3.1.1).
/// </remarks>
public sealed class RtcpFir
{
    private const int MaxEntries = 64;

    public uint SenderSsrc { get; init; }

    public IReadOnlyList<RtcpFirEntry> Entries { get; init; } = [];

    public int Length => 12 + (8 * Entries.Count);

    public static bool TryParse(ReadOnlySpan<byte> packet, [NotNullWhen(true)] out RtcpFir? fir, out string error)
    {
        fir = null;
        if (!RtcpHeader.TryParse(packet, out var header, out error) || !RtcpHeader.TryGetBody(packet, header, out var body, out error))
        {
            return false;
        }

        if (header.PacketType != RtcpPacketType.PayloadFeedback || header.Count != RtcpPacketType.FullIntraRequestFormat)
        {
            error = "not a FIR";
            return false;
        }

        if (body.Length < 16 || ((body.Length - 8) % 8) != 0 || (body.Length - 8) / 8 > MaxEntries)
        {
            error = "FIR needs one or more 8-byte entries";
            return false;
        }

        var entries = new RtcpFirEntry[(body.Length - 8) / 8];
        for (var i = 0; i < entries.Length; i++)
        {
            var fci = body[(8 + (i * 8))..];
            entries[i] = new RtcpFirEntry(BinaryPrimitives.ReadUInt32BigEndian(fci), fci[4]);
        }

        fir = new RtcpFir { SenderSsrc = BinaryPrimitives.ReadUInt32BigEndian(body), Entries = entries };
        return true;
    }

    public int Write(Span<byte> destination)
    {
        if (Entries.Count is 0 or > MaxEntries)
        {
            throw new InvalidOperationException("A FIR carries 1 to 64 entries.");
        }

        var pos = new RtcpHeader(false, RtcpPacketType.FullIntraRequestFormat, RtcpPacketType.PayloadFeedback, Length).Write(destination);
        BinaryPrimitives.WriteUInt32BigEndian(destination[pos..], SenderSsrc);
        BinaryPrimitives.WriteUInt32BigEndian(destination[(pos + 4)..], 0);
        pos += 8;
        foreach (var entry in Entries)
        {
            BinaryPrimitives.WriteUInt32BigEndian(destination[pos..], entry.Ssrc);
            destination[pos + 4] = entry.SequenceNumber;
            destination.Slice(pos + 5, 3).Clear();
            pos += 8;
        }

        return pos;
    }
}

/// <summary>One FIR request: the media source asked to refresh, and the request's sequence number.</summary>
public readonly record struct RtcpFirEntry(uint Ssrc, byte SequenceNumber);
