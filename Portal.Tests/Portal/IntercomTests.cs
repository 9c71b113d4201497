using System.Net;
using Dapper;
using Microsoft.Extensions.Logging.Abstractions;
using Portal.Core.Demo;
using Portal.Media.Core;
using Portal.Media.Sip;
using Portal.Media.Sip.Calls;
using Portal.Media.Sip.Transport;
using Portal.Simulator.Terminals;
using Portal.Tests.Media.Sip;
using Xunit;

namespace Portal.Tests.Portal;

/// <summary>
/// The intercom host (issue 11, part b) on real sockets: the shared test portal's SIP port on 127.0.0.1, its demo
/// registry's terminal accounts and passwords, and simulated terminals or hand-written SIP as the other side.
/// Each test owns its terminals: demo schools 302-306 (terminal-00302.. in districts 2-6), which no other test uses.
/// </summary>
[Trait("Category", "Intercom")]
public sealed class IntercomTests(PortalFixture fixture)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("MD5", "terminal-00302")]
    [InlineData("SHA-256", "terminal-00302")]
    public async Task Register_WithEitherDigestAlgorithm_AgainstTheRegistryPassword(string algorithm, string account)
    {
        var portal = await fixture.GetPortalAsync();

        // From an address of its own: the wrong password below counts against its source, not 127.0.0.1's.
        using var peer = new RawSipPeer(new IPEndPoint(IPAddress.Loopback, portal.SipPort), IPAddress.Parse(algorithm == "MD5" ? "127.0.0.3" : "127.0.0.4"));

        var ok = await RegisterAsync(peer, account, DemoCity.DemoSipPassword(account), algorithm, expires: 300);
        Assert.Equal(SipStatus.Ok, ok.StatusCode);
        Assert.Contains($"sip:{account}@{peer.Address}:{peer.Port}", ok.Headers[SipHeaderNames.Contact], StringComparison.Ordinal);

        // The same account with a wrong password never registers.
        var wrong = await RegisterAsync(peer, account, "not-the-password", algorithm, expires: 300);
        Assert.Equal(SipStatus.Forbidden, wrong.StatusCode);

        // Unregister: the binding goes (the answer lists no Contact).
        var gone = await RegisterAsync(peer, account, DemoCity.DemoSipPassword(account), algorithm, expires: 0);
        Assert.Equal(SipStatus.Ok, gone.StatusCode);
        Assert.Null(gone.Headers[SipHeaderNames.Contact]);
    }

    [Fact]
    public async Task Register_UnknownAccount_IsRefused()
    {
        var portal = await fixture.GetPortalAsync();
        using var peer = new RawSipPeer(new IPEndPoint(IPAddress.Loopback, portal.SipPort), IPAddress.Parse("127.0.0.5"));
        Assert.Equal(SipStatus.Forbidden, (await RegisterAsync(peer, "terminal-99998", DemoCity.DemoSipPassword("terminal-99998"), "MD5", 300)).StatusCode);
    }

    [Fact]
    public async Task Press_CommitsTheAlarmBefore180_HangUpKeepsIt_PressAgainJoins_SecondCallWhileUpIsBusy()
    {
        const string Account = "terminal-00303";
        var portal = await fixture.GetPortalAsync();
        var deviceId = await DeviceIdAsync(portal, Account);
        await using var fleet = StartFleet(portal);
        var terminal = fleet.Get(Account, DemoCity.DemoSipPassword(Account));
        Assert.Equal(SipStatus.Ok, (await terminal.RegisterAsync(300, Ct)).StatusCode);

        // First press: when 180 Ringing reaches the terminal, the alarm is already in the database.
        var (first, firstAtRinging) = await RingAsync(portal, fleet, Account, deviceId);
        Assert.NotNull(firstAtRinging);
        await using (var connection = portal.Db.Open())
        {
            var alarm = await connection.QuerySingleAsync<(int Source, int State, int SignalCount)>("SELECT Source, State, SignalCount FROM Alarm WHERE Id = @firstAtRinging", new { firstAtRinging });
            Assert.Equal((0, 0, 1), alarm); // SIP, ringing, one press
        }

        // While that call rings, a second call from the same terminal is busy (486); its press still joined the alarm.
        var busy = await fleet.Agent.CallAsync(AlarmNumber(portal), fleet.Portal, (Account, DemoCity.DemoSipPassword(Account)), sendVideo: true, cancellationToken: Ct);
        Assert.Equal(SipStatus.BusyHere, busy.Status);

        // The guard hangs up (CANCEL): 487, and the alarm stays open.
        Assert.Equal(487, (await first.HangUpAsync()).Status);
        await using (var connection = portal.Db.Open())
        {
            Assert.Equal(0, await connection.ExecuteScalarAsync<int>("SELECT State FROM Alarm WHERE Id = @firstAtRinging", new { firstAtRinging }));
        }

        // Pressing again while the alarm is open joins it: same alarm, more signals, still one open alarm for the device.
        var (second, secondAtRinging) = await RingAsync(portal, fleet, Account, deviceId);
        Assert.Equal(firstAtRinging, secondAtRinging);
        Assert.Equal(487, (await second.HangUpAsync()).Status);
        await using (var connection = portal.Db.Open())
        {
            Assert.Equal(1, await connection.ExecuteScalarAsync<int>("SELECT COUNT(*) FROM Alarm WHERE DeviceId = @deviceId AND State < 3", new { deviceId }));
            Assert.Equal(3, await connection.ExecuteScalarAsync<int>("SELECT SignalCount FROM Alarm WHERE Id = @firstAtRinging", new { firstAtRinging }));
        }
    }

    [Fact]
    public async Task Press_OtherNumber_404_NoCredentials_407_WrongPassword_403_NoAlarm()
    {
        const string Account = "terminal-00304";
        var portal = await fixture.GetPortalAsync();
        var deviceId = await DeviceIdAsync(portal, Account);
        await using var fleet = StartFleet(portal);

        var other = await fleet.Agent.CallAsync(new SipUri("127.0.0.1", "119", portal.SipPort), fleet.Portal, (Account, DemoCity.DemoSipPassword(Account)), sendVideo: true, cancellationToken: Ct);
        Assert.Equal(SipStatus.NotFound, other.Status);

        var anonymous = await fleet.Agent.CallAsync(AlarmNumber(portal), fleet.Portal, credentials: null, sendVideo: true, cancellationToken: Ct);
        Assert.Equal(SipStatus.ProxyAuthenticationRequired, anonymous.Status);

        var wrong = await fleet.Agent.CallAsync(AlarmNumber(portal), fleet.Portal, (Account, "not-the-password"), sendVideo: true, cancellationToken: Ct);
        Assert.Equal(SipStatus.Forbidden, wrong.Status);

        await using var connection = portal.Db.Open();
        Assert.Equal(0, await connection.ExecuteScalarAsync<int>("SELECT COUNT(*) FROM Alarm WHERE DeviceId = @deviceId", new { deviceId }));
    }

    [Fact]
    public async Task Press_NoCodecInCommon_488_ButTheAlarmIsRaised()
    {
        const string Account = "terminal-00305";
        var portal = await fixture.GetPortalAsync();
        var deviceId = await DeviceIdAsync(portal, Account);
        using var peer = new RawSipPeer(new IPEndPoint(IPAddress.Loopback, portal.SipPort));
        var uri = $"sip:110@127.0.0.1:{portal.SipPort}";
        string Invite(int cseq, string branch, string? authorization) => $"""
            INVITE {uri} SIP/2.0
            Via: SIP/2.0/UDP 127.0.0.1:{peer.Port};branch={branch}
            Max-Forwards: 70
            From: <sip:{Account}@portal>;tag=g729
            To: <sip:110@portal>
            Call-ID: g729-only-{Account}
            CSeq: {cseq} INVITE
            Contact: <sip:{Account}@127.0.0.1:{peer.Port}>
            {(authorization is null ? string.Empty : "Proxy-Authorization: " + authorization + "\n")}Content-Type: application/sdp
            Content-Length: {G729Offer.Length}

            {G729Offer}
            """;

        var challenge = await peer.AskAsync(Invite(1, "z9hG4bKg729a", null));
        Assert.Equal(SipStatus.ProxyAuthenticationRequired, challenge.StatusCode);
        await peer.SendAsync(Ack(peer, uri, Account, "z9hG4bKg729a", 1));
        var parameters = HttpDigest.ParseParameters(challenge.Headers.GetAll(SipHeaderNames.ProxyAuthenticate).First());
        var authorization = HttpDigest.BuildAuthorization(parameters, Account, DemoCity.DemoSipPassword(Account), "INVITE", uri, 1);

        var refused = await peer.AskAsync(Invite(2, "z9hG4bKg729b", authorization));
        Assert.Equal(SipStatus.NotAcceptableHere, refused.StatusCode);
        await peer.SendAsync(Ack(peer, uri, Account, "z9hG4bKg729b", 2));

        // The press is the alarm; only the talk is impossible.
        await using var connection = portal.Db.Open();
        Assert.Equal(1, await connection.ExecuteScalarAsync<int>("SELECT COUNT(*) FROM Alarm WHERE DeviceId = @deviceId AND State < 3 AND Source = 0", new { deviceId }));
    }

    [Fact]
    public async Task FailedAuthentications_FromAStranger_AreThrottled_TheTerminalStillRegisters()
    {
        const string Account = "terminal-00306";
        var portal = await fixture.GetPortalAsync();

        // A stranger of its own (127.0.0.2) guesses passwords: after the limit even the right one is refused from there.
        using var stranger = new RawSipPeer(new IPEndPoint(IPAddress.Loopback, portal.SipPort), IPAddress.Parse("127.0.0.2"));
        for (var i = 0; i < 10; i++)
        {
            Assert.Equal(SipStatus.Forbidden, (await RegisterAsync(stranger, Account, "guess-" + i, "MD5", 300)).StatusCode);
        }

        var throttled = await RegisterAsync(stranger, Account, DemoCity.DemoSipPassword(Account), "MD5", 300);
        Assert.Equal(SipStatus.Forbidden, throttled.StatusCode);
        Assert.Equal("60", throttled.Headers[SipHeaderNames.RetryAfter]);

        // The real terminal, from its own address, is not locked out by the stranger.
        await using var fleet = StartFleet(portal);
        Assert.Equal(SipStatus.Ok, (await fleet.Get(Account, DemoCity.DemoSipPassword(Account)).RegisterAsync(300, Ct)).StatusCode);

        // The refusals are counted per minute, source and reason (flushed every few seconds: wait for them); no row
        // per refusal, and nothing of the account or its password.
        var counted = new Dictionary<string, long>();
        for (var clock = System.Diagnostics.Stopwatch.StartNew(); counted.GetValueOrDefault("SipBadCredentials") < 10 || !counted.ContainsKey("SipThrottled"); await Task.Delay(200, Ct))
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), "the SIP refusals were not counted");
            await using var connection = portal.Db.Open();
            counted = (await connection.QueryAsync<(string Reason, long Requests)>("SELECT Reason, SUM(Requests) FROM DeviceRefusalCount WHERE RemoteAddress = '127.0.0.2' GROUP BY Reason"))
                .ToDictionary(r => r.Reason, r => r.Requests);
        }

        Assert.Equal(10, counted["SipBadCredentials"]);
        await using (var connection = portal.Db.Open())
        {
            Assert.Equal(0L, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM SecurityLog WHERE RemoteAddress = '127.0.0.2'"));
        }
    }

    private const string G729Offer = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 18\r\na=rtpmap:18 G729/8000\r\n";

    private static SipUri AlarmNumber(PortalProcess portal) => new("127.0.0.1", "110", portal.SipPort);

    private static SimulatedTerminalFleet StartFleet(PortalProcess portal) =>
        SimulatedTerminalFleet.Start(new SipEndPoint(SipTransportProtocol.Udp, new IPEndPoint(IPAddress.Loopback, portal.SipPort)), NullLoggerFactory.Instance);

    private static async Task<int> DeviceIdAsync(PortalProcess portal, string account)
    {
        await using var connection = portal.Db.Open();
        return await connection.QuerySingleAsync<int>("SELECT Id FROM Device WHERE SipAccount = @account", new { account });
    }

    /// <summary>A press that rings: returns its hang-up and the open alarm of the device as the database held it when 180 arrived.</summary>
    private static async Task<(PressInProgress Press, long? AlarmAtRinging)> RingAsync(PortalProcess portal, SimulatedTerminalFleet fleet, string account, int deviceId)
    {
        var rung = new TaskCompletionSource<long?>(TaskCreationOptions.RunContinuationsAsynchronously);
        var hangUp = new CancellationTokenSource();
        var call = fleet.Agent.CallAsync(AlarmNumber(portal), fleet.Portal, (account, DemoCity.DemoSipPassword(account)), onRinging: _ =>
        {
            using var connection = portal.Db.Open();
            rung.TrySetResult(connection.ExecuteScalar<long?>("SELECT Id FROM Alarm WHERE DeviceId = @deviceId AND State < 3", new { deviceId }));
        }, sendVideo: true, cancellationToken: hangUp.Token);
        var first = await Task.WhenAny(rung.Task, call);
        if (first == call)
        {
            Assert.Fail($"The press ended before ringing: {(await call).Status} {(await call).Reason}");
        }

        return (new PressInProgress(call, hangUp), await rung.Task);
    }

    private static async Task<SipResponse> RegisterAsync(RawSipPeer peer, string account, string password, string algorithm, int expires)
    {
        var callId = "reg-" + Guid.NewGuid().ToString("N");
        string Register(int cseq, string? authorization) => $"""
            REGISTER sip:portal SIP/2.0
            Via: SIP/2.0/UDP {peer.Address}:{peer.Port};branch=z9hG4bK{Guid.NewGuid():N}
            Max-Forwards: 70
            From: <sip:{account}@portal>;tag=r{cseq}
            To: <sip:{account}@portal>
            Call-ID: {callId}
            CSeq: {cseq} REGISTER
            Contact: <sip:{account}@{peer.Address}:{peer.Port}>
            Expires: {expires}
            {(authorization is null ? string.Empty : "Authorization: " + authorization + "\n")}Content-Length: 0


            """;

        var challenge = await peer.AskAsync(Register(1, null));
        if (challenge.StatusCode != SipStatus.Unauthorized)
        {
            return challenge;
        }

        var offered = challenge.Headers.GetAll(SipHeaderNames.WwwAuthenticate).Select(HttpDigest.ParseParameters)
            .First(p => string.Equals(p.GetValueOrDefault("algorithm") ?? "MD5", algorithm, StringComparison.OrdinalIgnoreCase));
        return await peer.AskAsync(Register(2, HttpDigest.BuildAuthorization(offered, account, password, "REGISTER", "sip:portal", 1)));
    }

    private static string Ack(RawSipPeer peer, string uri, string account, string branch, int cseq) => $"""
        ACK {uri} SIP/2.0
        Via: SIP/2.0/UDP 127.0.0.1:{peer.Port};branch={branch}
        Max-Forwards: 70
        From: <sip:{account}@portal>;tag=g729
        To: <sip:110@portal>
        Call-ID: g729-only-{account}
        CSeq: {cseq} ACK
        Content-Length: 0


        """;

    /// <summary>A ringing press and the CANCEL that ends it.</summary>
    private sealed class PressInProgress(Task<SipCallResult> call, CancellationTokenSource hangUp)
    {
        public async Task<SipCallResult> HangUpAsync()
        {
            await hangUp.CancelAsync();
            var result = await call;
            hangUp.Dispose();
            return result;
        }
    }
}
