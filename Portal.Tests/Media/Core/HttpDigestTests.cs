using Portal.Media.Core;
using Xunit;

namespace Portal.Tests.Media.Core;

public sealed class HttpDigestTests
{
    [Fact]
    public void ComputeResponse_Rfc2617Example_MatchesTheRfc()
    {
        // RFC 2617 §3.5: user Mufasa, password "Circle Of Life".
        var response = HttpDigest.ComputeResponse(
            "Mufasa", "Circle Of Life", "testrealm@host.com", "GET", "/dir/index.html",
            "dcd98b7102dd2f0e8b11d0f600bfb0c093", "auth", "00000001", "0a4f113b");

        Assert.Equal("6629fae49393a05397450978507c4ef1", response);
    }

    [Fact]
    public void ParseParameters_QuotedAndBareValues_AreRead()
    {
        var p = HttpDigest.ParseParameters("Digest realm=\"IP Camera(21614)\", nonce=\"a1b2\", qop=\"auth,auth-int\", stale=FALSE, opaque=\"x\\\"y\"");

        Assert.Equal("IP Camera(21614)", p["realm"]);
        Assert.Equal("auth,auth-int", p["qop"]);
        Assert.Equal("FALSE", p["stale"]);
        Assert.Equal("x\"y", p["opaque"]);
    }

    [Fact]
    public void BuildAuthorization_ThenVerify_Accepts()
    {
        var challenge = HttpDigest.ParseParameters("Digest realm=\"cam\", nonce=\"n1\", qop=\"auth\"");

        var authorization = HttpDigest.BuildAuthorization(challenge, "admin", "pw", "DESCRIBE", "rtsp://h/s", 1);

        Assert.True(HttpDigest.Verify(authorization, "DESCRIBE", "cam", "n1", "admin", "pw"));
        Assert.False(HttpDigest.Verify(authorization, "DESCRIBE", "cam", "n1", "admin", "wrong"));
        Assert.False(HttpDigest.Verify(authorization, "PLAY", "cam", "n1", "admin", "pw"));
        Assert.False(HttpDigest.Verify(authorization, "DESCRIBE", "cam", "n2", "admin", "pw"));
    }

    [Fact]
    public void BuildAuthorization_NoQop_UsesRfc2069Form()
    {
        var challenge = HttpDigest.ParseParameters("Digest realm=\"cam\", nonce=\"n1\"");

        var authorization = HttpDigest.BuildAuthorization(challenge, "admin", "pw", "OPTIONS", "rtsp://h/s", 1);

        Assert.DoesNotContain("qop", authorization, StringComparison.Ordinal);
        Assert.True(HttpDigest.Verify(authorization, "OPTIONS", "cam", "n1", "admin", "pw"));
    }

    [Fact]
    public void BuildBasic_EncodesUserAndPassword()
    {
        Assert.Equal("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==", HttpDigest.BuildBasic("Aladdin", "open sesame"));
    }

    [Fact]
    public void ParseParameters_SeededFuzz_NeverThrowsAndStaysBounded()
    {
        byte[][] seeds =
        [
            "Digest realm=\"IP Camera(21614)\", nonce=\"a1b2\", qop=\"auth,auth-int\", stale=FALSE, opaque=\"x\\\"y\""u8.ToArray(),
            "Digest username=\"admin\", realm=\"cam\", nonce=\"n1\", uri=\"rtsp://h/s\", response=\"0123\", qop=auth, nc=00000001, cnonce=\"c\""u8.ToArray(),
        ];

        foreach (var input in MediaFuzz.Inputs(2617, seeds))
        {
            var text = System.Text.Encoding.UTF8.GetString(input);
            Assert.True(HttpDigest.ParseParameters(text).Count <= 32);
            _ = HttpDigest.Verify(text, "DESCRIBE", "cam", "n1", "admin", "pw");
        }
    }
}
