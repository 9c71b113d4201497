using Portal.Media.Rtp;
using Xunit;

namespace Portal.Tests.Media.Rtp;

public sealed class RtpPacketTests
{
    private static readonly uint[] TwoCsrcs = [0x11111111, 0x22222222];

    [Fact]
    public void Write_MinimalHeader_WritesExactBytes()
    {
        var buffer = new byte[64];
        var header = new RtpHeader { Marker = true, PayloadType = 96, SequenceNumber = 0x1234, Timestamp = 0xAABBCCDD, Ssrc = 0x01020304 };

        var length = RtpPacket.Write(buffer, header, [0x65, 0x88]);

        Assert.Equal("80E01234AABBCCDD010203046588", Convert.ToHexString(buffer, 0, length));
    }

    [Fact]
    public void Write_CsrcExtensionAndPadding_RoundTrips()
    {
        var buffer = new byte[128];
        var header = new RtpHeader
        {
            PayloadType = 0,
            SequenceNumber = 65535,
            Timestamp = 160,
            Ssrc = 0xDEADBEEF,
            Csrcs = TwoCsrcs,
            HasExtension = true,
            ExtensionProfile = 0xBEDE,
            ExtensionData = new byte[] { 0x10, 0xFF, 0x00, 0x00 },
            PaddingLength = 4,
        };

        var length = RtpPacket.Write(buffer, header, [1, 2, 3]);

        Assert.Equal(12 + 8 + 8 + 3 + 4, length);
        Assert.Equal("B2", Convert.ToHexString(buffer, 0, 1)); // V=2, P, X, CC=2
        Assert.True(RtpPacket.TryParse(buffer.AsSpan(0, length), out var packet));
        Assert.Equal(2, packet.Version);
        Assert.False(packet.Marker);
        Assert.Equal(65535, packet.SequenceNumber);
        Assert.Equal(160u, packet.Timestamp);
        Assert.Equal(0xDEADBEEF, packet.Ssrc);
        Assert.Equal(2, packet.CsrcCount);
        Assert.Equal(0x22222222u, packet.GetCsrc(1));
        Assert.Equal(0xBEDE, packet.ExtensionProfile);
        Assert.Equal("10FF0000", Convert.ToHexString(packet.ExtensionData));
        Assert.Equal(4, packet.PaddingLength);
        Assert.Equal("010203", Convert.ToHexString(packet.Payload));
    }

    [Theory]
    [InlineData("")]
    [InlineData("80E0")]
    [InlineData("40E01234AABBCCDD01020304")] // version 1
    [InlineData("81E01234AABBCCDD01020304")] // CC=1 but no CSRC
    [InlineData("90E01234AABBCCDD01020304BEDE")] // extension header cut
    [InlineData("90E01234AABBCCDD01020304BEDE0002AABBCCDD")] // extension longer than packet
    [InlineData("A0E01234AABBCCDD0102030400")] // padding count 0
    [InlineData("A0E01234AABBCCDD0102030405")] // padding longer than packet
    public void TryParse_MalformedPacket_ReturnsFalse(string hex)
    {
        Assert.False(RtpPacket.TryParse(Convert.FromHexString(hex), out _));
    }

    [Fact]
    public void SetPayloadTypeAndSsrc_KeepsMarker()
    {
        var buffer = Convert.FromHexString("80E01234AABBCCDD0102030465");

        RtpPacket.SetPayloadTypeAndSsrc(buffer, 102, 0xCAFEBABE);
        RtpPacket.SetSequenceAndTimestamp(buffer, 7, 9);

        Assert.True(RtpPacket.TryParse(buffer, out var packet));
        Assert.True(packet.Marker);
        Assert.Equal(102, packet.PayloadType);
        Assert.Equal(0xCAFEBABE, packet.Ssrc);
        Assert.Equal(7, packet.SequenceNumber);
        Assert.Equal(9u, packet.Timestamp);
    }

    [Fact]
    public void TryParse_SeededFuzz_NeverThrowsAndStaysInBounds()
    {
        var buffer = new byte[128];
        var seed = buffer.AsSpan(0, RtpPacket.Write(buffer, new RtpHeader { Csrcs = TwoCsrcs, HasExtension = true, ExtensionData = new byte[8], PaddingLength = 3 }, [1, 2, 3, 4])).ToArray();
        byte[][] seeds = [seed, Convert.FromHexString("80E01234AABBCCDD010203046588")];

        foreach (var input in MediaFuzz.Inputs(3550, seeds))
        {
            if (RtpPacket.TryParse(input, out var packet))
            {
                Assert.True(packet.HeaderLength + packet.PaddingLength <= input.Length);
                _ = packet.Payload.Length + packet.ExtensionData.Length;
                for (var i = 0; i < packet.CsrcCount; i++)
                {
                    _ = packet.GetCsrc(i);
                }
            }
        }
    }
}
