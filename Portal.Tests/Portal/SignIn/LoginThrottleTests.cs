using System.Net;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Portal.SignIn;
using Xunit;

namespace Portal.Tests.Portal.SignIn;

public sealed class LoginThrottleTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 2, 8, 0, 0, TimeSpan.Zero));

    private LoginThrottle Throttle() => new(Options.Create(new PortalOptions()), _time);

    [Fact]
    public void RetryAfter_FiveFailures_StillFree_SixthWaitsTwoSecondsThenDoubles()
    {
        var throttle = Throttle();
        var stranger = IPAddress.Parse("203.0.113.9");
        for (var i = 0; i < 5; i++)
        {
            throttle.Failed(stranger);
            Assert.Null(throttle.RetryAfter(stranger));
        }

        throttle.Failed(stranger);
        Assert.Equal(TimeSpan.FromSeconds(2), throttle.RetryAfter(stranger));
        _time.Advance(TimeSpan.FromSeconds(2));
        Assert.Null(throttle.RetryAfter(stranger));
        throttle.Failed(stranger);
        Assert.Equal(TimeSpan.FromSeconds(4), throttle.RetryAfter(stranger));
    }

    [Fact]
    public void RetryAfter_OtherAddress_IsNotSlowedByAStranger()
    {
        var throttle = Throttle();
        for (var i = 0; i < 20; i++)
        {
            throttle.Failed(IPAddress.Parse("203.0.113.9"));
        }

        Assert.NotNull(throttle.RetryAfter(IPAddress.Parse("203.0.113.9")));
        Assert.Null(throttle.RetryAfter(IPAddress.Parse("198.51.100.4")));
    }

    [Fact]
    public void Delay_ManyFailures_IsCappedAndForgottenAfterTheWindow()
    {
        var throttle = Throttle();
        var stranger = IPAddress.Parse("203.0.113.9");
        for (var i = 0; i < 60; i++)
        {
            throttle.Failed(stranger);
        }

        Assert.Equal(TimeSpan.FromSeconds(300), throttle.RetryAfter(stranger));
        _time.Advance(TimeSpan.FromMinutes(31));
        Assert.Null(throttle.RetryAfter(stranger));
        throttle.Failed(stranger); // counts from one again
        Assert.Null(throttle.RetryAfter(stranger));
    }

    [Fact]
    public void Key_IPv6_CountsPerSlash64_AndMappedIPv4AsIPv4()
    {
        Assert.Equal(LoginThrottle.Key(IPAddress.Parse("2001:db8:1:2:aaaa::1")), LoginThrottle.Key(IPAddress.Parse("2001:db8:1:2:bbbb::7")));
        Assert.NotEqual(LoginThrottle.Key(IPAddress.Parse("2001:db8:1:2::1")), LoginThrottle.Key(IPAddress.Parse("2001:db8:1:3::1")));
        Assert.Equal("203.0.113.9", LoginThrottle.Key(IPAddress.Parse("::ffff:203.0.113.9")));
    }
}
