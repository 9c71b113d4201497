using System.Text;
using Portal.Media.Core;
using Portal.Media.Rtsp;
using Xunit;

namespace Portal.Tests.Media.Core;

public sealed class TextMessageTests
{
    private static TextMessageParseStatus Parse(string text, out TextMessage? message, out int consumed) =>
        TextMessage.TryParse(Encoding.UTF8.GetBytes(text), out message, out consumed, out _);

    [Fact]
    public void TryParse_ResponseWithBody_ReadsHeadersAndBody()
    {
        const string Text = "RTSP/1.0 200 OK\r\nCSeq: 2\r\nContent-Type: application/sdp\r\nContent-Length: 5\r\n\r\nv=0\r\nNEXT";

        Assert.Equal(TextMessageParseStatus.Complete, Parse(Text, out var message, out var consumed));

        Assert.Equal("RTSP/1.0 200 OK", message!.StartLine);
        Assert.Equal("2", message.Headers["cseq"]);
        Assert.Equal("v=0\r\n", Encoding.UTF8.GetString(message.Body.Span));
        Assert.Equal(Text.Length - 4, consumed);
    }

    [Fact]
    public void TryParse_FoldedHeaderAndBareLf_AreAccepted()
    {
        Assert.Equal(TextMessageParseStatus.Complete, Parse("OPTIONS * RTSP/1.0\nCSeq: 1\nX-Long: a\n  b\n\n", out var message, out _));

        Assert.Equal("a b", message!.Headers["X-Long"]);
    }

    [Theory]
    [InlineData("RTSP/1.0 200 OK\r\nCSeq: 1\r\n")]
    [InlineData("RTSP/1.0 200 OK\r\nContent-Length: 10\r\n\r\nshort")]
    [InlineData("RTSP/1.0 2")]
    public void TryParse_PartialMessage_IsIncomplete(string text)
    {
        Assert.Equal(TextMessageParseStatus.Incomplete, Parse(text, out _, out _));
    }

    [Theory]
    [InlineData("RTSP/1.0 200 OK\r\nContent-Length: -1\r\n\r\n")]
    [InlineData("RTSP/1.0 200 OK\r\nContent-Length: 99999999999\r\n\r\n")]
    [InlineData("RTSP/1.0 200 OK\r\nno colon here\r\n\r\n")]
    [InlineData("RTSP/1.0 200 OK\r\n: empty name\r\n\r\n")]
    [InlineData("RTSP/1.0 200 OK\r\nBad Name: x\r\n\r\n")]
    [InlineData(" continuation first\r\n\r\n")]
    [InlineData("RTSP/1.0 200 OK\r\nX: a\0b\r\n\r\n")]
    public void TryParse_HostileInput_IsInvalid(string text)
    {
        Assert.Equal(TextMessageParseStatus.Invalid, Parse(text, out _, out _));
    }

    [Fact]
    public void TryParse_EndlessHeader_IsInvalidPastTheLimit()
    {
        var text = "RTSP/1.0 200 OK\r\nX: " + new string('a', TextMessage.DefaultMaxHeaderBytes + 10);

        Assert.Equal(TextMessageParseStatus.Invalid, Parse(text, out _, out _));
    }

    [Fact]
    public void Write_ThenParse_RoundTrips()
    {
        var headers = new TextHeaders { { "CSeq", "7" }, { "Session", "abc;timeout=60" } };

        var bytes = TextMessage.Write("PLAY rtsp://h/s RTSP/1.0", headers, "xyz"u8);

        Assert.Equal("PLAY rtsp://h/s RTSP/1.0\r\nCSeq: 7\r\nSession: abc;timeout=60\r\nContent-Length: 3\r\n\r\nxyz", Encoding.UTF8.GetString(bytes));
        Assert.Equal(TextMessageParseStatus.Complete, TextMessage.TryParse(bytes, out var message, out var consumed, out _));
        Assert.Equal(bytes.Length, consumed);
        Assert.Equal("abc;timeout=60", message!.Headers["Session"]);
    }

    [Fact]
    public async Task ReadMessageAsync_MessagesAndBinaryFrames_AreReadInOrder()
    {
        var data = Encoding.UTF8.GetBytes("RTSP/1.0 200 OK\r\nCSeq: 1\r\n\r\n").Concat(new byte[] { (byte)'$', 0, 0, 2, 0xAA, 0xBB })
            .Concat(Encoding.UTF8.GetBytes("RTSP/1.0 200 OK\r\nCSeq: 2\r\n\r\n")).ToArray();
        var reader = new TextMessageReader(new MemoryStream(data));
        var ct = TestContext.Current.CancellationToken;

        Assert.Equal("1", (await reader.ReadMessageAsync(ct)).Headers["CSeq"]);
        Assert.Equal('$', await reader.PeekByteAsync(ct));
        var header = await reader.ReadBytesAsync(4, ct);
        Assert.Equal(2, header.Span[3]);
        Assert.Equal("AABB", Convert.ToHexString((await reader.ReadBytesAsync(2, ct)).Span));
        Assert.Equal("2", (await reader.ReadMessageAsync(ct)).Headers["CSeq"]);
        Assert.Equal(-1, await reader.PeekByteAsync(ct));
        await Assert.ThrowsAsync<EndOfStreamException>(async () => await reader.ReadMessageAsync(ct));
    }

    [Fact]
    public void TryParse_SeededFuzz_NeverThrows()
    {
        byte[][] seeds =
        [
            "RTSP/1.0 200 OK\r\nCSeq: 3\r\nSession: 12345678;timeout=60\r\nTransport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n\r\n"u8.ToArray(),
            "DESCRIBE rtsp://127.0.0.1/s RTSP/1.0\r\nCSeq: 2\r\nAccept: application/sdp\r\nContent-Length: 4\r\n\r\nv=0\n"u8.ToArray(),
            "RTSP/1.0 401 Unauthorized\r\nWWW-Authenticate: Digest realm=\"x\", nonce=\"y\"\r\n\r\n"u8.ToArray(),
        ];

        foreach (var input in MediaFuzz.Inputs(2326, seeds))
        {
            if (TextMessage.TryParse(input, out var message, out var consumed, out _) == TextMessageParseStatus.Complete)
            {
                Assert.InRange(consumed, 1, input.Length);
                _ = RtspResponse.TryParse(message!, out _, out _) || RtspRequest.TryParse(message!, out _, out _);
            }
        }
    }
}
