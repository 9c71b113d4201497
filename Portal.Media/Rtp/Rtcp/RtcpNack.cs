using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;

namespace Portal.Media.Rtp.Rtcp;

/// <summary>Generic NACK, RFC 4585 §6.2.1: the receiver lists RTP sequence numbers it did not get.</summary>
/// <remarks>
/// <code>
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |V=2|P| FMT=1   |  PT=RTPFB=205 |          length               |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                  SSRC of packet sender                        |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                  SSRC of media source                         |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |            PID                |             BLP               |  FCI, repeated
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// </code>
/// PID is a lost packet; bit i of BLP (least significant first) marks PID+i+1 as lost too.
/// </remarks>
public sealed class RtcpNack
{
    private const int MaxItems = 256;

    public uint SenderSsrc { get; init; }

    public uint MediaSsrc { get; init; }

    /// <summary>The (PID, BLP) pairs as on the wire.</summary>
    public IReadOnlyList<(ushort Pid, ushort Blp)> Items { get; init; } = [];

    public int Length => 12 + (4 * Items.Count);

    /// <summary>Builds a NACK for the given lost sequence numbers, packing runs of 17 into one item.</summary>
    public static RtcpNack Create(uint senderSsrc, uint mediaSsrc, IEnumerable<ushort> lost)
    {
        var items = new List<(ushort Pid, ushort Blp)>();
        foreach (var seq in lost.Distinct().OrderBy(s => s))
        {
            if (items.Count > 0)
            {
                var (pid, blp) = items[^1];
                var delta = (ushort)(seq - pid);
                if (delta is >= 1 and <= 16)
                {
                    items[^1] = (pid, (ushort)(blp | (1 << (delta - 1))));
                    continue;
                }
            }

            items.Add((seq, 0));
        }

        return new RtcpNack { SenderSsrc = senderSsrc, MediaSsrc = mediaSsrc, Items = items };
    }

    /// <summary>Every sequence number the NACK reports lost.</summary>
    public IEnumerable<ushort> GetLostSequenceNumbers()
    {
        foreach (var (pid, blp) in Items)
        {
            yield return pid;
            for (var i = 0; i < 16; i++)
            {
                if ((blp & (1 << i)) != 0)
                {
                    yield return (ushort)(pid + i + 1);
                }
            }
        }
    }

    public static bool TryParse(ReadOnlySpan<byte> packet, [NotNullWhen(true)] out RtcpNack? nack, out string error)
    {
        nack = null;
        if (!RtcpHeader.TryParse(packet, out var header, out error) || !RtcpHeader.TryGetBody(packet, header, out var body, out error))
        {
            return false;
        }

        if (header.PacketType != RtcpPacketType.TransportFeedback || header.Count != RtcpPacketType.GenericNackFormat)
        {
            error = "not a generic NACK";
            return false;
        }

        if (body.Length < 12 || (body.Length % 4) != 0 || (body.Length - 8) / 4 > MaxItems)
        {
            error = "NACK needs one or more 4-byte items";
            return false;
        }

        var items = new (ushort, ushort)[(body.Length - 8) / 4];
        for (var i = 0; i < items.Length; i++)
        {
            var fci = body[(8 + (i * 4))..];
            items[i] = (BinaryPrimitives.ReadUInt16BigEndian(fci), BinaryPrimitives.ReadUInt16BigEndian(fci[2..]));
        }

        nack = new RtcpNack
        {
            SenderSsrc = BinaryPrimitives.ReadUInt32BigEndian(body),
            MediaSsrc = BinaryPrimitives.ReadUInt32BigEndian(body[4..]),
            Items = items,
        };
        return true;
    }

    public int Write(Span<byte> destination)
    {
        if (Items.Count is 0 or > MaxItems)
        {
            throw new InvalidOperationException("A NACK carries 1 to 256 items.");
        }

        var pos = new RtcpHeader(false, RtcpPacketType.GenericNackFormat, RtcpPacketType.TransportFeedback, Length).Write(destination);
        BinaryPrimitives.WriteUInt32BigEndian(destination[pos..], SenderSsrc);
        BinaryPrimitives.WriteUInt32BigEndian(destination[(pos + 4)..], MediaSsrc);
        pos += 8;
        foreach (var (pid, blp) in Items)
        {
            BinaryPrimitives.WriteUInt16BigEndian(destination[pos..], pid);
            BinaryPrimitives.WriteUInt16BigEndian(destination[(pos + 2)..], blp);
            pos += 4;
        }

        return pos;
    }
}
