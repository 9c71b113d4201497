using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Time.Testing;
using Portal.Media.Sip;
using Portal.Media.Sip.Calls;
using Portal.Media.Sip.Transport;
using Xunit;

namespace Portal.Tests.Media.Sip.Calls;

/// <summary>Calls between a terminal's user agent and the portal's, over real UDP/TCP and RTP on 127.0.0.1.</summary>
[Trait("Category", "Integration")]
public sealed class SipUserAgentTests : IAsyncLifetime
{
    private const string Account = "terminal-00001";
    private const string Password = "right-password";

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 2, 8, 0, 0, TimeSpan.Zero));
    private readonly ConcurrentQueue<SipCall> _incoming = new();
    private SipTestNode _portal = null!;
    private SipTestNode _terminal = null!;

    public ValueTask InitializeAsync()
    {
        _portal = SipTestNode.Start(_time).WithAccount(Account, Password, deviceId: 3);
        _portal.Agent.IncomingCall = (call, _) =>
        {
            _incoming.Enqueue(call);
            return Task.FromResult(call.CalledUser == "110" ? SipCallDecision.Ring : SipCallDecision.Refuse(SipStatus.NotFound));
        };
        _terminal = SipTestNode.Start(_time, authenticateIncoming: false);
        _terminal.Agent.IncomingCall = (_, _) => Task.FromResult(SipCallDecision.AnswerNow);
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        await _terminal.DisposeAsync();
        await _portal.DisposeAsync();
    }

    private Task<SipCallResult> PressAsync(string number = "110", SipTransportProtocol protocol = SipTransportProtocol.Udp, string password = Password, Action<SipCall>? onRinging = null, CancellationToken ct = default)
    {
        var target = protocol == SipTransportProtocol.Udp ? _portal.UdpEndPoint : _portal.TcpEndPoint;
        var uri = new SipUri("127.0.0.1", number, target.Address.Port);
        if (protocol == SipTransportProtocol.Tcp)
        {
            uri.Parameters.Set("transport", "tcp");
        }

        return _terminal.Agent.CallAsync(uri, target, (Account, password), onRinging, sendVideo: true, cancellationToken: ct);
    }

    [Theory]
    [InlineData(SipTransportProtocol.Udp)]
    [InlineData(SipTransportProtocol.Tcp)]
    public async Task Press_OperatorAnswers_AudioFlowsBothWaysUntilTheTerminalHangsUp(SipTransportProtocol protocol)
    {
        var ringing = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var press = PressAsync(protocol: protocol, onRinging: _ => ringing.TrySetResult());
        await ringing.Task.WaitAsync(TestContext.Current.CancellationToken);
        var portalCall = Assert.Single(_incoming);
        Assert.Equal(3, portalCall.Account!.DeviceId);
        Assert.Equal(SipCallState.Ringing, portalCall.State);
        Assert.False(press.IsCompleted); // no 200 before the operator answers

        Assert.True(await portalCall.AnswerAsync(TestContext.Current.CancellationToken));
        var terminalCall = (await press).Call!;
        Assert.Equal(SipCallState.Active, portalCall.State);
        Assert.Equal("PCMU", portalCall.Plan!.Audio!.Codec.Name);
        Assert.Equal("H264", portalCall.Plan.Video!.Codec.Name);

        await ExchangeAudioAsync(terminalCall, portalCall);

        await terminalCall.HangUpAsync();
        Assert.Equal(SipCallEndReason.RemoteHangUp, await portalCall.Ended.WaitAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Press_OtherNumber_Is404()
    {
        var result = await PressAsync("999");

        Assert.Equal(SipStatus.NotFound, result.Status);
        Assert.Null(result.Call);
    }

    [Fact]
    public async Task Press_WrongPassword_Is403AndNeverReachesTheApplication()
    {
        var result = await PressAsync(password: "wrong");

        Assert.Equal(SipStatus.Forbidden, result.Status);
        Assert.Empty(_incoming);
    }

    [Fact]
    public async Task Press_TerminalGivesUpRinging_CallIsCancelledWith487()
    {
        using var giveUp = new CancellationTokenSource();
        var press = PressAsync(onRinging: _ => giveUp.Cancel(), ct: giveUp.Token);

        var result = await press;

        Assert.Equal(SipStatus.RequestTerminated, result.Status);
        Assert.Equal(SipCallEndReason.Cancelled, await Assert.Single(_incoming).Ended.WaitAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task CallBack_TerminalAnswers_OperatorHangsUp()
    {
        var terminalFlow = _terminal.UdpEndPoint;

        var result = await _portal.Agent.CallAsync(new SipUri("127.0.0.1", Account, terminalFlow.Address.Port), terminalFlow, cancellationToken: TestContext.Current.CancellationToken);

        var portalCall = result.Call!;
        Assert.Equal(SipCallState.Active, portalCall.State);
        var terminalCall = _terminal.Agent.Calls.Single();
        await ExchangeAudioAsync(terminalCall, portalCall);
        await portalCall.HangUpAsync();
        Assert.Equal(SipCallEndReason.RemoteHangUp, await terminalCall.Ended.WaitAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Rtp_FromAStrangerDuringTheCall_IsIgnored()
    {
        var (terminalCall, portalCall) = await ConnectedCallAsync();
        await ExchangeAudioAsync(terminalCall, portalCall);
        var before = portalCall.Media.Audio.PacketsReceived;

        using var stranger = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        for (var i = 0; i < 5; i++)
        {
            await stranger.SendAsync(Rtp(9000 + i), new IPEndPoint(IPAddress.Loopback, portalCall.Media.Audio.Port), TestContext.Current.CancellationToken);
        }

        await WaitAsync(() => portalCall.Media.Audio.ForeignPackets >= 5);
        Assert.Equal(before, portalCall.Media.Audio.PacketsReceived);
        await terminalCall.HangUpAsync();
    }

    /// <summary>
    /// Shutting down with a call whose far end is gone: the BYE is never answered and this test's clock does not run, so
    /// nothing but the shutdown's own real-time bound can end the wait (a fresh-clone run hung here for 6 minutes).
    /// </summary>
    [Fact]
    public async Task Dispose_CallWhosePeerIsGone_EndsWithinItsGrace()
    {
        var (terminalCall, portalCall) = await ConnectedCallAsync();
        Assert.Equal(SipCallState.Active, terminalCall.State);

        await _terminal.Layer.DisposeAsync(); // the terminal vanishes without a BYE
        await _portal.Agent.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);

        Assert.Equal(SipCallState.Ended, portalCall.State);
        Assert.Empty(_portal.Agent.Calls);
    }

    /// <summary>A press over UDP that rings the portal, which answers: both ends of the connected call.</summary>
    private async Task<(SipCall Terminal, SipCall Portal)> ConnectedCallAsync()
    {
        var ringing = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var press = PressAsync(onRinging: _ => ringing.TrySetResult());
        await ringing.Task.WaitAsync(TestContext.Current.CancellationToken);
        var portalCall = Assert.Single(_incoming);
        await portalCall.AnswerAsync(TestContext.Current.CancellationToken);
        return ((await press).Call!, portalCall);
    }

    private static async Task ExchangeAudioAsync(SipCall a, SipCall b)
    {
        var aHeard = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var bHeard = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        a.Media.Audio.RtpReceived += (_, p) => aHeard.TrySetResult();
        b.Media.Audio.RtpReceived += (_, p) => bHeard.TrySetResult();
        for (var i = 0; i < 200 && !(aHeard.Task.IsCompleted && bHeard.Task.IsCompleted); i++)
        {
            a.Media.Audio.SendRtp(Rtp(i));
            b.Media.Audio.SendRtp(Rtp(i));
            await Task.WhenAny(Task.WhenAll(aHeard.Task, bHeard.Task), Task.Delay(20, TestContext.Current.CancellationToken));
        }

        Assert.True(aHeard.Task.IsCompleted && bHeard.Task.IsCompleted, "audio did not flow both ways");
    }

    private static byte[] Rtp(int sequence)
    {
        var packet = new byte[12 + 160];
        packet[0] = 0x80;
        packet[2] = (byte)(sequence >> 8);
        packet[3] = (byte)sequence;
        packet[8] = 0x12;
        return packet;
    }

    private static async Task WaitAsync(Func<bool> condition)
    {
        for (var i = 0; i < 1000 && !condition(); i++)
        {
            await Task.Delay(10, TestContext.Current.CancellationToken);
        }

        Assert.True(condition());
    }
}
