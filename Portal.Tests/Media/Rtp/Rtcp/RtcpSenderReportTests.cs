using Portal.Media.Rtp.Rtcp;
using Xunit;

namespace Portal.Tests.Media.Rtp.Rtcp;

public class RtcpSenderReportTests
{
    // RFC 3550 §6.4.1 layout, built by hand: RC=1, PT=200, length=12 words, then sender info and one block.
    private const string Expected =
        "81C8000C" + "11223344" + "E5A1B2C3D4E5F607" + "00015F90" + "0000000A" + "00000640" +
        "55667788" + "02FFFFFE" + "0001ABCD" + "00000010" + "B2C3D4E5" + "00010000";

    private static RtcpSenderReport Sample => new()
    {
        Ssrc = 0x11223344,
        NtpTimestamp = 0xE5A1B2C3D4E5F607,
        RtpTimestamp = 90_000,
        PacketCount = 10,
        OctetCount = 1600,
        ReportBlocks = [new RtcpReportBlock(0x55667788, 2, -2, 0x1ABCD, 16, 0xB2C3D4E5, 65536)],
    };

    [Fact]
    public void Write_WithReportBlock_ProducesExactBytes()
    {
        var buffer = new byte[Sample.Length];

        var length = Sample.Write(buffer);

        Assert.Equal(52, length);
        Assert.Equal(Expected, Convert.ToHexString(buffer));
    }

    [Fact]
    public void TryParse_WrittenReport_RoundTrips()
    {
        Assert.True(RtcpSenderReport.TryParse(Convert.FromHexString(Expected), out var report, out var error), error);

        Assert.Equal(Sample.Ssrc, report.Ssrc);
        Assert.Equal(Sample.NtpTimestamp, report.NtpTimestamp);
        Assert.Equal(Sample.RtpTimestamp, report.RtpTimestamp);
        Assert.Equal(Sample.PacketCount, report.PacketCount);
        Assert.Equal(Sample.OctetCount, report.OctetCount);
        Assert.Equal(Sample.ReportBlocks, report.ReportBlocks);
        Assert.Equal(-2, report.ReportBlocks[0].CumulativeLost);
    }

    [Fact]
    public void ToNtpTimestamp_UnixEpoch_Is2208988800Seconds()
    {
        var ntp = RtcpSenderReport.ToNtpTimestamp(DateTimeOffset.UnixEpoch.AddSeconds(0.5));

        Assert.Equal(2_208_988_800UL, ntp >> 32);
        Assert.Equal(0x80000000UL, ntp & 0xFFFFFFFF);
    }

    [Fact]
    public void TryParse_ReportCountLargerThanPacket_Refuses()
    {
        var packet = Convert.FromHexString(Expected[..56]);
        packet[0] = 0x81;
        packet[3] = 6; // 7 words = 28 bytes, but RC=1 needs 52

        Assert.False(RtcpSenderReport.TryParse(packet, out _, out var error));
        Assert.Contains("report count", error, StringComparison.Ordinal);
    }

    [Fact]
    public void TryParse_EveryTruncation_RefusesCleanly()
    {
        var packet = Convert.FromHexString(Expected);
        for (var length = 0; length < packet.Length; length++)
        {
            Assert.False(RtcpSenderReport.TryParse(packet.AsSpan(0, length), out _, out var error));
            Assert.False(string.IsNullOrEmpty(error));
        }
    }
}
