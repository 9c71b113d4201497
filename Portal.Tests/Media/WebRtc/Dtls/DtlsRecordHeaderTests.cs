using Portal.Media.WebRtc.Dtls;
using Xunit;

namespace Portal.Tests.Media.WebRtc.Dtls;

public class DtlsRecordHeaderTests
{
    [Fact]
    public void Write_HandshakeRecord_ProducesExactBytes()
    {
        var buffer = new byte[DtlsRecordHeader.Length];

        new DtlsRecordHeader(DtlsRecordHeader.Handshake, 0xFEFD, 1, 0x0000_0102_0304, 0x00C8).Write(buffer);

        Assert.Equal("16FEFD0001000001020304" + "00C8", Convert.ToHexString(buffer));
    }

    [Fact]
    public void TryValidateDatagram_TwoRecords_CountsBoth()
    {
        var datagram = Convert.FromHexString("14FEFD00000000000000000001" + "01" + "15FEFD00010000000000000002" + "0100");

        Assert.True(DtlsRecordHeader.TryValidateDatagram(datagram, out var records, out var error), error);
        Assert.Equal(2, records);
    }

    [Theory]
    [InlineData("16FEFD000000000000000000FF00", "runs past")]
    [InlineData("16030300000000000000000000", "DTLS")]
    [InlineData("40FEFD00000000000000000000", "content type")]
    [InlineData("16FEFD", "shorter")]
    public void TryParse_Malformed_RefusesWithReason(string hex, string reason)
    {
        Assert.False(DtlsRecordHeader.TryValidateDatagram(Convert.FromHexString(hex), out _, out var error));
        Assert.Contains(reason, error, StringComparison.Ordinal);
    }

    [Fact]
    public void TryValidateDatagram_FuzzedInput_NeverThrows()
    {
        var seed = Convert.FromHexString("16FEFD00000000000000000004" + "01000000" + "14FEFD00000000000000010001" + "01");
        var iteration = 0;
        foreach (var input in MediaFuzz.Inputs(6347, [seed]))
        {
            iteration++;
            var ok = DtlsRecordHeader.TryValidateDatagram(input, out _, out var error);
            Assert.True(ok || error.Length > 0, "iteration " + iteration);
        }
    }
}
