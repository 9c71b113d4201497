using Portal.Media.Rtsp;
using Xunit;

namespace Portal.Tests.Media.Rtsp;

public sealed class RtspTransportHeaderTests
{
    [Fact]
    public void TryParse_TcpInterleaved_ReadsChannels()
    {
        Assert.True(RtspTransportHeader.TryParse("RTP/AVP/TCP;unicast;interleaved=2-3;ssrc=1A2B3C4D;mode=\"PLAY\"", out var t));

        Assert.True(t.IsTcp);
        Assert.Equal((2, 3), t.Interleaved);
        Assert.Equal(0x1A2B3C4Du, t.Ssrc);
        Assert.Equal("PLAY", t.Mode);
    }

    [Fact]
    public void TryParse_UdpWithServerPorts_ReadsPorts()
    {
        // Hikvision-style SETUP answer.
        Assert.True(RtspTransportHeader.TryParse("RTP/AVP;unicast;client_port=50000-50001;server_port=8218-8219;ssrc=7A5F3D2E;mode=\"play\"", out var t));

        Assert.False(t.IsTcp);
        Assert.Equal((50000, 50001), t.ClientPort);
        Assert.Equal((8218, 8219), t.ServerPort);
    }

    [Fact]
    public void ToString_BuiltHeader_WritesExactText()
    {
        var header = new RtspTransportHeader { Protocol = "RTP/AVP/TCP", Interleaved = (0, 1) };

        Assert.Equal("RTP/AVP/TCP;unicast;interleaved=0-1", header.ToString());
        Assert.True(RtspTransportHeader.TryParse(header.ToString(), out var again));
        Assert.Equal(header, again);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("RAW/RAW/UDP;unicast")]
    [InlineData("RTP/AVP;client_port=70000-70001")]
    [InlineData("RTP/AVP/TCP;interleaved=x-1")]
    [InlineData("RTP/AVP/TCP;interleaved=0-999")]
    public void TryParse_BadValue_ReturnsFalse(string? value)
    {
        Assert.False(RtspTransportHeader.TryParse(value, out _));
    }

    [Fact]
    public void TryParse_SeededFuzz_NeverThrowsAndRoundTripsWhatItAccepts()
    {
        byte[][] seeds =
        [
            "RTP/AVP/TCP;unicast;interleaved=0-1;ssrc=1A2B3C4D;mode=\"PLAY\""u8.ToArray(),
            "RTP/AVP;unicast;client_port=50000-50001;server_port=8218-8219;source=10.0.0.2;destination=10.0.0.9"u8.ToArray(),
        ];

        foreach (var input in MediaFuzz.Inputs(2326_12, seeds))
        {
            if (RtspTransportHeader.TryParse(System.Text.Encoding.UTF8.GetString(input), out var header))
            {
                Assert.True(RtspTransportHeader.TryParse(header.ToString(), out var again));
                Assert.Equal(header.ToString(), again.ToString());
            }
        }
    }
}
