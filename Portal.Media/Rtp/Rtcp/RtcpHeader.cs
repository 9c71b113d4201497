using System.Buffers.Binary;

namespace Portal.Media.Rtp.Rtcp;

/// <summary>The 4-byte header every RTCP packet starts with (RFC 3550 §6.4.1).</summary>
/// <remarks>
/// <code>
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |V=2|P| RC/FMT  |      PT       |    length (32-bit words - 1)  |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// </code>
/// The five-bit count field is the report/source count, or the feedback message type (FMT, RFC 4585 §6.1).
/// </remarks>
public readonly record struct RtcpHeader(bool Padding, byte Count, byte PacketType, int PacketLength)
{
    public const int Length = 4;

    /// <summary>Parses the header at the start of <paramref name="data"/> and checks the packet fits.</summary>
    public static bool TryParse(ReadOnlySpan<byte> data, out RtcpHeader header, out string error)
    {
        header = default;
        if (data.Length < Length)
        {
            error = "shorter than an RTCP header";
            return false;
        }

        if ((data[0] >> 6) != 2)
        {
            error = "RTCP version is not 2";
            return false;
        }

        var packetLength = (BinaryPrimitives.ReadUInt16BigEndian(data[2..]) + 1) * 4;
        if (packetLength > data.Length)
        {
            error = "RTCP length runs past the data";
            return false;
        }

        header = new RtcpHeader((data[0] & 0x20) != 0, (byte)(data[0] & 0x1F), data[1], packetLength);
        error = string.Empty;
        return true;
    }

    /// <summary>The packet body after the header, without padding (RFC 3550 §6.4.1: last octet counts the padding).</summary>
    public static bool TryGetBody(ReadOnlySpan<byte> packet, RtcpHeader header, out ReadOnlySpan<byte> body, out string error)
    {
        body = packet[Length..header.PacketLength];
        if (header.Padding)
        {
            var pad = body.IsEmpty ? 0 : body[^1];
            if (pad == 0 || pad > body.Length)
            {
                error = "RTCP padding count is invalid";
                return false;
            }

            body = body[..^pad];
        }

        error = string.Empty;
        return true;
    }

    public int Write(Span<byte> destination)
    {
        if ((PacketLength & 3) != 0 || PacketLength < Length || Count > 31)
        {
            throw new InvalidOperationException("RTCP packets are whole 32-bit words and counts fit in five bits.");
        }

        destination[0] = (byte)(0x80 | (Padding ? 0x20 : 0) | Count);
        destination[1] = PacketType;
        BinaryPrimitives.WriteUInt16BigEndian(destination[2..], (ushort)((PacketLength / 4) - 1));
        return Length;
    }
}
