using System.Net;
using System.Net.Sockets;
using Portal.Media.Sip;
using Portal.Media.Sip.Transport;
using Xunit;

namespace Portal.Tests.Media.Sip.Calls;

/// <summary>The health checks' OPTIONS ping (issue 12) over real UDP and TCP on 127.0.0.1.</summary>
[Trait("Category", "Integration")]
public sealed class SipPingTests
{
    [Theory]
    [InlineData(SipTransportProtocol.Udp)]
    [InlineData(SipTransportProtocol.Tcp)]
    public async Task Ping_TerminalThere_AnswersWithItsTag(SipTransportProtocol protocol)
    {
        await using var portal = SipTestNode.Start();
        await using var terminal = SipTestNode.Start(authenticateIncoming: false);
        var flow = protocol == SipTransportProtocol.Udp ? terminal.UdpEndPoint : terminal.TcpEndPoint;

        var answer = await portal.Agent.PingAsync(new SipUri("127.0.0.1", "terminal-00001", flow.Address.Port), flow, TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);

        Assert.NotNull(answer);
        Assert.Equal(SipStatus.Ok, answer.StatusCode);
    }

    [Fact]
    public async Task Ping_NothingAnswers_IsNullAfterTheTimeout()
    {
        await using var portal = SipTestNode.Start();
        using var silent = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0)); // takes the datagrams, never answers
        var port = ((IPEndPoint)silent.Client.LocalEndPoint!).Port;
        var flow = new SipEndPoint(SipTransportProtocol.Udp, new IPEndPoint(IPAddress.Loopback, port));

        var answer = await portal.Agent.PingAsync(new SipUri("127.0.0.1", "terminal-00001", port), flow, TimeSpan.FromMilliseconds(700), TestContext.Current.CancellationToken);

        Assert.Null(answer);
        var received = await silent.ReceiveAsync(TestContext.Current.CancellationToken);
        Assert.StartsWith("OPTIONS sip:terminal-00001@127.0.0.1", System.Text.Encoding.UTF8.GetString(received.Buffer), StringComparison.Ordinal);
    }
}
