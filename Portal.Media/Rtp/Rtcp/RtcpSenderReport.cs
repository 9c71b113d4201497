using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;

namespace Portal.Media.Rtp.Rtcp;

/// <summary>RTCP sender report, RFC 3550 §6.4.1.</summary>
/// <remarks>
/// <code>
///         0                   1                   2                   3
///         0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
///        +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// header |V=2|P|    RC   |   PT=SR=200   |             length            |
///        +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///        |                         SSRC of sender                        |
///        +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
/// sender |              NTP timestamp, most significant word             |
/// info   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///        |             NTP timestamp, least significant word             |
///        +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///        |                         RTP timestamp                         |
///        +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///        |                     sender's packet count                     |
///        +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///        |                      sender's octet count                     |
///        +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
///        |                 report blocks (24 bytes each)                 |
/// </code>
/// Profile-specific extensions after the report blocks are ignored.
/// </remarks>
public sealed class RtcpSenderReport
{
    private const int FixedLength = 28;

    public uint Ssrc { get; init; }

    /// <summary>64-bit NTP timestamp (seconds since 1900 in the high word, fraction in the low word).</summary>
    public ulong NtpTimestamp { get; init; }

    public uint RtpTimestamp { get; init; }

    public uint PacketCount { get; init; }

    public uint OctetCount { get; init; }

    public IReadOnlyList<RtcpReportBlock> ReportBlocks { get; init; } = [];

    public int Length => FixedLength + (ReportBlocks.Count * RtcpReportBlock.Length);

    /// <summary>Converts a UTC time to the NTP format of RFC 5905 §6 (era 0, good until 2036).</summary>
    public static ulong ToNtpTimestamp(DateTimeOffset time)
    {
        var sinceEpoch = time.UtcDateTime - new DateTime(1900, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        var seconds = (ulong)sinceEpoch.Ticks / TimeSpan.TicksPerSecond;
        var fraction = ((ulong)sinceEpoch.Ticks % TimeSpan.TicksPerSecond << 32) / TimeSpan.TicksPerSecond;
        return (seconds << 32) | fraction;
    }

    public static bool TryParse(ReadOnlySpan<byte> packet, [NotNullWhen(true)] out RtcpSenderReport? report, out string error)
    {
        report = null;
        if (!RtcpHeader.TryParse(packet, out var header, out error) || !RtcpHeader.TryGetBody(packet, header, out var body, out error))
        {
            return false;
        }

        if (header.PacketType != RtcpPacketType.SenderReport)
        {
            error = "not a sender report";
            return false;
        }

        if (body.Length < FixedLength - RtcpHeader.Length + (header.Count * RtcpReportBlock.Length))
        {
            error = "sender report shorter than its report count";
            return false;
        }

        var blocks = new RtcpReportBlock[header.Count];
        for (var i = 0; i < blocks.Length; i++)
        {
            blocks[i] = RtcpReportBlock.Read(body[(24 + (i * RtcpReportBlock.Length))..]);
        }

        report = new RtcpSenderReport
        {
            Ssrc = BinaryPrimitives.ReadUInt32BigEndian(body),
            NtpTimestamp = BinaryPrimitives.ReadUInt64BigEndian(body[4..]),
            RtpTimestamp = BinaryPrimitives.ReadUInt32BigEndian(body[12..]),
            PacketCount = BinaryPrimitives.ReadUInt32BigEndian(body[16..]),
            OctetCount = BinaryPrimitives.ReadUInt32BigEndian(body[20..]),
            ReportBlocks = blocks,
        };
        return true;
    }

    public int Write(Span<byte> destination)
    {
        if (ReportBlocks.Count > 31)
        {
            throw new InvalidOperationException("At most 31 report blocks fit in one sender report.");
        }

        var pos = new RtcpHeader(false, (byte)ReportBlocks.Count, RtcpPacketType.SenderReport, Length).Write(destination);
        BinaryPrimitives.WriteUInt32BigEndian(destination[pos..], Ssrc);
        BinaryPrimitives.WriteUInt64BigEndian(destination[(pos + 4)..], NtpTimestamp);
        BinaryPrimitives.WriteUInt32BigEndian(destination[(pos + 12)..], RtpTimestamp);
        BinaryPrimitives.WriteUInt32BigEndian(destination[(pos + 16)..], PacketCount);
        BinaryPrimitives.WriteUInt32BigEndian(destination[(pos + 20)..], OctetCount);
        pos += 24;
        foreach (var block in ReportBlocks)
        {
            pos += block.Write(destination[pos..]);
        }

        return pos;
    }
}
