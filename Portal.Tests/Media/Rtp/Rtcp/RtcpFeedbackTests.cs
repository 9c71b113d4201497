using Portal.Media.Rtp.Rtcp;
using Xunit;

namespace Portal.Tests.Media.Rtp.Rtcp;

public class RtcpFeedbackTests
{
    [Fact]
    public void RtcpPliWrite_ProducesExactBytes()
    {
        var buffer = new byte[RtcpPli.Length];

        new RtcpPli(0x11223344, 0x55667788).Write(buffer);

        Assert.Equal("81CE0002" + "11223344" + "55667788", Convert.ToHexString(buffer));
    }

    [Fact]
    public void RtcpPliTryParse_ChromePli_ReadsMediaSource()
    {
        Assert.True(RtcpPli.TryParse(Convert.FromHexString("81CE0002" + "00000001" + "2A2B2C2D"), out var pli, out var error), error);

        Assert.Equal(0x2A2B2C2Du, pli.MediaSsrc);
    }

    [Fact]
    public void RtcpPliTryParse_FirBytes_RefusesWrongFormat()
    {
        Assert.False(RtcpPli.TryParse(Convert.FromHexString("84CE0002" + "00000001" + "2A2B2C2D"), out _, out var error));
        Assert.Equal("not a PLI", error);
    }

    [Fact]
    public void RtcpFirWrite_ProducesExactBytes()
    {
        var fir = new RtcpFir { SenderSsrc = 0x11223344, Entries = [new RtcpFirEntry(0x55667788, 7)] };
        var buffer = new byte[fir.Length];

        fir.Write(buffer);

        Assert.Equal("84CE0004" + "11223344" + "00000000" + "55667788" + "07000000", Convert.ToHexString(buffer));
    }

    [Fact]
    public void RtcpFirTryParse_WrittenFir_RoundTrips()
    {
        var fir = new RtcpFir { SenderSsrc = 1, Entries = [new RtcpFirEntry(2, 3), new RtcpFirEntry(4, 5)] };
        var buffer = new byte[fir.Length];
        fir.Write(buffer);

        Assert.True(RtcpFir.TryParse(buffer, out var parsed, out var error), error);

        Assert.Equal(fir.Entries, parsed.Entries);
    }

    [Fact]
    public void RtcpFirTryParse_NoEntries_Refuses()
    {
        Assert.False(RtcpFir.TryParse(Convert.FromHexString("84CE0002" + "11223344" + "00000000"), out _, out var error));
        Assert.Contains("entries", error, StringComparison.Ordinal);
    }

    [Fact]
    public void RtcpNackCreate_RunOfLosses_PacksIntoPidAndBlp()
    {
        var nack = RtcpNack.Create(0x11223344, 0x55667788, [0x0100, 0x0101, 0x0103, 0x0200]);
        var buffer = new byte[nack.Length];

        nack.Write(buffer);

        Assert.Equal("81CD0004" + "11223344" + "55667788" + "01000005" + "02000000", Convert.ToHexString(buffer));
    }

    [Fact]
    public void RtcpNackTryParse_WrittenNack_ListsEveryLostSequence()
    {
        ushort[] lost = [65534, 65535, 0, 5, 40];
        var nack = RtcpNack.Create(1, 2, lost);
        var buffer = new byte[nack.Length];
        nack.Write(buffer);

        Assert.True(RtcpNack.TryParse(buffer, out var parsed, out var error), error);

        Assert.Equal(lost.Order(), parsed.GetLostSequenceNumbers().Order());
        Assert.Equal(2u, parsed.MediaSsrc);
    }

    [Fact]
    public void RtcpNackTryParse_NoItems_Refuses()
    {
        Assert.False(RtcpNack.TryParse(Convert.FromHexString("81CD0002" + "11223344" + "55667788"), out _, out var error));
        Assert.Contains("items", error, StringComparison.Ordinal);
    }
}
