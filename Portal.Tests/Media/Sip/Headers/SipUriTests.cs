using Portal.Media.Sip;
using Xunit;

namespace Portal.Tests.Media.Sip.Headers;

public sealed class SipUriTests
{
    [Theory]
    [InlineData("sip:terminal-00001@10.0.0.7:5062;transport=tcp", "terminal-00001", "10.0.0.7", 5062, "tcp")]
    [InlineData("sips:110@[2001:db8::1]", "110", "[2001:db8::1]", null, null)]
    [InlineData("sip:portal.test", null, "portal.test", null, null)]
    [InlineData("SIP:%61lice@example.com", "alice", "example.com", null, null)]
    [InlineData("sip:user;par=u%40example.net@example.com", "user;par=u@example.net", "example.com", null, null)]
    public void TryParse_ValidUri_ReadsParts(string text, string? user, string host, int? port, string? transport)
    {
        Assert.True(SipUri.TryParse(text, out var uri, out var error), error);

        Assert.Equal(user, uri.User);
        Assert.Equal(host, uri.Host);
        Assert.Equal(port, uri.Port);
        Assert.Equal(transport, uri.Transport);
    }

    [Theory]
    [InlineData("sip:user@host:70000")]
    [InlineData("sip:user@ho st")]
    [InlineData("sip:%zz@host")]
    [InlineData("sip:@host")]
    [InlineData("sip:user@[::1")]
    [InlineData("http://example.com")]
    [InlineData("sip:user@host;=x")]
    [InlineData("")]
    public void TryParse_Malformed_IsRefused(string text) => Assert.False(SipUri.TryParse(text, out _, out _));

    [Fact]
    public void ToString_RoundTrip_KeepsUserAsWritten()
    {
        const string Text = "sip:%61lice:secret@example.com:5070;transport=udp;lr?Subject=hi";

        Assert.Equal(Text, SipUri.Parse(Text).ToString());
    }

    [Fact]
    public void Constructor_UserWithReservedCharacters_IsEscaped()
    {
        Assert.Equal("sip:a%20b%40c@host", new SipUri("host", "a b@c").ToString());
    }
}
