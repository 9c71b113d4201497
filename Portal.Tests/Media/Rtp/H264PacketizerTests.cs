using Portal.Media.Rtp;
using Xunit;

namespace Portal.Tests.Media.Rtp;

public sealed class H264PacketizerTests
{
    [Fact]
    public void Packetize_SmallUnits_SingleNalPacketsWithMarkerOnLast()
    {
        var packets = new List<byte[]>();
        var packetizer = new H264Packetizer(initialSequenceNumber: 100);

        packetizer.Packetize([H264DepacketizerTests.Sps, H264DepacketizerTests.Pps, H264DepacketizerTests.Idr], 1234, p => packets.Add(p.ToArray()));

        Assert.Equal(3, packets.Count);
        Assert.Equal("80600064000004D200000000" + Convert.ToHexString(H264DepacketizerTests.Sps), Convert.ToHexString(packets[0]));
        Assert.Equal("80E0", Convert.ToHexString(packets[2], 0, 2));
        Assert.Equal(103, packetizer.NextSequenceNumber);
    }

    [Fact]
    public void Packetize_LargeUnit_FuAFragmentsWithinMtu()
    {
        var packets = new List<byte[]>();
        var packetizer = new H264Packetizer(mtu: 1200, initialSequenceNumber: 0);
        byte[] nal = [0x65, .. new byte[5000]];

        packetizer.Packetize([nal], 0, p => packets.Add(p.ToArray()));

        Assert.All(packets, p => Assert.True(p.Length <= 1200));
        Assert.Equal(5, packets.Count); // 4999 payload bytes / 1186 per fragment
        Assert.Equal("7C85", Convert.ToHexString(packets[0], 12, 2)); // NRI 3, type 28; S bit, type 5
        Assert.Equal("7C05", Convert.ToHexString(packets[1], 12, 2));
        Assert.Equal("7C45", Convert.ToHexString(packets[^1], 12, 2)); // E bit
        Assert.True((packets[^1][1] & 0x80) != 0);
        Assert.All(packets[..^1], p => Assert.True((p[1] & 0x80) == 0));
    }

    [Fact]
    public void Packetize_ThenDepacketize_RoundTrips()
    {
        var units = new List<H264AccessUnit>();
        var depacketizer = new H264Depacketizer(units.Add);
        var packetizer = new H264Packetizer(mtu: 300, initialSequenceNumber: 65500);
        byte[] idr = [0x65, .. Enumerable.Range(0, 2000).Select(i => (byte)(i % 251))];
        ReadOnlyMemory<byte>[] nals = [H264DepacketizerTests.Sps, H264DepacketizerTests.Pps, idr];

        for (var frame = 0u; frame < 50; frame++)
        {
            packetizer.Packetize(frame == 0 ? nals : [H264DepacketizerTests.Slice], frame * 3600, p => Assert.True(depacketizer.Push(p)));
        }

        Assert.Equal(50, units.Count);
        Assert.Equal(nals.Select(n => Convert.ToHexString(n.Span)), units[0].NalUnits.Select(n => Convert.ToHexString(n.Span)));
        Assert.Equal(49u * 3600, units[^1].Timestamp);
    }
}
