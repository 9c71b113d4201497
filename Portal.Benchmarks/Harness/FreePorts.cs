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
}
