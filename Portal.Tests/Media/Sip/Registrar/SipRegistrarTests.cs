using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Time.Testing;
using Portal.Media.Sip;
using Portal.Media.Sip.Auth;
using Portal.Media.Sip.Registrar;
using Portal.Media.Sip.Transport;
using Portal.Media.WebRtc.Stun;
using Xunit;

namespace Portal.Tests.Media.Sip.Registrar;

/// <summary>Registration over real UDP and TCP on 127.0.0.1, a terminal's client against the portal's registrar.</summary>
[Trait("Category", "Integration")]
public sealed class SipRegistrarTests : IAsyncLifetime
{
    private const string Account = "terminal-00001";
    private const string Password = "right-password";

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 2, 8, 0, 0, TimeSpan.Zero));
    private SipTestNode _portal = null!;
    private SipTestNode _terminal = null!;

    public ValueTask InitializeAsync()
    {
        _portal = SipTestNode.Start(_time, registrar: new SipRegistrarOptions { MinExpires = 60, MaxExpires = 3600 },
            throttle: new SipAuthThrottleOptions { MaxFailuresPerSource = 4 }).WithAccount(Account, Password, deviceId: 7);
        _terminal = SipTestNode.Start(_time, authenticateIncoming: false);
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        await _terminal.DisposeAsync();
        await _portal.DisposeAsync();
    }

    private SipRegistrationClient Client(SipTransportProtocol protocol, string password = Password, string account = Account) =>
        new(_terminal.Layer, protocol == SipTransportProtocol.Udp ? _portal.UdpEndPoint : _portal.TcpEndPoint, "portal.test", account, password);

    [Theory]
    [InlineData(SipTransportProtocol.Udp, "SHA-256")]
    [InlineData(SipTransportProtocol.Udp, "MD5")]
    [InlineData(SipTransportProtocol.Tcp, "SHA-256")]
    [InlineData(SipTransportProtocol.Tcp, "MD5")]
    public async Task RegisterAsync_RightPassword_BindsTheContactOnItsFlow(SipTransportProtocol protocol, string algorithm)
    {
        await using var portal = SipTestNode.Start(_time, algorithms: [algorithm]).WithAccount(Account, Password, deviceId: 7);
        var client = new SipRegistrationClient(_terminal.Layer, protocol == SipTransportProtocol.Udp ? portal.UdpEndPoint : portal.TcpEndPoint, "portal.test", Account, Password);

        var response = await client.RegisterAsync(600, TestContext.Current.CancellationToken);

        Assert.Equal(SipStatus.Ok, response.StatusCode);
        var binding = Assert.Single(portal.Registrar.Bindings.Get(Account, _time.GetUtcNow()));
        Assert.Equal(protocol, binding.Flow.Protocol);
        Assert.Equal(7, binding.DeviceId);
        Assert.Equal(_time.GetUtcNow().AddSeconds(600), binding.ExpiresUtc);
        Assert.Contains("expires=600", response.Headers[SipHeaderNames.Contact], StringComparison.Ordinal);
        var change = Assert.Single(portal.Changes);
        Assert.Equal(7, change.DeviceId);
        Assert.Single(change.Bindings);
    }

    [Fact]
    public async Task RegisterAsync_Refresh_KeepsOneBindingAndMovesItsExpiry()
    {
        var client = Client(SipTransportProtocol.Udp);
        await client.RegisterAsync(600, TestContext.Current.CancellationToken);
        _time.Advance(TimeSpan.FromSeconds(300));

        var response = await client.RegisterAsync(600, TestContext.Current.CancellationToken);

        Assert.Equal(SipStatus.Ok, response.StatusCode);
        var binding = Assert.Single(_portal.Registrar.Bindings.Get(Account, _time.GetUtcNow()));
        Assert.Equal(_time.GetUtcNow().AddSeconds(600), binding.ExpiresUtc);
        // Freshness is recorded at every refresh; the change is raised just after the 200 is sent, so wait for it.
        await Poll.UntilAsync(() => _portal.Changes.Count == 2, TimeSpan.FromSeconds(10), "the refresh's registration change", TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task RegisterAsync_WrongPassword_IsForbiddenAndNeverBinds()
    {
        var response = await Client(SipTransportProtocol.Udp, "wrong-password").RegisterAsync(600, TestContext.Current.CancellationToken);

        Assert.Equal(SipStatus.Forbidden, response.StatusCode);
        Assert.Empty(_portal.Registrar.Bindings.Get(Account, _time.GetUtcNow()));
        Assert.Equal("BadCredentials", Assert.Single(_portal.Failures).Reason);
    }

    [Fact]
    public async Task RegisterAsync_UnknownAccount_GetsTheSameAnswerAsAWrongPassword()
    {
        var response = await Client(SipTransportProtocol.Udp, account: "terminal-99999").RegisterAsync(600, TestContext.Current.CancellationToken);

        Assert.Equal(SipStatus.Forbidden, response.StatusCode);
        Assert.Equal("Forbidden", response.ReasonPhrase);
        Assert.Equal("UnknownAccount", Assert.Single(_portal.Failures).Reason);
    }

    [Fact]
    public async Task RegisterAsync_DisabledDevice_IsForbidden()
    {
        _portal.WithAccount(Account, Password, enabled: false);

        var response = await Client(SipTransportProtocol.Udp).RegisterAsync(600, TestContext.Current.CancellationToken);

        Assert.Equal(SipStatus.Forbidden, response.StatusCode);
        Assert.Equal("Disabled", Assert.Single(_portal.Failures).Reason);
    }

    [Fact]
    public async Task RegisterAsync_ExpiresOutsideTheBounds_IsRefusedOrShortened()
    {
        var client = Client(SipTransportProtocol.Udp);

        var brief = await client.RegisterAsync(30, TestContext.Current.CancellationToken);
        var long1 = await client.RegisterAsync(86_400, TestContext.Current.CancellationToken);

        Assert.Equal(SipStatus.IntervalTooBrief, brief.StatusCode);
        Assert.Equal("60", brief.Headers[SipHeaderNames.MinExpires]);
        Assert.Equal(SipStatus.Ok, long1.StatusCode);
        Assert.Contains("expires=3600", long1.Headers[SipHeaderNames.Contact], StringComparison.Ordinal);
    }

    [Fact]
    public async Task RegisterAsync_ExpiresZero_Unregisters()
    {
        var client = Client(SipTransportProtocol.Tcp);
        await client.RegisterAsync(600, TestContext.Current.CancellationToken);

        var response = await client.RegisterAsync(0, TestContext.Current.CancellationToken);

        Assert.Equal(SipStatus.Ok, response.StatusCode);
        Assert.Null(response.Headers[SipHeaderNames.Contact]);
        Assert.Empty(_portal.Registrar.Bindings.Get(Account, _time.GetUtcNow()));
        Assert.Empty(_portal.Changes.Last().Bindings);
    }

    [Fact]
    public async Task RemoveExpired_AfterExpiry_ReportsTheAccountUnregistered()
    {
        await Client(SipTransportProtocol.Udp).RegisterAsync(120, TestContext.Current.CancellationToken);

        _time.Advance(TimeSpan.FromSeconds(121));

        Assert.Equal(1, _portal.Registrar.RemoveExpired());
        Assert.Empty(_portal.Changes.Last().Bindings);
        Assert.Equal(0, _portal.Registrar.Bindings.AccountCount);
    }

    [Fact]
    public async Task RegisterAsync_AfterTooManyFailures_SourceIsRefusedEvenWithTheRightPassword()
    {
        var wrong = Client(SipTransportProtocol.Udp, "wrong-password");
        for (var i = 0; i < 4; i++)
        {
            Assert.Equal(SipStatus.Forbidden, (await wrong.RegisterAsync(600, TestContext.Current.CancellationToken)).StatusCode);
        }

        var refused = await Client(SipTransportProtocol.Udp).RegisterAsync(600, TestContext.Current.CancellationToken);

        Assert.Equal(SipStatus.Forbidden, refused.StatusCode);
        Assert.Equal("Too many failed attempts", refused.ReasonPhrase);
        Assert.NotNull(refused.Headers[SipHeaderNames.RetryAfter]);
        _time.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal(SipStatus.Ok, (await Client(SipTransportProtocol.Udp).RegisterAsync(600, TestContext.Current.CancellationToken)).StatusCode);
    }

    [Fact]
    public async Task Flood_FromOneSource_IsDroppedUnreadThenServedAgain()
    {
        await using var portal = SipTestNode.Start(_time, options: new SipOptions { MaxRequestsPerSourcePerSecond = 20, SourceBurst = 40 });
        using var flooder = new RawSipPeer(portal.Udp.LocalEndPoint);

        for (var i = 0; i < 1000; i++)
        {
            await flooder.SendAsync(flooder.Probe("z9hG4bKflood" + i));
        }

        await WaitAsync(() => portal.Udp.Dropped + portal.Layer.Received >= 1000);
        Assert.InRange(portal.Layer.Received, 40, 41);
        Assert.True(portal.Udp.Dropped >= 959);
        _time.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(SipStatus.Ok, (await FirstAnswerAsync(flooder, flooder.Probe("z9hG4bKafterflood"), "probe-z9hG4bKafterflood")).StatusCode);
    }

    [Fact]
    public async Task TcpKeepAlive_DoubleCrlf_IsAnsweredWithOneCrlf()
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(_portal.Tcp.LocalEndPoint, TestContext.Current.CancellationToken);
        var stream = tcp.GetStream();

        await stream.WriteAsync("\r\n\r\n"u8.ToArray(), TestContext.Current.CancellationToken);

        var pong = new byte[2];
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        deadline.CancelAfter(TimeSpan.FromSeconds(20)); // no pong is a failure, never a hang
        await stream.ReadExactlyAsync(pong, deadline.Token);
        Assert.Equal("\r\n", Encoding.ASCII.GetString(pong));
    }

    [Fact]
    public async Task Tcp_LineThatIsNotAHeader_Gets400_AndTheConnectionServesTheNextRequest()
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(_portal.Tcp.LocalEndPoint, TestContext.Current.CancellationToken);
        var stream = tcp.GetStream();
        var port = ((IPEndPoint)tcp.Client.LocalEndPoint!).Port;
        string Options(string branch, string extra) => RawSipPeer.Crlf($"""
            OPTIONS sip:portal@portal.test SIP/2.0
            Via: SIP/2.0/TCP 127.0.0.1:{port};branch={branch}
            Max-Forwards: 70
            From: <sip:terminal-00001@portal.test>;tag=f1
            To: <sip:portal@portal.test>
            Call-ID: {branch}@terminal
            {extra}CSeq: 1 OPTIONS
            Content-Length: 0


            """);

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        deadline.CancelAfter(TimeSpan.FromSeconds(20)); // no answer is a failure, never a hang
        var reader = new global::Portal.Media.Core.TextMessageReader(stream);
        await stream.WriteAsync(Encoding.UTF8.GetBytes(Options("z9hG4bKnoheader", "just some words\n")), deadline.Token);
        var refusal = (SipResponse)SipMessage.FromText(await reader.ReadMessageAsync(deadline.Token)).Message!;
        Assert.Equal((400, "Bad Request (line 7 is not a header field)"), (refusal.StatusCode, refusal.ReasonPhrase));

        await stream.WriteAsync(Encoding.UTF8.GetBytes(Options("z9hG4bKafterwards", string.Empty)), deadline.Token);
        var ok = (SipResponse)SipMessage.FromText(await reader.ReadMessageAsync(deadline.Token)).Message!;
        Assert.Equal((200, "z9hG4bKafterwards@terminal"), (ok.StatusCode, ok.CallId));
    }

    [Fact]
    public async Task UdpKeepAlive_StunBindingRequest_GetsTheReflexiveAddress()
    {
        using var udp = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        var request = new byte[20];
        request[1] = 0x01; // Binding request
        request[4] = 0x21; request[5] = 0x12; request[6] = 0xA4; request[7] = 0x42; // magic cookie
        Random.Shared.NextBytes(request.AsSpan(8, 12));

        await udp.SendAsync(request, _portal.Udp.LocalEndPoint, TestContext.Current.CancellationToken);

        var answer = await udp.ReceiveAsync(TestContext.Current.CancellationToken);
        Assert.True(StunMessage.TryParse(answer.Buffer, out var response, out var error), error);
        Assert.Equal(StunMessageType.BindingSuccessResponse, response.Type);
        Assert.Equal(((IPEndPoint)udp.Client.LocalEndPoint!).Port, response.XorMappedAddress!.Port);
    }

    private static async Task<SipResponse> FirstAnswerAsync(RawSipPeer peer, string text, string callId)
    {
        await peer.SendAsync(text);
        while (true)
        {
            var response = await peer.ReceiveAsync() ?? throw new TimeoutException("no answer after the flood");
            if (response.CallId == callId)
            {
                return response;
            }
        }
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
