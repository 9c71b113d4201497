using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;

namespace Portal.Media.Rtp.Rtcp;

/// <summary>RTCP receiver report, RFC 3550 §6.4.2.</summary>
/// <remarks>
/// <code>
///         0                   1                   2                   3
///         0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
///        +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// header |V=2|P|    RC   |   PT=RR=201   |             length            |
///        +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///        |                     SSRC of packet sender                     |
///        +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
///        |                 report blocks (24 bytes each)                 |
/// </code>
/// </remarks>
public sealed class RtcpReceiverReport
{
    public uint Ssrc { get; init; }

    public IReadOnlyList<RtcpReportBlock> ReportBlocks { get; init; } = [];

    public int Length => 8 + (ReportBlocks.Count * RtcpReportBlock.Length);

    public static bool TryParse(ReadOnlySpan<byte> packet, [NotNullWhen(true)] out RtcpReceiverReport? report, out string error)
    {
        report = null;
        if (!RtcpHeader.TryParse(packet, out var header, out error) || !RtcpHeader.TryGetBody(packet, header, out var body, out error))
        {
            return false;
        }

        if (header.PacketType != RtcpPacketType.ReceiverReport)
        {
            error = "not a receiver report";
            return false;
        }

        if (body.Length < 4 + (header.Count * RtcpReportBlock.Length))
        {
            error = "receiver report shorter than its report count";
            return false;
        }

        var blocks = new RtcpReportBlock[header.Count];
        for (var i = 0; i < blocks.Length; i++)
        {
            blocks[i] = RtcpReportBlock.Read(body[(4 + (i * RtcpReportBlock.Length))..]);
        }

        report = new RtcpReceiverReport { Ssrc = BinaryPrimitives.ReadUInt32BigEndian(body), ReportBlocks = blocks };
        return true;
    }

    public int Write(Span<byte> destination)
    {
        if (ReportBlocks.Count > 31)
        {
            throw new InvalidOperationException("At most 31 report blocks fit in one receiver report.");
        }

        var pos = new RtcpHeader(false, (byte)ReportBlocks.Count, RtcpPacketType.ReceiverReport, Length).Write(destination);
        BinaryPrimitives.WriteUInt32BigEndian(destination[pos..], Ssrc);
        pos += 4;
        foreach (var block in ReportBlocks)
        {
            pos += block.Write(destination[pos..]);
        }

        return pos;
    }
}
