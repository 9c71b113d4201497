using System.Net;
using System.Net.Sockets;

namespace Portal.Benchmarks.Harness;

/// <summary>Free ports on 127.0.0.1 for the processes and servers the tests and benchmarks start.</summary>
public static class FreePorts
{
    /// <summary>A TCP port nothing listens on now (the OS may hand it out again later; callers bind it at once).</summary>
    public static int Tcp()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>A port free for both UDP and TCP on 127.0.0.1 now (SIP serves both on one number).</summary>
    public static int UdpAndTcp()
    {
        for (var attempt = 0; ; attempt++)
        {
            using var udp = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            udp.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            var port = ((IPEndPoint)udp.LocalEndPoint!).Port;
            using var tcp = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                tcp.Bind(new IPEndPoint(IPAddress.Loopback, port));
                return port;
            }
            catch (SocketException) when (attempt < 20)
            {
            }
        }
    }
}
