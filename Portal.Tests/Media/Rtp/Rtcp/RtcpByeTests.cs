using Portal.Media.Rtp.Rtcp;
using Xunit;

namespace Portal.Tests.Media.Rtp.Rtcp;

public class RtcpByeTests
{
    [Fact]
    public void Write_WithReason_PadsToWordBoundary()
    {
        var bye = new RtcpBye { Ssrcs = [0x11223344], Reason = "bye" };
        var buffer = new byte[bye.Length];

        Assert.Equal(12, bye.Write(buffer));
        Assert.Equal("81CB0002" + "11223344" + "03627965", Convert.ToHexString(buffer));
    }

    [Fact]
    public void Write_TwoSourcesNoReason_ProducesExactBytes()
    {
        var bye = new RtcpBye { Ssrcs = [1, 2] };
        var buffer = new byte[bye.Length];

        bye.Write(buffer);

        Assert.Equal("82CB0002" + "00000001" + "00000002", Convert.ToHexString(buffer));
    }

    [Fact]
    public void TryParse_WrittenBye_RoundTrips()
    {
        var bye = new RtcpBye { Ssrcs = [7, 8, 9], Reason = "camera offline" };
        var buffer = new byte[bye.Length];
        bye.Write(buffer);

        Assert.True(RtcpBye.TryParse(buffer, out var parsed, out var error), error);

        Assert.Equal([7u, 8u, 9u], parsed.Ssrcs);
        Assert.Equal("camera offline", parsed.Reason);
    }

    [Fact]
    public void TryParse_ReasonLengthPastEnd_Refuses()
    {
        Assert.False(RtcpBye.TryParse(Convert.FromHexString("81CB0002" + "11223344" + "09627965"), out _, out var error));
        Assert.Contains("reason", error, StringComparison.Ordinal);
    }

    [Fact]
    public void TryParse_SourceCountPastEnd_Refuses()
    {
        Assert.False(RtcpBye.TryParse(Convert.FromHexString("85CB0001" + "11223344"), out _, out var error));
        Assert.Contains("source count", error, StringComparison.Ordinal);
    }
}
