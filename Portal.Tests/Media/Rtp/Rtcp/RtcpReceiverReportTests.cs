using Portal.Media.Rtp.Rtcp;
using Xunit;

namespace Portal.Tests.Media.Rtp.Rtcp;

public class RtcpReceiverReportTests
{
    private const string Expected = "81C90007" + "11223344" + "55667788" + "00000003" + "00010064" + "00000020" + "00000000" + "00000000";

    [Fact]
    public void Write_OneBlock_ProducesExactBytes()
    {
        var report = new RtcpReceiverReport { Ssrc = 0x11223344, ReportBlocks = [new RtcpReportBlock(0x55667788, 0, 3, 0x10064, 32, 0, 0)] };
        var buffer = new byte[report.Length];

        Assert.Equal(32, report.Write(buffer));
        Assert.Equal(Expected, Convert.ToHexString(buffer));
    }

    [Fact]
    public void TryParse_EmptyReceiverReport_HasNoBlocks()
    {
        Assert.True(RtcpReceiverReport.TryParse(Convert.FromHexString("80C9000111223344"), out var report, out var error), error);

        Assert.Equal(0x11223344u, report.Ssrc);
        Assert.Empty(report.ReportBlocks);
    }

    [Fact]
    public void TryParse_SenderReportBytes_RefusesWrongType()
    {
        Assert.False(RtcpReceiverReport.TryParse(Convert.FromHexString("80C8000111223344"), out _, out var error));
        Assert.Equal("not a receiver report", error);
    }

    [Fact]
    public void TryParse_WrittenReport_RoundTrips()
    {
        Assert.True(RtcpReceiverReport.TryParse(Convert.FromHexString(Expected), out var report, out var error), error);

        Assert.Equal(new RtcpReportBlock(0x55667788, 0, 3, 0x10064, 32, 0, 0), Assert.Single(report.ReportBlocks));
    }
}
