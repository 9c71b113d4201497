using System.Net;
using System.Net.Sockets;

namespace Portal.Benchmarks.Harness;

/// <summary>
/// Free ports on 127.0.0.1 for the processes and servers the tests and benchmarks start. They are taken below the
/// system's ephemeral range (Linux: /proc/sys/net/ipv4/ip_local_port_range, 32768-60999 by default), where no outgoing
/// connection is ever given a local port: a port asked of the system (bind to 0) comes from that range, and between
/// the ask and the server's own bind, a connection the starting portal made itself (to a demo camera) once took it
/// ("the web address is already in use").
/// </summary>
public static class FreePorts
{
    // Above the SIP media ports (Portal:Sip:RtpPortMin-Max, 20000-29999 by default), below the ephemeral range.
    private const int Lowest = 30_000;

    /// <summary>A TCP port nothing listens on now (another process may still take it; callers bind it at once).</summary>
    public static int Tcp()
    {
        for (var attempt = 0; attempt < 200; attempt++)
        {
            var port = Candidate();
            try
            {
                using var listener = new TcpListener(IPAddress.Loopback, port);
                listener.Start();
                return port;
            }
            catch (SocketException)
            {
            }
        }

        using var any = new TcpListener(IPAddress.Loopback, 0);
        any.Start();
        return ((IPEndPoint)any.LocalEndpoint).Port;
    }

    /// <summary>A port free for both UDP and TCP on 127.0.0.1 now (SIP serves both on one number).</summary>
    public static int UdpAndTcp()
    {
        for (var attempt = 0; ; attempt++)
        {
            var port = Candidate();
            using var udp = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            using var tcp = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                udp.Bind(new IPEndPoint(IPAddress.Loopback, port));
                tcp.Bind(new IPEndPoint(IPAddress.Loopback, port));
                return port;
            }
            catch (SocketException) when (attempt < 200)
            {
            }
        }
    }

    /// <summary>
    /// The next port between <see cref="Lowest"/> and the start of the ephemeral range, in turn from a random start: a
    /// process never hands out one port twice before it has gone round them all (about 690). Drawn at random, two callers
    /// could get the same free port while the first one's portal was still starting, seconds before it binds. Ports are
    /// <see cref="Stride"/> apart, as servers take the ports next to theirs: baresip listens for SIP over TLS on its
    /// sip_listen port + 1, which was the ctrl_tcp port handed out just after it.
    /// </summary>
    private static int Candidate() => Lowest + (int)((uint)Interlocked.Increment(ref _next) * Stride % (uint)(EphemeralStart - Lowest));

    private const uint Stride = 4;

    private static readonly int EphemeralStart = ReadEphemeralStart();

    private static int _next = Random.Shared.Next(0, EphemeralStart - Lowest);

    private static int ReadEphemeralStart()
    {
        try
        {
            var range = File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range").Split((char[])['\t', ' ', '\n'], StringSplitOptions.RemoveEmptyEntries);
            if (int.TryParse(range[0], out var start) && start > Lowest + 1000)
            {
                return start;
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or IndexOutOfRangeException)
        {
        }

        return 32_768;
    }
}
