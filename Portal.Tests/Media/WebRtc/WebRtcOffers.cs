namespace Portal.Tests.Media.WebRtc;

/// <summary>
/// Offers shaped like Chrome 13x's for the operator console: gate camera video recvonly, guard audio sendrecv,
/// intercom video sendrecv. Hand-written after Chrome's format (several H.264 profiles, RTX, rtcp-rsize),
/// not a capture; ufrag, password and fingerprint are placeholders the tests replace.
/// </summary>
internal static class WebRtcOffers
{
    public const string ChromeConsole = """
        v=0
        o=- 4611731400430051336 2 IN IP4 127.0.0.1
        s=-
        t=0 0
        a=group:BUNDLE 0 1 2
        a=extmap-allow-mixed
        a=msid-semantic: WMS
        m=video 9 UDP/TLS/RTP/SAVPF 96 97 102 103 106 107
        c=IN IP4 0.0.0.0
        a=rtcp:9 IN IP4 0.0.0.0
        a=ice-ufrag:{UFRAG}
        a=ice-pwd:{PWD}
        a=ice-options:trickle
        a=fingerprint:{FINGERPRINT}
        a=setup:actpass
        a=mid:0
        a=recvonly
        a=rtcp-mux
        a=rtcp-rsize
        a=rtpmap:96 VP8/90000
        a=rtcp-fb:96 nack
        a=rtpmap:97 rtx/90000
        a=fmtp:97 apt=96
        a=rtpmap:102 H264/90000
        a=rtcp-fb:102 goog-remb
        a=rtcp-fb:102 transport-cc
        a=rtcp-fb:102 ccm fir
        a=rtcp-fb:102 nack
        a=rtcp-fb:102 nack pli
        a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f
        a=rtpmap:103 rtx/90000
        a=fmtp:103 apt=102
        a=rtpmap:106 H264/90000
        a=rtcp-fb:106 ccm fir
        a=rtcp-fb:106 nack
        a=rtcp-fb:106 nack pli
        a=fmtp:106 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f
        a=rtpmap:107 rtx/90000
        a=fmtp:107 apt=106
        m=audio 9 UDP/TLS/RTP/SAVPF 111 0 8 126
        c=IN IP4 0.0.0.0
        a=rtcp:9 IN IP4 0.0.0.0
        a=ice-ufrag:{UFRAG}
        a=ice-pwd:{PWD}
        a=ice-options:trickle
        a=fingerprint:{FINGERPRINT}
        a=setup:actpass
        a=mid:1
        a=sendrecv
        a=msid:- 7d2f0b6e-audio
        a=rtcp-mux
        a=rtpmap:111 opus/48000/2
        a=fmtp:111 minptime=10;useinbandfec=1
        a=rtpmap:0 PCMU/8000
        a=rtpmap:8 PCMA/8000
        a=rtpmap:126 telephone-event/8000
        a=ssrc:1001 cname:4TOk42mSjXCkVIa6
        a=ssrc:1001 msid:- 7d2f0b6e-audio
        m=video 9 UDP/TLS/RTP/SAVPF 106 107
        c=IN IP4 0.0.0.0
        a=rtcp:9 IN IP4 0.0.0.0
        a=ice-ufrag:{UFRAG}
        a=ice-pwd:{PWD}
        a=ice-options:trickle
        a=fingerprint:{FINGERPRINT}
        a=setup:actpass
        a=mid:2
        a=sendrecv
        a=rtcp-mux
        a=rtcp-rsize
        a=rtpmap:106 H264/90000
        a=rtcp-fb:106 nack
        a=rtcp-fb:106 nack pli
        a=fmtp:106 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f
        a=rtpmap:107 rtx/90000
        a=fmtp:107 apt=106
        a=ssrc-group:FID 2001 2002
        a=ssrc:2001 cname:4TOk42mSjXCkVIa6
        a=ssrc:2002 cname:4TOk42mSjXCkVIa6

        """;

    public const string Ufrag = "Hx3T";

    public const string Password = "0f3nSxk2c3bW1lq2ZC0bQh0m";

    /// <summary>The console before the intercom starts: camera and audio only (the intercom is added by a re-offer).</summary>
    public static string CameraAndAudio(string fingerprint)
    {
        var full = Console(fingerprint);
        return full[..full.LastIndexOf("m=video", StringComparison.Ordinal)].Replace("BUNDLE 0 1 2", "BUNDLE 0 1", StringComparison.Ordinal);
    }

    public static string Console(string fingerprint) =>
        ChromeConsole.Replace("{UFRAG}", Ufrag, StringComparison.Ordinal)
            .Replace("{PWD}", Password, StringComparison.Ordinal)
            .Replace("{FINGERPRINT}", fingerprint, StringComparison.Ordinal)
            .ReplaceLineEndings("\r\n");
}
