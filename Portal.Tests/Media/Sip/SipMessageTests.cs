using System.Text;
using Portal.Media.Sip;
using Portal.Media.Sip.Headers;
using Xunit;

namespace Portal.Tests.Media.Sip;

public sealed class SipMessageTests
{
    private static readonly string Register = RawSipPeer.Crlf("""
        REGISTER sip:portal.test SIP/2.0
        Via: SIP/2.0/UDP 10.0.0.7:5060;branch=z9hG4bK74bf9;rport
        Max-Forwards: 70
        From: "Guard" <sip:terminal-00001@portal.test>;tag=9fxced76sl
        To: <sip:terminal-00001@portal.test>
        Call-ID: 3848276298220188511@10.0.0.7
        CSeq: 1 REGISTER
        Contact: <sip:terminal-00001@10.0.0.7:5060>;expires=600
        Content-Length: 0


        """);

    [Fact]
    public void Parse_Register_ReadsTypedHeaders()
    {
        Assert.True(SipMessage.TryParse(Encoding.UTF8.GetBytes(Register), out var message, out var error), error);

        var request = Assert.IsType<SipRequest>(message);
        Assert.Equal(SipMethods.Register, request.Method);
        Assert.Equal("terminal-00001", request.To!.Uri!.User);
        Assert.Equal("9fxced76sl", request.From!.Tag);
        Assert.Equal("Guard", request.From.DisplayName);
        Assert.Equal(new SipCSeqHeader(1, SipMethods.Register), request.CSeq);
        Assert.Equal("z9hG4bK74bf9", request.TopVia!.Branch);
        Assert.True(request.TopVia.HasRport);
        Assert.Equal(70, request.MaxForwards);
        var contact = Assert.Single(request.GetAddresses(SipHeaderNames.Contact)!);
        Assert.Equal("600", contact.Parameters["expires"]);
    }

    [Fact]
    public void ToBytes_RoundTrip_IsByteIdentical()
    {
        var first = SipMessage.Parse(Encoding.UTF8.GetBytes(Register)).Message!;

        var written = first.ToBytes();
        var again = SipMessage.Parse(written).Message!;

        Assert.Equal(Convert.ToHexString(Encoding.UTF8.GetBytes(Register)), Convert.ToHexString(written));
        Assert.Equal(Convert.ToHexString(written), Convert.ToHexString(again.ToBytes()));
    }

    [Fact]
    public void ToBytes_CreatedResponse_ExactBytes()
    {
        var request = (SipRequest)SipMessage.Parse(Encoding.UTF8.GetBytes(Register)).Message!;
        var response = SipResponse.CreateFor(request, SipStatus.Trying);

        var expected = RawSipPeer.Crlf("""
            SIP/2.0 100 Trying
            Via: SIP/2.0/UDP 10.0.0.7:5060;branch=z9hG4bK74bf9;rport
            From: "Guard" <sip:terminal-00001@portal.test>;tag=9fxced76sl
            To: <sip:terminal-00001@portal.test>
            Call-ID: 3848276298220188511@10.0.0.7
            CSeq: 1 REGISTER
            Content-Length: 0


            """);
        Assert.Equal(Convert.ToHexString(Encoding.UTF8.GetBytes(expected)), Convert.ToHexString(response.ToBytes()));
    }

    [Fact]
    public void Parse_CompactNames_AreExpanded()
    {
        var text = RawSipPeer.Crlf("""
            OPTIONS sip:portal@portal.test SIP/2.0
            v: SIP/2.0/TCP 10.0.0.7;branch=z9hG4bKc1
            f: <sip:a@portal.test>;tag=1
            t: <sip:portal@portal.test>
            i: compact@10.0.0.7
            CSeq: 2 OPTIONS
            m: <sip:a@10.0.0.7>
            k: path
            l: 0


            """);

        var message = SipMessage.Parse(Encoding.UTF8.GetBytes(text)).Message!;

        Assert.Equal("compact@10.0.0.7", message.CallId);
        Assert.Equal("TCP", message.TopVia!.Transport);
        Assert.Equal(["path"], message.GetTokens(SipHeaderNames.Supported));
        Assert.NotNull(message.Headers[SipHeaderNames.Contact]);
    }

    [Fact]
    public void Parse_DatagramWithoutContentLength_BodyIsTheRest()
    {
        var text = RawSipPeer.Crlf("""
            MESSAGE sip:portal@portal.test SIP/2.0
            Via: SIP/2.0/UDP 10.0.0.7;branch=z9hG4bKm1
            From: <sip:a@portal.test>;tag=1
            To: <sip:portal@portal.test>
            Call-ID: m1
            CSeq: 1 MESSAGE

            hello
            """);

        var message = SipMessage.Parse(Encoding.UTF8.GetBytes(text), isDatagram: true).Message!;

        Assert.Equal("hello", Encoding.UTF8.GetString(message.Body.Span));
    }

    [Fact]
    public void Parse_OctetsPastContentLength_AreDiscarded()
    {
        var text = Register.Replace("Content-Length: 0\r\n\r\n", "Content-Length: 3\r\n\r\nabcJUNK JUNK", StringComparison.Ordinal);

        var result = SipMessage.Parse(Encoding.UTF8.GetBytes(text));

        Assert.True(result.IsValid);
        Assert.Equal("abc", Encoding.UTF8.GetString(result.Message!.Body.Span));
    }

    [Theory]
    [InlineData("SIP/2.0 100 \r\n", "")]
    [InlineData("SIP/2.0 200 = 2**3 * 5**2 но сто девяносто девять - простое\r\n", "= 2**3 * 5**2 но сто девяносто девять - простое")]
    public void Parse_UnusualReasonPhrases_AreKept(string statusLine, string reason)
    {
        var text = statusLine + RawSipPeer.Crlf("""
            Via: SIP/2.0/UDP 10.0.0.7;branch=z9hG4bKr1
            From: <sip:a@portal.test>;tag=1
            To: <sip:b@portal.test>;tag=2
            Call-ID: r1
            CSeq: 1 INVITE
            Content-Length: 0


            """);

        var response = Assert.IsType<SipResponse>(SipMessage.Parse(Encoding.UTF8.GetBytes(text)).Message);

        Assert.Equal(reason, response.ReasonPhrase);
    }

    [Theory]
    [InlineData("SIP/2.0 4294967301 too big\r\n\r\n")]
    [InlineData("SIP/2.0 99 low\r\n\r\n")]
    [InlineData("SIP/3.0 200 OK\r\n\r\n")]
    public void Parse_BadStatusLine_IsRefusedWithoutMessage(string text)
    {
        var result = SipMessage.Parse(Encoding.UTF8.GetBytes(text));

        Assert.Null(result.Message);
        Assert.NotNull(result.Error);
    }

    [Fact]
    public void Parse_MalformedRequestLine_KeepsHeadersToAnswer()
    {
        var text = Register.Replace("REGISTER sip:portal.test SIP/2.0", "REGISTER  sip:portal.test SIP/2.0", StringComparison.Ordinal);

        var result = SipMessage.Parse(Encoding.UTF8.GetBytes(text));

        Assert.False(result.IsValid);
        Assert.Equal("z9hG4bK74bf9", Assert.IsType<SipRequest>(result.Message).TopVia!.Branch);
        Assert.Equal(SipStatus.BadRequest, result.RejectStatus);
    }

    [Theory]
    [InlineData("OPTIONS sip:portal SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bKx\r\nnot a header\r\nCSeq: 1 OPTIONS\r\n\r\n", 3)]
    [InlineData("OPTIONS sip:portal SIP/2.0\r\n folded onto nothing\r\nVia: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bKx\r\nCSeq: 1 OPTIONS\r\n\r\n", 2)]
    [InlineData("OPTIONS sip:portal SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bKx\r\nBad Name: x\r\n  and its folding\r\nCSeq: 1 OPTIONS\r\n\r\n", 3)]
    public void LineThatIsNotAHeader_KeepsTheRequestAndItsVia_ForA400(string text, int line)
    {
        var result = SipMessage.Parse(Encoding.UTF8.GetBytes(text));

        var request = Assert.IsType<SipRequest>(result.Message);
        Assert.Equal((400, "line " + line + " is not a header field"), (result.RejectStatus, result.Error));
        Assert.Equal("z9hG4bKx", request.TopVia!.Branch);
        Assert.Equal("1 OPTIONS", request.Headers["CSeq"]);
    }

    [Fact]
    public void LineThatIsNotAHeader_InRtsp_StillRefusesTheMessage()
    {
        var status = global::Portal.Media.Core.TextMessage.TryParse("OPTIONS rtsp://cam/ RTSP/1.0\r\nCSeq: 1\r\nnot a header\r\n\r\n"u8, out var message, out _, out var error);
        Assert.Equal((global::Portal.Media.Core.TextMessageParseStatus.Invalid, "malformed header line"), (status, error));
        Assert.Null(message);
    }
}
