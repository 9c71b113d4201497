using System.Net;
using Microsoft.Extensions.Time.Testing;
using Portal.Media.Sip.Auth;
using Xunit;

namespace Portal.Tests.Media.Sip.Auth;

public sealed class SipAuthThrottleTests
{
    private static readonly IPAddress Terminal = IPAddress.Parse("10.0.0.7");
    private static readonly IPAddress Stranger = IPAddress.Parse("203.0.113.9");

    private readonly FakeTimeProvider _time = new();
    private readonly SipAuthThrottle _throttle;

    public SipAuthThrottleTests()
    {
        _throttle = new SipAuthThrottle(new SipAuthThrottleOptions { MaxFailuresPerSource = 3, MaxFailuresPerAccount = 5, Window = TimeSpan.FromMinutes(1) }, _time);
    }

    [Fact]
    public void Check_SourceWithTooManyFailures_IsBlockedUntilTheWindowPasses()
    {
        for (var i = 0; i < 3; i++)
        {
            _throttle.RecordFailure(Stranger, "terminal-" + i);
        }

        Assert.Equal(SipThrottleVerdict.SourceBlocked, _throttle.Check(Stranger, "terminal-9"));
        _time.Advance(TimeSpan.FromSeconds(61));
        Assert.Equal(SipThrottleVerdict.Allowed, _throttle.Check(Stranger, "terminal-9"));
    }

    [Fact]
    public void Check_AccountGuessedFromManySources_BlocksOthersButNotTheTerminal()
    {
        _throttle.RecordSuccess(Terminal, "terminal-00001");
        for (var i = 0; i < 5; i++)
        {
            _throttle.RecordFailure(IPAddress.Parse("198.51.100." + (i + 1)), "terminal-00001");
        }

        Assert.Equal(SipThrottleVerdict.AccountBlocked, _throttle.Check(Stranger, "terminal-00001"));
        Assert.Equal(SipThrottleVerdict.Allowed, _throttle.Check(Terminal, "terminal-00001"));
        Assert.Equal(SipThrottleVerdict.Allowed, _throttle.Check(Stranger, "terminal-00002"));
    }

    [Fact]
    public void RecordFailure_FromTheTerminalsOwnAddress_DoesNotCountAgainstTheAccount()
    {
        _throttle.RecordSuccess(Terminal, "terminal-00001");
        for (var i = 0; i < 2; i++)
        {
            _throttle.RecordFailure(Terminal, "terminal-00001");
        }

        for (var i = 0; i < 4; i++)
        {
            _throttle.RecordFailure(IPAddress.Parse("198.51.100." + (i + 1)), "terminal-00001");
        }

        Assert.Equal(SipThrottleVerdict.Allowed, _throttle.Check(Stranger, "terminal-00001"));
    }
}
