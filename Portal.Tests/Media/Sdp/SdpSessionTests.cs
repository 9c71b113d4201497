using System.Text;
using Portal.Media.Sdp;
using Xunit;

namespace Portal.Tests.Media.Sdp;

public sealed class SdpSessionTests
{
    private static readonly string[] SampleFiles = ["hikvision-ds2cd-describe.sdp", "dahua-ipc-hdw-describe.sdp", "chromium-offer.sdp"];

    private static string ReadTestData(string name) =>
        File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "TestData", "Sdp", name));

    [Fact]
    public void TryParse_HikvisionDescribe_ReadsVideoAndAudio()
    {
        // Hikvision DS-2CD2xxx-style DESCRIBE answer, written as a realistic sample (absolute control URLs,
        // "; " separated fmtp, private Media_header attribute); not a capture from a specific unit.
        Assert.True(SdpSession.TryParse(ReadTestData("hikvision-ds2cd-describe.sdp"), out var sdp, out var error), error);

        Assert.Equal("Media Presentation", sdp.SessionName);
        Assert.Equal(2, sdp.Media.Count);
        var video = sdp.Media[0];
        Assert.Equal("video", video.Type);
        Assert.Equal(96, video.FindPayloadType("H264"));
        Assert.Equal(SdpDirection.RecvOnly, video.Direction);
        Assert.Equal("rtsp://192.168.1.64:554/Streaming/Channels/101/trackID=1?transportmode=unicast", video.Control);
        var fmtp = video.GetFmtp(96)!.GetParameters();
        Assert.Equal("1", fmtp["packetization-mode"]);
        Assert.Equal("Z01AKI2NQDwBE/LCAAAOEAACvyAI,aO44gA==", fmtp["sprop-parameter-sets"]);
        Assert.Equal(new SdpRtpMap(8, "PCMA", 8000), sdp.Media[1].GetRtpMap(8));
    }

    [Fact]
    public void TryParse_DahuaDescribe_ReadsRelativeControlAndSessionAttributes()
    {
        // Dahua IPC-HDW-style DESCRIBE answer, written as a realistic sample (relative "trackID=0" controls,
        // session-level c= and a=control:*); not a capture from a specific unit.
        Assert.True(SdpSession.TryParse(ReadTestData("dahua-ipc-hdw-describe.sdp"), out var sdp, out var error), error);

        Assert.Equal("*", sdp.Control);
        Assert.Equal("0.0.0.0", sdp.Connection!.Host);
        Assert.Equal("trackID=0", sdp.Media[0].Control);
        Assert.Equal("64001F", sdp.Media[0].GetFmtp(96)!.GetParameters()["PROFILE-LEVEL-ID"]);
    }

    [Fact]
    public void TryParse_ChromiumOffer_ReadsBundleSsrcAndRtcpFb()
    {
        // Shape of a Chromium recvonly-video offer (ice/fingerprint values replaced).
        Assert.True(SdpSession.TryParse(ReadTestData("chromium-offer.sdp"), out var sdp, out var error), error);

        var group = Assert.Single(sdp.Groups);
        Assert.Equal("BUNDLE", group.Semantics);
        Assert.Equal(["0", "1"], group.Mids);
        Assert.Equal(new SdpSsrc(1001, "cname", "4TOk42mSjXCkVIa6"), Assert.Single(sdp.Media[0].Ssrcs));
        Assert.Equal("1", sdp.Media[1].Mid);
        Assert.Equal(3, sdp.Media[1].GetAttributes("rtcp-fb").Count());
        Assert.Equal(SdpDirection.RecvOnly, sdp.EffectiveDirection(sdp.Media[1]));
        Assert.Equal(0, sdp.Media[0].FindPayloadType("pcmu"));
    }

    [Theory]
    [InlineData("hikvision-ds2cd-describe.sdp")]
    [InlineData("dahua-ipc-hdw-describe.sdp")]
    [InlineData("chromium-offer.sdp")]
    public void ToString_ParsedSample_ReproducesTheInput(string file)
    {
        var text = ReadTestData(file);

        Assert.True(SdpSession.TryParse(text, out var sdp, out var error), error);

        Assert.Equal(text, sdp.ToString());
    }

    [Fact]
    public void ToString_BuiltSession_WritesExactLines()
    {
        var sdp = new SdpSession { Origin = new SdpOrigin("-", "1", "2", "IN", "IP4", "127.0.0.1"), SessionName = "Gate" };
        sdp.AddAttribute("group", "BUNDLE 0");
        var video = new SdpMedia { Type = "video", Port = 9, Protocol = "UDP/TLS/RTP/SAVPF", Connection = SdpConnection.Create("0.0.0.0") };
        video.Formats.Add("96");
        video.Mid = "0";
        video.Direction = SdpDirection.SendOnly;
        video.AddAttribute("rtpmap", new SdpRtpMap(96, "H264", 90000).ToString());
        video.AddAttribute("fmtp", new SdpFmtp(96, "packetization-mode=1;profile-level-id=42e01f").ToString());
        video.AddAttribute("ssrc", new SdpSsrc(12345, "cname", "portal").ToString());
        sdp.Media.Add(video);

        Assert.Equal(
            "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=Gate\r\nt=0 0\r\na=group:BUNDLE 0\r\n" +
            "m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=sendonly\r\n" +
            "a=rtpmap:96 H264/90000\r\na=fmtp:96 packetization-mode=1;profile-level-id=42e01f\r\na=ssrc:12345 cname:portal\r\n",
            sdp.ToString());
        Assert.True(SdpSession.TryParse(sdp.ToString(), out var again, out _));
        Assert.Equal(sdp.ToString(), again.ToString());
    }

    [Fact]
    public void TryParse_LfOnlyAndExtraSpaces_IsAccepted()
    {
        Assert.True(SdpSession.TryParse("v=0\no=-  1 1 IN IP4 1.2.3.4\ns=x\n\nm=video  0 RTP/AVP  96\na=rtpmap:96 H264/90000\n", out var sdp, out var error), error);

        Assert.Equal(["96"], sdp.Media[0].Formats);
        Assert.Equal("1.2.3.4", sdp.Origin.Address);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("o=- 1 1 IN IP4 1.2.3.4\r\n")]
    [InlineData("v=1\r\n")]
    [InlineData("v=0\r\nthis is not sdp\r\n")]
    [InlineData("v=0\r\nm=video\r\n")]
    [InlineData("v=0\r\nm=video 70000 RTP/AVP 96\r\n")]
    [InlineData("v=0\r\nm=video -1 RTP/AVP 96\r\n")]
    [InlineData("v=0\r\nm=video 5/0 RTP/AVP 96\r\n")]
    [InlineData("v=0\r\no=- 1\r\n")]
    [InlineData("v=0\r\nc=IN IP4\r\n")]
    [InlineData("v=0\r\na=\r\n")]
    [InlineData("v=0\r\na=:x\r\n")]
    [InlineData("v=0\r\ns=a\0b\r\n")]
    [InlineData("V=0\r\n")]
    public void TryParse_HostileInput_RefusesWithError(string? text)
    {
        Assert.False(SdpSession.TryParse(text, out _, out var error));
        Assert.False(string.IsNullOrEmpty(error));
    }

    [Fact]
    public void TryParse_TooLongOrTooManyMedia_Refuses()
    {
        var big = "v=0\r\n" + string.Concat(Enumerable.Repeat("a=x:" + new string('y', 100) + "\r\n", 700));
        var many = "v=0\r\n" + string.Concat(Enumerable.Repeat("m=video 0 RTP/AVP 96\r\n", SdpSession.MaxMedia + 1));
        var lines = "v=0\r\n" + string.Concat(Enumerable.Repeat("a=x\r\n", SdpSession.MaxLines + 1));

        Assert.False(SdpSession.TryParse(big, out _, out _));
        Assert.False(SdpSession.TryParse(many, out _, out _));
        Assert.False(SdpSession.TryParse(lines, out _, out _));
    }

    [Fact]
    public void RtpMapTryParse_BadValues_Refuses()
    {
        Assert.False(SdpRtpMap.TryParse("128 H264/90000", out _));
        Assert.False(SdpRtpMap.TryParse("96 H264", out _));
        Assert.False(SdpRtpMap.TryParse("96 H264/0", out _));
        Assert.False(SdpRtpMap.TryParse("96 /90000", out _));
        Assert.True(SdpRtpMap.TryParse("111 opus/48000/2", out var opus));
        Assert.Equal(2, opus.Channels);
    }

    [Fact]
    public void TryParse_SeededFuzz_NeverThrowsAndReparsesItsOutput()
    {
        var seeds = SampleFiles.Select(f => Encoding.UTF8.GetBytes(ReadTestData(f))).ToArray();
        var i = 0;
        foreach (var input in MediaFuzz.Inputs(8866, seeds))
        {
            i++;
            var text = Encoding.UTF8.GetString(input);
            if (SdpSession.TryParse(text, out var sdp, out _))
            {
                // Whatever we accept we must be able to write and read back identically.
                var written = sdp.ToString();
                Assert.True(SdpSession.TryParse(written, out var again, out var error), $"iteration {i}: {error}");
                Assert.Equal(written, again.ToString());
                _ = sdp.Media.SelectMany(m => m.RtpMaps).Count() + sdp.Media.SelectMany(m => m.Fmtps).Count() + sdp.Groups.Count;
            }
        }
    }
}
