using System.Net;
using System.Net.Sockets;
using Xunit;

namespace Portal.Tests.Harness;

/// <summary>The harness's listening ports come from below the ephemeral range, where no outgoing connection can take them, and never twice.</summary>
public sealed class FreePortsTests
{
    [Fact]
    public void Tcp_BelowTheEphemeralRange_AndFree()
    {
        var ephemeralStart = int.Parse(File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range").Split((char[])['\t', ' ', '\n'], StringSplitOptions.RemoveEmptyEntries)[0], System.Globalization.CultureInfo.InvariantCulture);
        var handed = new HashSet<int>();
        for (var i = 0; i < 20; i++)
        {
            var port = FreePorts.Tcp();
            Assert.True(handed.Add(port), $"port {port} handed out twice"); // a portal still starting has not bound its port yet
            Assert.DoesNotContain(port + 1, handed); // nor the port beside one (baresip takes sip_listen + 1 for TLS)
            Assert.DoesNotContain(port - 1, handed);
            Assert.InRange(port, 30_000, ephemeralStart - 1);
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start(); // free when handed out
        }

        var both = FreePorts.UdpAndTcp();
        Assert.InRange(both, 30_000, ephemeralStart - 1);
        using var udp = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        udp.Bind(new IPEndPoint(IPAddress.Loopback, both));
    }
}
