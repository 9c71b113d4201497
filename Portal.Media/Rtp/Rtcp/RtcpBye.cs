using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Text;
using System.Text.Unicode;

namespace Portal.Media.Rtp.Rtcp;

/// <summary>RTCP BYE (goodbye), RFC 3550 §6.6.</summary>
/// <remarks>
/// <code>
///        0                   1                   2                   3
///        0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
///       +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///       |V=2|P|    SC   |   PT=BYE=203  |             length            |
///       +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///       |                           SSRC/CSRC                           |
///       +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///       :                              ...                              :
///       +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
/// (opt) |     length    |               reason for leaving            ...
///       +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// </code>
/// The reason is UTF-8 and the packet is zero-padded to a 32-bit boundary.
/// </remarks>
public sealed class RtcpBye
{
    public IReadOnlyList<uint> Ssrcs { get; init; } = [];

    public string? Reason { get; init; }

    public int Length
    {
        get
        {
            var length = 4 + (4 * Ssrcs.Count);
            if (Reason is not null)
            {
                length += 1 + Encoding.UTF8.GetByteCount(Reason);
            }

            return (length + 3) & ~3;
        }
    }

    public static bool TryParse(ReadOnlySpan<byte> packet, [NotNullWhen(true)] out RtcpBye? bye, out string error)
    {
        bye = null;
        if (!RtcpHeader.TryParse(packet, out var header, out error) || !RtcpHeader.TryGetBody(packet, header, out var body, out error))
        {
            return false;
        }

        if (header.PacketType != RtcpPacketType.Bye)
        {
            error = "not a BYE";
            return false;
        }

        var ssrcBytes = header.Count * 4;
        if (body.Length < ssrcBytes)
        {
            error = "BYE shorter than its source count";
            return false;
        }

        var ssrcs = new uint[header.Count];
        for (var i = 0; i < ssrcs.Length; i++)
        {
            ssrcs[i] = BinaryPrimitives.ReadUInt32BigEndian(body[(i * 4)..]);
        }

        string? reason = null;
        var rest = body[ssrcBytes..];
        if (rest.Length > 0 && rest[0] > 0)
        {
            if (rest[0] >= rest.Length || !Utf8.IsValid(rest.Slice(1, rest[0])))
            {
                error = "BYE reason is truncated or not UTF-8";
                return false;
            }

            reason = Encoding.UTF8.GetString(rest.Slice(1, rest[0]));
        }

        bye = new RtcpBye { Ssrcs = ssrcs, Reason = reason };
        return true;
    }

    public int Write(Span<byte> destination)
    {
        var reason = Reason is null ? null : Encoding.UTF8.GetBytes(Reason);
        if (Ssrcs.Count > 31 || reason?.Length > 255)
        {
            throw new InvalidOperationException("A BYE carries at most 31 sources and a 255-byte reason.");
        }

        var length = Length;
        destination[..length].Clear();
        var pos = new RtcpHeader(false, (byte)Ssrcs.Count, RtcpPacketType.Bye, length).Write(destination);
        foreach (var ssrc in Ssrcs)
        {
            BinaryPrimitives.WriteUInt32BigEndian(destination[pos..], ssrc);
            pos += 4;
        }

        if (reason is not null)
        {
            destination[pos] = (byte)reason.Length;
            reason.CopyTo(destination[(pos + 1)..]);
        }

        return length;
    }
}
