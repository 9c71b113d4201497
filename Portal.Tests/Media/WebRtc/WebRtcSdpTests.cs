using System.Net;
using System.Text;
using Portal.Media.Core;
using Portal.Media.Sdp;
using Portal.Media.WebRtc;
using Xunit;

namespace Portal.Tests.Media.WebRtc;

public class WebRtcSdpTests
{
    private const string Fingerprint = "sha-256 3C:4A:8E:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD";

    private static readonly WebRtcLocalDescription Local = new(
        "LocU", "local-password-of-24-chr", "sha-256 AA:BB", new IPEndPoint(IPAddress.Loopback, 8555), ["PCMU", "PCMA"]);

    [Fact]
    public void TryNegotiate_ChromeConsoleOffer_AnswersEverySection()
    {
        Assert.True(WebRtcSdp.TryNegotiate(WebRtcOffers.Console(Fingerprint), Local, out var result, out var error), error);

        Assert.Equal(WebRtcOffers.Ufrag, result.RemoteUfrag);
        Assert.Equal(WebRtcOffers.Password, result.RemotePassword);
        Assert.Equal(Fingerprint, result.RemoteFingerprint);
        Assert.Collection(
            result.Tracks,
            camera =>
            {
                Assert.Equal(("0", MediaKind.Video, 106), (camera.Mid, camera.Kind, camera.Codec.PayloadType));
                Assert.True(camera.CanSend);
                Assert.False(camera.CanReceive);
                Assert.Equal(WebRtcFeedback.Nack | WebRtcFeedback.Pli | WebRtcFeedback.Fir, camera.Feedback);
            },
            audio =>
            {
                Assert.Equal(("1", MediaKind.Audio, 0), (audio.Mid, audio.Kind, audio.Codec.PayloadType));
                Assert.True(audio.CanSend && audio.CanReceive);
                Assert.Equal(1001u, audio.RemoteSsrc);
            },
            intercom =>
            {
                Assert.Equal(("2", MediaKind.Video, 106), (intercom.Mid, intercom.Kind, intercom.Codec.PayloadType));
                Assert.Equal(2001u, intercom.RemoteSsrc);
            });
        Assert.Equal(3, result.Tracks.Select(t => t.LocalSsrc).Distinct().Count());
    }

    [Fact]
    public void TryNegotiate_ChromeConsoleOffer_AnswerHasLitePassiveBundle()
    {
        Assert.True(WebRtcSdp.TryNegotiate(WebRtcOffers.Console(Fingerprint), Local, out var result, out var error), error);
        Assert.True(SdpSession.TryParse(result.AnswerSdp, out var answer, out error), error);

        Assert.NotNull(answer.GetAttribute("ice-lite"));
        Assert.Equal("BUNDLE 0 1 2", answer.GetAttribute("group"));
        Assert.Equal(3, answer.Media.Count);
        var camera = answer.Media[0];
        Assert.Equal(["106"], camera.Formats);
        Assert.Equal(8555, camera.Port);
        Assert.Equal("UDP/TLS/RTP/SAVPF", camera.Protocol);
        Assert.Equal(SdpDirection.SendOnly, camera.Direction);
        Assert.Equal("passive", camera.GetAttribute("setup"));
        Assert.Equal("LocU", camera.GetAttribute("ice-ufrag"));
        Assert.Equal("local-password-of-24-chr", camera.GetAttribute("ice-pwd"));
        Assert.Equal("sha-256 AA:BB", camera.GetAttribute("fingerprint"));
        Assert.NotNull(camera.GetAttribute("rtcp-mux"));
        Assert.NotNull(camera.GetAttribute("rtcp-rsize"));
        Assert.Equal("106 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f", camera.GetAttribute("fmtp"));
        Assert.Equal(["106 nack", "106 nack pli", "106 ccm fir"], camera.GetAttributes("rtcp-fb"));
        Assert.Equal("1 1 udp 2130706431 127.0.0.1 8555 typ host", camera.GetAttribute("candidate"));
        Assert.Contains(camera.Ssrcs, s => s.Attribute == "cname");
        Assert.StartsWith("portal ", camera.GetAttribute("msid"), StringComparison.Ordinal);

        var audio = answer.Media[1];
        Assert.Equal(["0"], audio.Formats);
        Assert.Equal("0 PCMU/8000", audio.GetAttribute("rtpmap"));
        Assert.Equal(SdpDirection.SendRecv, audio.Direction);
        Assert.Null(audio.GetAttribute("candidate"));
    }

    [Fact]
    public void TryNegotiate_PcmaPreferred_PicksPcma()
    {
        var local = Local with { AudioCodecs = ["PCMA", "PCMU"] };

        Assert.True(WebRtcSdp.TryNegotiate(WebRtcOffers.Console(Fingerprint), local, out var result, out _));

        Assert.Equal(8, result.Tracks.Single(t => t.Kind == MediaKind.Audio).Codec.PayloadType);
    }

    [Fact]
    public void TryNegotiate_VideoWithoutH264_RejectsThatSectionWithPortZero()
    {
        var offer = WebRtcOffers.Console(Fingerprint)
            .Replace("a=rtpmap:106 H264/90000", "a=rtpmap:106 VP9/90000", StringComparison.Ordinal)
            .Replace("a=rtpmap:102 H264/90000", "a=rtpmap:102 VP9/90000", StringComparison.Ordinal);

        Assert.True(WebRtcSdp.TryNegotiate(offer, Local, out var result, out var error), error);
        Assert.True(SdpSession.TryParse(result.AnswerSdp, out var answer, out _));

        Assert.Equal(0, answer.Media[0].Port);
        Assert.Equal(0, answer.Media[2].Port);
        Assert.Equal("BUNDLE 1", answer.GetAttribute("group"));
        Assert.Equal(MediaKind.Audio, Assert.Single(result.Tracks).Kind);
        Assert.Equal("1 1 udp 2130706431 127.0.0.1 8555 typ host", answer.Media[1].GetAttribute("candidate"));
    }

    [Theory]
    [InlineData("a=setup:actpass", "a=setup:passive", "setup")]
    [InlineData("a=fingerprint:sha-256", "a=fingerprint:sha-1", "fingerprint")]
    [InlineData("a=ice-ufrag:", "a=x-ufrag:", "ice-ufrag")]
    [InlineData("v=0", "v=1", "SDP")]
    public void TryNegotiate_UnservableOffer_RefusesWithReason(string from, string to, string reason)
    {
        var offer = WebRtcOffers.Console(Fingerprint).Replace(from, to, StringComparison.Ordinal);

        Assert.False(WebRtcSdp.TryNegotiate(offer, Local, out _, out var error));
        Assert.Contains(reason, error, StringComparison.Ordinal);
    }

    [Fact]
    public void TryNegotiate_NoRtcpMux_RefusesEverySection()
    {
        var offer = WebRtcOffers.Console(Fingerprint).Replace("a=rtcp-mux\r\n", string.Empty, StringComparison.Ordinal);

        Assert.False(WebRtcSdp.TryNegotiate(offer, Local, out _, out var error));
        Assert.Contains("rtcp-mux", error, StringComparison.Ordinal);
    }

    [Fact]
    public void TryNegotiate_ReOfferAddingIntercom_KeepsExistingTrackObjects()
    {
        Assert.True(WebRtcSdp.TryNegotiate(WebRtcOffers.CameraAndAudio(Fingerprint), Local, out var first, out var error), error);
        Assert.Equal(2, first.Tracks.Count);

        var local = Local with { SessionVersion = 3 };
        Assert.True(WebRtcSdp.TryNegotiate(WebRtcOffers.Console(Fingerprint), local, out var second, out error, first.Tracks), error);

        Assert.Equal(3, second.Tracks.Count);
        Assert.Same(first.Tracks[0], second.Tracks[0]);
        Assert.Same(first.Tracks[1], second.Tracks[1]);
        Assert.DoesNotContain(second.Tracks[2].LocalSsrc, first.Tracks.Select(t => t.LocalSsrc));
        Assert.Equal("3", SdpSession.Parse(second.AnswerSdp).Origin.SessionVersion);
    }

    [Fact]
    public void TryNegotiate_ReOfferChangingDirection_NewTrackSameSsrc()
    {
        Assert.True(WebRtcSdp.TryNegotiate(WebRtcOffers.Console(Fingerprint), Local, out var first, out var error), error);
        var reOffer = WebRtcOffers.Console(Fingerprint).Replace("a=mid:1\r\na=sendrecv", "a=mid:1\r\na=recvonly", StringComparison.Ordinal);

        Assert.True(WebRtcSdp.TryNegotiate(reOffer, Local, out var second, out error, first.Tracks), error);

        var before = first.Tracks.Single(t => t.Mid == "1");
        var after = second.Tracks.Single(t => t.Mid == "1");
        Assert.NotSame(before, after);
        Assert.Equal(before.LocalSsrc, after.LocalSsrc);
        Assert.False(after.CanReceive);
    }

    [Fact]
    public void TryNegotiate_FuzzedOffers_NeverThrow()
    {
        var seed = Encoding.UTF8.GetBytes(WebRtcOffers.Console(Fingerprint));
        var iteration = 0;
        foreach (var input in MediaFuzz.Inputs(8829, [seed], iterations: MediaFuzz.Iterations == MediaFuzz.DefaultIterations ? 5_000 : MediaFuzz.Iterations))
        {
            iteration++;
            var ok = WebRtcSdp.TryNegotiate(Encoding.UTF8.GetString(input), Local, out _, out var error);
            Assert.True(ok || error.Length > 0, "iteration " + iteration);
        }
    }
}
