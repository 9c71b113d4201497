using System.Text;
using Portal.Administration;
using Xunit;

namespace Portal.Tests.Portal.Administration;

public sealed class TotpTests
{
    // RFC 6238 Appendix B: the SHA-1 seed "12345678901234567890"; at T = 59 s the 8-digit TOTP is 94287082, so the
    // 6-digit code is its last six digits.
    private static readonly byte[] RfcKey = Encoding.ASCII.GetBytes("12345678901234567890");

    [Fact]
    public void Code_RfcVector_MatchesAppendixB()
    {
        Assert.Equal("287082", Totp.Code(RfcKey, 59 / 30));
        Assert.Equal("081804", Totp.Code(RfcKey, 1111111109 / 30));
    }

    [Fact]
    public void Verify_CurrentAndNeighbourSteps_AcceptedOthersNot()
    {
        const string Key = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"; // base32 of the RFC seed
        var now = DateTimeOffset.FromUnixTimeSeconds(1111111109);
        Assert.True(Totp.Verify(Key, "081804", now));
        Assert.True(Totp.Verify(Key, "081 804", now.AddSeconds(30)));
        Assert.False(Totp.Verify(Key, "081804", now.AddSeconds(90)));
        Assert.False(Totp.Verify(Key, "000000", now));
        Assert.False(Totp.Verify(Key, "08180", now));
        Assert.False(Totp.Verify("not base32!", "081804", now));
        Assert.False(Totp.Verify(Key, null, now));
    }

    [Fact]
    public void FromBase32_RoundTripsIdentityStyleKeys()
    {
        Assert.Equal(RfcKey, Totp.FromBase32("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"));
        Assert.Equal(RfcKey, Totp.FromBase32("gezdgnbvgy3tqojqgezdgnbvgy3tqojq"));
        Assert.Null(Totp.FromBase32("0189"));
    }
}
