using Portal.Media.Rtp.Rtcp;
using Xunit;

namespace Portal.Tests.Media.Rtp.Rtcp;

public class RtcpSourceDescriptionTests
{
    [Fact]
    public void Write_OneCname_ProducesExactBytes()
    {
        var sdes = new RtcpSourceDescription { Chunks = [(0x11223344, "portal")] };
        var buffer = new byte[sdes.Length];

        Assert.Equal(20, sdes.Write(buffer));

        // SSRC, CNAME=1, length 6, "portal", END, padding to 32 bits.
        Assert.Equal("81CA0004" + "11223344" + "0106706F" + "7274616C" + "00000000", Convert.ToHexString(buffer));
    }

    [Fact]
    public void Write_CnameFillingTheWord_AddsAWholeEndWord()
    {
        var sdes = new RtcpSourceDescription { Chunks = [(1, "ab")] };
        var buffer = new byte[sdes.Length];

        sdes.Write(buffer);

        Assert.Equal("81CA0003" + "00000001" + "01026162" + "00000000", Convert.ToHexString(buffer));
    }

    [Fact]
    public void TryParse_TwoChunksWithOtherItems_ReadsCnames()
    {
        // Chunk 1: NAME item (2) then CNAME; chunk 2: CNAME only.
        var packet = Convert.FromHexString("82CA0006" + "00000001" + "0201780103616263" + "00000000" + "00000002" + "01017A00");

        Assert.True(RtcpSourceDescription.TryParse(packet, out var sdes, out var error), error);

        Assert.Equal([(1u, "abc"), (2u, "z")], sdes.Chunks);
    }

    [Fact]
    public void TryParse_ItemPastEnd_Refuses()
    {
        Assert.False(RtcpSourceDescription.TryParse(Convert.FromHexString("81CA0002" + "00000001" + "01106162"), out _, out var error));
        Assert.Contains("past", error, StringComparison.Ordinal);
    }

    [Fact]
    public void TryParse_FuzzedInput_NeverThrows()
    {
        var seed = Convert.FromHexString("82CA0006" + "00000001" + "0201780103616263" + "00000000" + "00000002" + "01017A00");
        var iteration = 0;
        foreach (var input in MediaFuzz.Inputs(3550_6, [seed]))
        {
            iteration++;
            var ok = RtcpSourceDescription.TryParse(input, out _, out var error);
            Assert.True(ok || error.Length > 0, "iteration " + iteration);
        }
    }
}
