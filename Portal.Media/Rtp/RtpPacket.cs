using System.Buffers.Binary;

namespace Portal.Media.Rtp;

/// <summary>A read-only view of one RTP packet over the caller's buffer: parsing allocates nothing.</summary>
/// <remarks>
/// RFC 3550 §5.1 fixed header, §5.3.1 header extension, padding as in §5.1 (P bit, last octet = count):
/// <code>
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |V=2|P|X|  CC   |M|     PT      |       sequence number         |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                           timestamp                           |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |           synchronization source (SSRC) identifier            |
/// +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
/// |            contributing source (CSRC) identifiers (CC of them)|
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |  defined by profile (X=1)     |   length in 32-bit words      |
/// |                        header extension                      ...
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                  payload ...  | padding ... | padding count   |
/// </code>
/// </remarks>
public readonly ref struct RtpPacket
{
    public const int FixedHeaderLength = 12;

    private readonly ReadOnlySpan<byte> _data;

    private RtpPacket(ReadOnlySpan<byte> data, int csrcCount, int extensionLength, int headerLength, int paddingLength)
    {
        _data = data;
        CsrcCount = csrcCount;
        ExtensionLength = extensionLength;
        HeaderLength = headerLength;
        PaddingLength = paddingLength;
    }

    public int Version => _data[0] >> 6;

    public bool HasPadding => (_data[0] & 0x20) != 0;

    public bool HasExtension => (_data[0] & 0x10) != 0;

    public int CsrcCount { get; }

    public bool Marker => (_data[1] & 0x80) != 0;

    public byte PayloadType => (byte)(_data[1] & 0x7F);

    public ushort SequenceNumber => BinaryPrimitives.ReadUInt16BigEndian(_data[2..]);

    public uint Timestamp => BinaryPrimitives.ReadUInt32BigEndian(_data[4..]);

    public uint Ssrc => BinaryPrimitives.ReadUInt32BigEndian(_data[8..]);

    /// <summary>Fixed header, CSRCs and extension: the offset of the payload.</summary>
    public int HeaderLength { get; }

    public int PaddingLength { get; }

    /// <summary>The "defined by profile" field; 0xBEDE for RFC 8285 one-byte extensions.</summary>
    public ushort ExtensionProfile => HasExtension
        ? BinaryPrimitives.ReadUInt16BigEndian(_data[(FixedHeaderLength + (4 * CsrcCount))..])
        : (ushort)0;

    /// <summary>Extension data after its 4-byte header, a multiple of 4 bytes long.</summary>
    public ReadOnlySpan<byte> ExtensionData => HasExtension
        ? _data.Slice(FixedHeaderLength + (4 * CsrcCount) + 4, ExtensionLength)
        : [];

    public ReadOnlySpan<byte> Payload => _data[HeaderLength..(_data.Length - PaddingLength)];

    /// <summary>The whole packet as parsed.</summary>
    public ReadOnlySpan<byte> Data => _data;

    private int ExtensionLength { get; }

    public uint GetCsrc(int index) =>
        (uint)index < (uint)CsrcCount
            ? BinaryPrimitives.ReadUInt32BigEndian(_data[(FixedHeaderLength + (4 * index))..])
            : throw new ArgumentOutOfRangeException(nameof(index));

    /// <summary>Validates version 2 and every length field against the buffer; never throws.</summary>
    public static bool TryParse(ReadOnlySpan<byte> data, out RtpPacket packet)
    {
        packet = default;
        if (data.Length < FixedHeaderLength || data[0] >> 6 != 2)
        {
            return false;
        }

        var csrcCount = data[0] & 0x0F;
        var headerLength = FixedHeaderLength + (4 * csrcCount);
        var extensionLength = 0;
        if ((data[0] & 0x10) != 0)
        {
            if (data.Length < headerLength + 4)
            {
                return false;
            }

            extensionLength = 4 * BinaryPrimitives.ReadUInt16BigEndian(data[(headerLength + 2)..]);
            headerLength += 4 + extensionLength;
        }

        if (data.Length < headerLength)
        {
            return false;
        }

        var paddingLength = 0;
        if ((data[0] & 0x20) != 0)
        {
            paddingLength = data[^1];
            if (paddingLength == 0 || headerLength + paddingLength > data.Length)
            {
                return false;
            }
        }

        packet = new RtpPacket(data, csrcCount, extensionLength, headerLength, paddingLength);
        return true;
    }

    /// <summary>Writes <paramref name="header"/> then <paramref name="payload"/>; returns the bytes written.</summary>
    /// <exception cref="ArgumentException">The destination is too small or the header is inconsistent.</exception>
    public static int Write(Span<byte> destination, in RtpHeader header, ReadOnlySpan<byte> payload)
    {
        var csrcs = header.Csrcs.Span;
        var extension = header.ExtensionData.Span;
        if (csrcs.Length > 15 || extension.Length % 4 != 0 || extension.Length > ushort.MaxValue * 4 || header.PayloadType > 127)
        {
            throw new ArgumentException("RTP header has too many CSRCs, a bad extension length or payload type.", nameof(header));
        }

        var total = header.Length + payload.Length + header.PaddingLength;
        if (destination.Length < total)
        {
            throw new ArgumentException("Destination too small for the RTP packet.", nameof(destination));
        }

        destination[0] = (byte)(0x80 | (header.PaddingLength > 0 ? 0x20 : 0) | (header.HasExtension ? 0x10 : 0) | csrcs.Length);
        destination[1] = (byte)((header.Marker ? 0x80 : 0) | header.PayloadType);
        BinaryPrimitives.WriteUInt16BigEndian(destination[2..], header.SequenceNumber);
        BinaryPrimitives.WriteUInt32BigEndian(destination[4..], header.Timestamp);
        BinaryPrimitives.WriteUInt32BigEndian(destination[8..], header.Ssrc);
        var offset = FixedHeaderLength;
        foreach (var csrc in csrcs)
        {
            BinaryPrimitives.WriteUInt32BigEndian(destination[offset..], csrc);
            offset += 4;
        }

        if (header.HasExtension)
        {
            BinaryPrimitives.WriteUInt16BigEndian(destination[offset..], header.ExtensionProfile);
            BinaryPrimitives.WriteUInt16BigEndian(destination[(offset + 2)..], (ushort)(extension.Length / 4));
            extension.CopyTo(destination[(offset + 4)..]);
            offset += 4 + extension.Length;
        }

        payload.CopyTo(destination[offset..]);
        offset += payload.Length;
        if (header.PaddingLength > 0)
        {
            destination.Slice(offset, header.PaddingLength - 1).Clear();
            destination[offset + header.PaddingLength - 1] = header.PaddingLength;
            offset += header.PaddingLength;
        }

        return offset;
    }

    /// <summary>Rewrites sequence number and timestamp in place: what a forwarder changes per receiver.</summary>
    public static void SetSequenceAndTimestamp(Span<byte> packet, ushort sequenceNumber, uint timestamp)
    {
        BinaryPrimitives.WriteUInt16BigEndian(packet[2..], sequenceNumber);
        BinaryPrimitives.WriteUInt32BigEndian(packet[4..], timestamp);
    }

    /// <summary>Rewrites payload type (keeping the marker bit) and SSRC in place, as a WebRTC peer does per session.</summary>
    public static void SetPayloadTypeAndSsrc(Span<byte> packet, byte payloadType, uint ssrc)
    {
        packet[1] = (byte)((packet[1] & 0x80) | (payloadType & 0x7F));
        BinaryPrimitives.WriteUInt32BigEndian(packet[8..], ssrc);
    }
}

/// <summary>The header fields to write an RTP packet with; see <see cref="RtpPacket"/> for the layout.</summary>
public readonly record struct RtpHeader
{
    public bool Marker { get; init; }

    public byte PayloadType { get; init; }

    public ushort SequenceNumber { get; init; }

    public uint Timestamp { get; init; }

    public uint Ssrc { get; init; }

    public ReadOnlyMemory<uint> Csrcs { get; init; }

    public bool HasExtension { get; init; }

    public ushort ExtensionProfile { get; init; }

    /// <summary>Extension data after its 4-byte header; a multiple of 4 bytes.</summary>
    public ReadOnlyMemory<byte> ExtensionData { get; init; }

    /// <summary>Padding octets to append, the last holding the count; 0 for none.</summary>
    public byte PaddingLength { get; init; }

    public int Length => RtpPacket.FixedHeaderLength + (4 * Csrcs.Length) + (HasExtension ? 4 + ExtensionData.Length : 0);
}
