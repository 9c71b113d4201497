using Portal.Media.Sip.Headers;
using Xunit;

namespace Portal.Tests.Media.Sip.Headers;

public sealed class SipViaHeaderTests
{
    [Fact]
    public void TryParse_BlanksAroundSlashesAndParameters_AreAccepted()
    {
        Assert.True(SipViaHeader.TryParse("SIP  /   2.0  /UDP   192.0.2.2:5061 ;  branch = z9hG4bK39 ; rport ; received=[2001:db8::9]", out var via, out var error), error);

        Assert.Equal("UDP", via.Transport);
        Assert.Equal("192.0.2.2:5061", via.SentBy);
        Assert.Equal("z9hG4bK39", via.Branch);
        Assert.True(via.HasRport && via.HasRfc3261Branch);
        Assert.Equal("[2001:db8::9]", via.Received);
        Assert.Equal("SIP/2.0/UDP 192.0.2.2:5061;branch=z9hG4bK39;rport;received=[2001:db8::9]", via.ToString());
    }

    [Theory]
    [InlineData("HTTP/1.1/TCP host")]
    [InlineData("SIP/2.0 host")]
    [InlineData("SIP/2.0/UDP")]
    [InlineData("SIP/2.0/UDP host:0")]
    [InlineData("SIP/2.0/UDP host;branch=\"open")]
    public void TryParse_Malformed_IsRefused(string text) => Assert.False(SipViaHeader.TryParse(text, out _, out _));

    [Fact]
    public void HasRfc3261Branch_WithoutMagicCookie_IsFalse()
    {
        Assert.True(SipViaHeader.TryParse("SIP/2.0/UDP host;branch=1234", out var via, out _));

        Assert.False(via.HasRfc3261Branch);
    }
}
