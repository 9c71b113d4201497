using System.Text;
using Portal.Media.Core;
using Portal.Media.Rtsp;
using Xunit;

namespace Portal.Tests.Media.Rtsp;

public sealed class RtspMessageTests
{
    private static TextMessage Message(string text)
    {
        Assert.Equal(TextMessageParseStatus.Complete, TextMessage.TryParse(Encoding.UTF8.GetBytes(text), out var message, out _, out var error));
        return message!;
    }

    [Fact]
    public void Response_SessionHeaderWithTimeout_SplitsIdAndTimeout()
    {
        Assert.True(RtspResponse.TryParse(Message("RTSP/1.0 200 OK\r\nCSeq: 4\r\nSession: 1A2B3C4D;timeout=30\r\n\r\n"), out var response, out _));

        Assert.Equal(4, response.CSeq);
        Assert.Equal("1A2B3C4D", response.SessionId);
        Assert.Equal(TimeSpan.FromSeconds(30), response.SessionTimeout);
    }

    [Fact]
    public void Request_ToBytes_WritesExactText()
    {
        var request = new RtspRequest("SETUP", "rtsp://127.0.0.1:554/s/trackID=0");
        request.Headers.Add("CSeq", "3");
        request.Headers.Add("Transport", "RTP/AVP/TCP;unicast;interleaved=0-1");

        Assert.Equal("SETUP rtsp://127.0.0.1:554/s/trackID=0 RTSP/1.0\r\nCSeq: 3\r\nTransport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n\r\n", request.ToString());
        Assert.True(RtspRequest.TryParse(Message(request.ToString()), out var again, out _));
        Assert.Equal("SETUP", again.Method);
        Assert.Equal(3, again.CSeq);
    }

    [Theory]
    [InlineData("HTTP/1.1 200 OK\r\n\r\n")]
    [InlineData("RTSP/1.0 2000 OK\r\n\r\n")]
    [InlineData("RTSP/1.0 abc OK\r\n\r\n")]
    [InlineData("RTSP/1.0\r\n\r\n")]
    public void Response_BadStatusLine_IsRefused(string text)
    {
        Assert.False(RtspResponse.TryParse(Message(text), out _, out _));
    }

    [Theory]
    [InlineData("play rtsp://h/s RTSP/1.0\r\n\r\n")]
    [InlineData("PLAY rtsp://h/s HTTP/1.1\r\n\r\n")]
    [InlineData("PLAY  RTSP/1.0\r\n\r\n")]
    public void Request_BadRequestLine_IsRefused(string text)
    {
        Assert.False(RtspRequest.TryParse(Message(text), out _, out _));
    }

    [Theory]
    [InlineData("rtsp://cam/s/", "trackID=1", "rtsp://cam/s/trackID=1")]
    [InlineData("rtsp://cam/s", "trackID=1", "rtsp://cam/s/trackID=1")]
    [InlineData("rtsp://cam/s/", "*", "rtsp://cam/s/")]
    [InlineData("rtsp://cam/s/", "rtsp://other/t", "rtsp://other/t")]
    public void ResolveControl_RelativeOrAbsolute_ResolvesAsCamerasExpect(string baseUrl, string control, string expected)
    {
        Assert.Equal(expected, RtspClient.ResolveControl(baseUrl, control));
    }
}
