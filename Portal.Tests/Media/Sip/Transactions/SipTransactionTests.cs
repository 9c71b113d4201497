using System.Text;
using Microsoft.Extensions.Time.Testing;
using Portal.Media.Sip;
using Portal.Media.Sip.Calls;
using Portal.Media.Sip.Headers;
using Portal.Media.Sip.Transport;
using Xunit;

namespace Portal.Tests.Media.Sip.Transactions;

/// <summary>RFC 3261 §17 timers and matching, over real UDP with a fake clock driving the timers.</summary>
[Trait("Category", "Integration")]
public sealed class SipTransactionTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 2, 8, 0, 0, TimeSpan.Zero));
    private SipTestNode _node = null!;
    private RawSipPeer _peer = null!;

    public ValueTask InitializeAsync()
    {
        _node = SipTestNode.Start(_time).WithAccount("terminal-00001", "right-password");
        _peer = new RawSipPeer(_node.Udp.LocalEndPoint);
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        _peer.Dispose();
        await _node.DisposeAsync();
    }

    [Fact]
    public async Task ServerNonInvite_RetransmittedRequest_GetsTheSameAnswerAgain()
    {
        var first = await _peer.AskAsync(_peer.Probe("z9hG4bKretx"));
        var again = await _peer.AskAsync(_peer.Probe("z9hG4bKretx"));

        Assert.Equal(first.ToString(), again.ToString());
        Assert.Equal(1, _node.Layer.ServerTransactionCount);
        _time.Advance(_node.Layer.Timers.Timeout); // Timer J
        Assert.Equal(0, _node.Layer.ServerTransactionCount);
    }

    [Fact]
    public async Task ServerNonInvite_OverTcp_EndsWithItsAnswer()
    {
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(_node.Tcp.LocalEndPoint, TestContext.Current.CancellationToken);
        var stream = tcp.GetStream();
        var port = ((System.Net.IPEndPoint)tcp.Client.LocalEndPoint!).Port;
        var options = RawSipPeer.Crlf($"""
            OPTIONS sip:portal@portal.test SIP/2.0
            Via: SIP/2.0/TCP 127.0.0.1:{port};branch=z9hG4bKtcpj
            Max-Forwards: 70
            From: <sip:terminal-00001@portal.test>;tag=f1
            To: <sip:portal@portal.test>
            Call-ID: tcpj@terminal
            CSeq: 1 OPTIONS
            Content-Length: 0


            """);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        deadline.CancelAfter(TimeSpan.FromSeconds(20)); // no answer is a failure, never a hang

        await stream.WriteAsync(Encoding.UTF8.GetBytes(options), deadline.Token);
        var answer = (SipResponse)SipMessage.FromText(await new global::Portal.Media.Core.TextMessageReader(stream).ReadMessageAsync(deadline.Token)).Message!;

        Assert.Equal(SipStatus.Ok, answer.StatusCode);
        Assert.Equal(0, _node.Layer.ServerTransactionCount); // Timer J is 0 on a reliable transport (RFC 3261 §17.2.2)
    }

    [Fact]
    public async Task ServerInvite_FinalError_RetransmittedUntilAck()
    {
        var invite = Invite("z9hG4bKinv1");
        var challenge = await _peer.AskAsync(invite);
        Assert.Equal(SipStatus.ProxyAuthenticationRequired, challenge.StatusCode);

        _time.Advance(_node.Layer.Timers.T1); // Timer G
        Assert.Equal(challenge.ToString(), (await _peer.ReceiveAsync())!.ToString());
        _time.Advance(_node.Layer.Timers.T1 * 2);
        Assert.Equal(challenge.ToString(), (await _peer.ReceiveAsync())!.ToString());

        await _peer.SendAsync(Ack("z9hG4bKinv1", challenge.To!.Tag!));
        await _peer.SendAsync(_peer.Probe("z9hG4bKafterack")); // the ACK is processed before this on the one receive loop
        Assert.Equal("probe-z9hG4bKafterack", (await _peer.ReceiveAsync())!.CallId);
        _time.Advance(_node.Layer.Timers.T2 * 2);
        await _peer.SendAsync(_peer.Probe("z9hG4bKafterack2"));
        Assert.Equal("probe-z9hG4bKafterack2", (await _peer.ReceiveAsync())!.CallId); // no 407 in between
    }

    [Fact]
    public async Task ClientNonInvite_NoAnswer_RetransmitsThenTimesOutWith408()
    {
        var target = new SipEndPoint(SipTransportProtocol.Udp, new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, _peer.Port));
        var request = SipRequest.Create(SipMethods.Options, new SipUri("127.0.0.1", "terminal"), new SipNameAddressHeader(new SipUri("portal.test", "portal")) { Tag = "a" },
            new SipNameAddressHeader(new SipUri("127.0.0.1", "terminal")), "c1", 1);

        var transaction = _node.Layer.SendRequest(request, target);

        var sent = Encoding.UTF8.GetString(await _peer.ReceiveBytesAsync());
        _time.Advance(_node.Layer.Timers.T1); // Timer E
        Assert.Equal(sent, Encoding.UTF8.GetString(await _peer.ReceiveBytesAsync()));
        _time.Advance(_node.Layer.Timers.T1 * 2);
        Assert.Equal(sent, Encoding.UTF8.GetString(await _peer.ReceiveBytesAsync()));
        Assert.False(transaction.Completion.IsCompleted);
        _time.Advance(_node.Layer.Timers.Timeout); // Timer F
        Assert.Equal(SipStatus.RequestTimeout, (await transaction.Completion).StatusCode);
    }

    [Fact]
    public async Task ClientInvite_FailureAnswer_IsAcknowledgedByTheTransaction()
    {
        var target = new SipEndPoint(SipTransportProtocol.Udp, new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, _peer.Port));
        var call = _node.Agent.CallAsync(new SipUri("127.0.0.1", "terminal", _peer.Port), target, cancellationToken: TestContext.Current.CancellationToken);
        var invite = (SipRequest)SipMessage.Parse(await _peer.ReceiveBytesAsync()).Message!;
        var busy = SipResponse.CreateFor(invite, SipStatus.BusyHere);
        busy.Headers.Set(SipHeaderNames.To, invite.Headers[SipHeaderNames.To] + ";tag=busy1");

        await _peer.SendAsync(busy.ToBytes());

        var ack = (SipRequest)SipMessage.Parse(await _peer.ReceiveBytesAsync()).Message!;
        Assert.Equal(SipMethods.Ack, ack.Method);
        Assert.Equal(invite.TopVia!.Branch, ack.TopVia!.Branch); // RFC 3261 §17.1.1.3: same branch for a non-2xx ACK
        Assert.Equal("busy1", ack.To!.Tag);
        Assert.Equal(SipStatus.BusyHere, (await call).Status);
    }

    [Fact]
    public async Task Cancel_RingingInvite_Gets200And487()
    {
        await using var terminal = SipTestNode.Start(_time, authenticateIncoming: false);
        terminal.Agent.IncomingCall = (_, _) => Task.FromResult(SipCallDecision.Ring);
        using var caller = new RawSipPeer(terminal.Udp.LocalEndPoint);
        var invite = Invite("z9hG4bKcancel1", caller.Port, withSdp: true);
        await caller.SendAsync(invite);
        var ringing = await NextAsync(caller, 180);

        await caller.SendAsync(Cancel("z9hG4bKcancel1", caller.Port));

        var answers = new[] { await NextAsync(caller, 0), await NextAsync(caller, 0) };
        Assert.Contains(answers, r => r.StatusCode == 200 && r.CSeq!.Method == SipMethods.Cancel);
        Assert.Contains(answers, r => r.StatusCode == 487 && r.CSeq!.Method == SipMethods.Invite && r.To!.Tag == ringing.To!.Tag);
    }

    private static async Task<SipResponse> NextAsync(RawSipPeer peer, int status)
    {
        while (true)
        {
            var response = await peer.ReceiveAsync() ?? throw new TimeoutException("no " + status);
            if (status == 0 ? response.StatusCode >= 200 : response.StatusCode == status)
            {
                return response;
            }
        }
    }

    private string Invite(string branch, int? port = null, bool withSdp = false)
    {
        var sdp = RawSipPeer.Crlf("""
            v=0
            o=- 1 1 IN IP4 127.0.0.1
            s=-
            c=IN IP4 127.0.0.1
            t=0 0
            m=audio 40000 RTP/AVP 0
            a=rtpmap:0 PCMU/8000

            """);
        var port1 = port ?? _peer.Port;
        return RawSipPeer.Crlf($"""
            INVITE sip:110@127.0.0.1 SIP/2.0
            Via: SIP/2.0/UDP 127.0.0.1:{port1};branch={branch}
            Max-Forwards: 70
            From: <sip:terminal-00001@portal.test>;tag=f-{branch}
            To: <sip:110@portal.test>
            Call-ID: {branch}@terminal
            CSeq: 1 INVITE
            Contact: <sip:terminal-00001@127.0.0.1:{port1}>
            {(withSdp ? "Content-Type: application/sdp\n" : string.Empty)}Content-Length: {(withSdp ? sdp.Length : 0)}


            """) + (withSdp ? sdp : string.Empty);
    }

    private static string Cancel(string branch, int port) => $"""
        CANCEL sip:110@127.0.0.1 SIP/2.0
        Via: SIP/2.0/UDP 127.0.0.1:{port};branch={branch}
        Max-Forwards: 70
        From: <sip:terminal-00001@portal.test>;tag=f-{branch}
        To: <sip:110@portal.test>
        Call-ID: {branch}@terminal
        CSeq: 1 CANCEL
        Content-Length: 0


        """;

    private string Ack(string branch, string toTag) => $"""
        ACK sip:110@127.0.0.1 SIP/2.0
        Via: SIP/2.0/UDP 127.0.0.1:{_peer.Port};branch={branch}
        Max-Forwards: 70
        From: <sip:terminal-00001@portal.test>;tag=f-{branch}
        To: <sip:110@portal.test>;tag={toTag}
        Call-ID: {branch}@terminal
        CSeq: 1 ACK
        Content-Length: 0


        """;
}
