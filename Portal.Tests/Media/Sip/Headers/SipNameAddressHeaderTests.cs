using Portal.Media.Sip.Headers;
using Xunit;

namespace Portal.Tests.Media.Sip.Headers;

public sealed class SipNameAddressHeaderTests
{
    [Theory]
    [InlineData("\"Guard \\\"A\\\"\" <sip:t@h>;tag=1", "Guard \"A\"", "sip:t@h", "1")]
    [InlineData("Guard Room <sip:t@h>", "Guard Room", "sip:t@h", null)]
    [InlineData("sip:t@h;tag=x", null, "sip:t@h", "x")]
    [InlineData("<urn:uuid:f81d4fae>", null, "urn:uuid:f81d4fae", null)]
    [InlineData("\"x\"<sip:t@h>", "x", "sip:t@h", null)]
    public void TryParse_Forms_ReadDisplayNameUriAndTag(string text, string? display, string uri, string? tag)
    {
        Assert.True(SipNameAddressHeader.TryParse(text, out var header, out var error), error);

        Assert.Equal(display, header.DisplayName);
        Assert.Equal(uri, header.UriText);
        Assert.Equal(tag, header.Tag);
    }

    [Theory]
    [InlineData("\"open <sip:t@h>")]
    [InlineData("a,b <sip:t@h>")]
    [InlineData("sip:t@h?x=y")]
    [InlineData("<sip: t@h>")]
    [InlineData("<sip:t@h")]
    [InlineData("no-scheme")]
    public void TryParse_Malformed_IsRefused(string text) => Assert.False(SipNameAddressHeader.TryParse(text, out _, out _));

    [Fact]
    public void TryParse_Star_IsWildcard()
    {
        Assert.True(SipNameAddressHeader.TryParse("*", out var header, out _));

        Assert.True(header.IsWildcard);
    }

    [Fact]
    public void ToString_RoundTrip()
    {
        Assert.True(SipNameAddressHeader.TryParse("\"Gate\" <sip:t@h;transport=tcp>;tag=7;expires=60", out var header, out _));

        Assert.Equal("\"Gate\" <sip:t@h;transport=tcp>;tag=7;expires=60", header.ToString());
    }
}
