using Portal.Media.Rtp.Rtcp;
using Xunit;

namespace Portal.Tests.Media.Rtp.Rtcp;

public class RtcpCompoundReaderTests
{
    // RR + PLI + NACK, as a browser sends them in one compound packet.
    private static readonly byte[] Compound = Convert.FromHexString(
        "80C9000111223344" + "81CE00021122334455667788" + "81CD0003112233445566778801000005");

    [Fact]
    public void TryReadNext_Compound_YieldsEachPacket()
    {
        var reader = new RtcpCompoundReader(Compound);
        var types = new List<(byte, byte)>();
        while (reader.TryReadNext(out var header, out var packet, out _))
        {
            types.Add((header.PacketType, header.Count));
            Assert.Equal(header.PacketLength, packet.Length);
        }

        Assert.Null(reader.Error);
        Assert.Equal([(RtcpPacketType.ReceiverReport, (byte)0), (RtcpPacketType.PayloadFeedback, (byte)1), (RtcpPacketType.TransportFeedback, (byte)1)], types);
    }

    [Fact]
    public void Validate_LengthPastEnd_Refuses()
    {
        var broken = Compound[..^4];

        Assert.False(RtcpCompoundReader.Validate(broken, out var error));
        Assert.Contains("length", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_WrongVersion_Refuses()
    {
        var broken = (byte[])Compound.Clone();
        broken[8] = 0x41;

        Assert.False(RtcpCompoundReader.Validate(broken, out var error));
        Assert.Contains("version", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_ManyTinyPackets_StopsAtBound()
    {
        var many = new byte[4 * (RtcpCompoundReader.MaxPackets + 1)];
        for (var i = 0; i < many.Length; i += 4)
        {
            many[i] = 0x80;
            many[i + 1] = RtcpPacketType.App;
        }

        Assert.False(RtcpCompoundReader.Validate(many, out var error));
        Assert.Contains("more than", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Parsers_FuzzedInput_NeverThrow()
    {
        var sr = new byte[52];
        new RtcpSenderReport { Ssrc = 1, ReportBlocks = [new RtcpReportBlock(2, 0, 0, 0, 0, 0, 0)] }.Write(sr);
        var bye = new byte[16];
        new RtcpBye { Ssrcs = [1], Reason = "gone" }.Write(bye);
        var fir = new byte[20];
        new RtcpFir { SenderSsrc = 1, Entries = [new RtcpFirEntry(2, 1)] }.Write(fir);
        var iteration = 0;
        foreach (var input in MediaFuzz.Inputs(3550, [Compound, sr, bye, fir]))
        {
            iteration++;
            var reader = new RtcpCompoundReader(input);
            while (reader.TryReadNext(out _, out var packet, out _))
            {
                Check(RtcpSenderReport.TryParse(packet, out _, out var e1), e1, iteration);
                Check(RtcpReceiverReport.TryParse(packet, out _, out var e2), e2, iteration);
                Check(RtcpBye.TryParse(packet, out _, out var e3), e3, iteration);
                Check(RtcpPli.TryParse(packet, out _, out var e4), e4, iteration);
                Check(RtcpFir.TryParse(packet, out _, out var e5), e5, iteration);
                Check(RtcpNack.TryParse(packet, out var nack, out var e6), e6, iteration);
                _ = nack?.GetLostSequenceNumbers().Count();
            }

            Check(RtcpSenderReport.TryParse(input, out _, out var raw), raw, iteration);
        }
    }

    private static void Check(bool ok, string error, int iteration) =>
        Assert.True(ok || error.Length > 0, "iteration " + iteration);
}
