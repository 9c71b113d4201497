using Microsoft.Extensions.Time.Testing;
using Portal.Media.Core;
using Portal.Media.Sip;
using Portal.Media.Sip.Auth;
using Portal.Media.Sip.Headers;
using Xunit;

namespace Portal.Tests.Media.Sip.Auth;

public sealed class SipDigestAuthenticatorTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 2, 8, 0, 0, TimeSpan.Zero));

    private SipDigestAuthenticator Create(params string[] algorithms) => new("portal.test", algorithms.Length == 0 ? ["SHA-256", "MD5"] : algorithms, TimeSpan.FromMinutes(5), _time);

    private static SipRequest Register() => SipRequest.Create(SipMethods.Register, new SipUri("portal.test"),
        new SipNameAddressHeader(new SipUri("portal.test", "terminal-00001")) { Tag = "f" },
        new SipNameAddressHeader(new SipUri("portal.test", "terminal-00001")), "call-1", 1);

    /// <summary>A challenge, answered the way a terminal would (topmost supported algorithm, RFC 8760 §2.4).</summary>
    private static SipRequest Answer(SipDigestAuthenticator digest, string password, string? onlyAlgorithm = null, int nonceCount = 1, bool stale = false)
    {
        var request = Register();
        var challenge = SipResponse.CreateFor(request, SipStatus.Unauthorized);
        digest.AddChallenges(challenge, stale);
        if (onlyAlgorithm is not null)
        {
            var keep = challenge.Headers.GetAll(SipHeaderNames.WwwAuthenticate).First(h => h.Contains("algorithm=" + onlyAlgorithm, StringComparison.Ordinal));
            challenge.Headers.Set(SipHeaderNames.WwwAuthenticate, keep);
        }

        var (header, value) = SipDigestClient.Answer(challenge, request, "terminal-00001", password, nonceCount)!.Value;
        request.Headers.Add(header, value);
        return request;
    }

    private static SipDigestVerdict Check(SipDigestAuthenticator digest, SipRequest request, string password)
    {
        Assert.True(digest.TryReadCredentials(request, proxy: false, out var credentials));
        return digest.Verify(credentials, request.Method, password);
    }

    [Fact]
    public void AddChallenges_OnePerAlgorithm_PreferredFirst()
    {
        var response = SipResponse.CreateFor(Register(), SipStatus.Unauthorized);

        Create().AddChallenges(response);

        var challenges = response.Headers.GetAll(SipHeaderNames.WwwAuthenticate).ToList();
        Assert.Equal(2, challenges.Count);
        Assert.Contains("algorithm=SHA-256", challenges[0], StringComparison.Ordinal);
        Assert.Contains("algorithm=MD5", challenges[1], StringComparison.Ordinal);
        Assert.Contains("qop=\"auth\"", challenges[0], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("SHA-256")]
    [InlineData("MD5")]
    public void Verify_RightPassword_IsValid(string algorithm)
    {
        var digest = Create();

        Assert.Equal(SipDigestVerdict.Valid, Check(digest, Answer(digest, "right", algorithm), "right"));
    }

    [Fact]
    public void Verify_WrongPassword_IsInvalid()
    {
        var digest = Create();

        Assert.Equal(SipDigestVerdict.Invalid, Check(digest, Answer(digest, "wrong"), "right"));
    }

    [Fact]
    public void Verify_ExpiredNonce_IsStaleWhenThePasswordIsRight()
    {
        var digest = Create();
        var request = Answer(digest, "right");

        _time.Advance(TimeSpan.FromMinutes(6));

        Assert.Equal(SipDigestVerdict.Stale, Check(digest, request, "right"));
    }

    [Fact]
    public void Verify_ReplayedNonceCount_IsStale()
    {
        var digest = Create();
        var request = Answer(digest, "right");

        Assert.Equal(SipDigestVerdict.Valid, Check(digest, request, "right"));
        Assert.Equal(SipDigestVerdict.Stale, Check(digest, request, "right"));
    }

    [Fact]
    public void Verify_NonceFromAnotherServer_IsInvalid()
    {
        var other = Create();
        var digest = Create();

        Assert.Equal(SipDigestVerdict.Invalid, Check(digest, Answer(other, "right"), "right"));
    }

    [Fact]
    public void Verify_AlgorithmWeDidNotOffer_IsInvalid()
    {
        var both = Create();
        var md5Only = new SipDigestAuthenticator("portal.test", ["MD5"], TimeSpan.FromMinutes(5), _time);
        var request = Register();
        var challenge = SipResponse.CreateFor(request, SipStatus.Unauthorized);
        challenge.Headers.Add(SipHeaderNames.WwwAuthenticate, $"Digest realm=\"portal.test\", nonce=\"{md5Only.CreateNonce()}\", algorithm=SHA-256, qop=\"auth\"");
        var (header, value) = SipDigestClient.Answer(challenge, request, "terminal-00001", "right")!.Value;
        request.Headers.Add(header, value);

        Assert.Equal(SipDigestVerdict.Invalid, Check(md5Only, request, "right"));
        Assert.NotNull(both);
    }

    [Fact]
    public void TryReadCredentials_UnknownSchemeOrRealm_IsIgnored()
    {
        var request = Register();
        request.Headers.Add(SipHeaderNames.Authorization, "NoOneKnowsThisScheme opaque-data=here");
        request.Headers.Add(SipHeaderNames.Authorization, HttpDigest.BuildAuthorization(HttpDigest.ParseParameters("Digest realm=\"other\", nonce=\"x\""), "u", "p", "REGISTER", "sip:x", 1));

        Assert.False(Create().TryReadCredentials(request, proxy: false, out _));
    }
}
