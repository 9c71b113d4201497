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

    [Theory]
    [InlineData("MD5", "8ca523f5e9506fed4657c9700eebdbec")]
    [InlineData("SHA-256", "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1")]
    public void ComputeResponse_Rfc7616Example_MatchesTheRfc(string algorithm, string expected)
    {
        // RFC 7616 §3.9.1: the same request answered with MD5 and with SHA-256 (the algorithm RFC 8760 brings to SIP).
        var response = HttpDigest.ComputeResponse("Mufasa", "Circle of Life", "http-auth@example.org", "GET", "/dir/index.html",
            "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", "auth", "00000001", "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", algorithm);

        Assert.Equal(expected, response);
    }

    [Fact]
    public void BuildAuthorization_Sha256Challenge_AnswersWithSha256()
    {
        var challenge = HttpDigest.ParseParameters("Digest realm=\"r\", nonce=\"n\", algorithm=SHA-256, qop=\"auth\"");

        var header = HttpDigest.BuildAuthorization(challenge, "u", "p", "REGISTER", "sip:r", 1);

        Assert.Contains("algorithm=SHA-256", header, StringComparison.Ordinal);
        Assert.Equal(64, HttpDigest.ParseParameters(header)["response"].Length);
        Assert.True(HttpDigest.IsSupportedAlgorithm("sha-256-sess"));
        Assert.False(HttpDigest.IsSupportedAlgorithm("SHA-512-256"));
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
