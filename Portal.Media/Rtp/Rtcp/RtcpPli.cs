using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;

namespace Portal.Media.Rtp.Rtcp;

/// <summary>Picture Loss Indication, RFC 4585 §6.3.1: the receiver lost picture data and asks for a keyframe.</summary>
/// <remarks>
/// <code>
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |V=2|P| FMT=1   |   PT=PSFB=206 |          length=2             |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                  SSRC of packet sender                        |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                  SSRC of media source                         |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// </code>
/// PLI has no feedback control information.
/// </remarks>
public sealed record RtcpPli(uint SenderSsrc, uint MediaSsrc)
{
    public const int Length = 12;

    public static bool TryParse(ReadOnlySpan<byte> packet, [NotNullWhen(true)] out RtcpPli? pli, out string error)
    {
        pli = null;
        if (!RtcpHeader.TryParse(packet, out var header, out error) || !RtcpHeader.TryGetBody(packet, header, out var body, out error))
        {
            return false;
        }

        if (header.PacketType != RtcpPacketType.PayloadFeedback || header.Count != RtcpPacketType.PictureLossFormat)
        {
            error = "not a PLI";
            return false;
        }

        if (body.Length < 8)
        {
            error = "PLI shorter than 12 bytes";
            return false;
        }

        pli = new RtcpPli(BinaryPrimitives.ReadUInt32BigEndian(body), BinaryPrimitives.ReadUInt32BigEndian(body[4..]));
        return true;
    }

    public int Write(Span<byte> destination)
    {
        var pos = new RtcpHeader(false, RtcpPacketType.PictureLossFormat, RtcpPacketType.PayloadFeedback, Length).Write(destination);
        BinaryPrimitives.WriteUInt32BigEndian(destination[pos..], SenderSsrc);
        BinaryPrimitives.WriteUInt32BigEndian(destination[(pos + 4)..], MediaSsrc);
        return Length;
    }
}
