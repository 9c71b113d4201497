using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;

namespace Portal.Hosting;

/// <summary>
/// A start on a port another program holds (a second portal, a stale one) ends with one clear line and exit code
/// <see cref="ExitCode"/> instead of an unhandled exception and an abort.
/// </summary>
public static class PortInUse
{
    /// <summary>sysexits.h EX_UNAVAILABLE: a service the program needs (here: its port) is not available.</summary>
    public const int ExitCode = 69;

    /// <summary>The message for a start that failed because a port is taken, or null for any other failure.</summary>
    public static string? Describe(Exception exception, string? urls, int webRtcPort)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is AddressInUseException)
            {
                return $"Cannot start: the web address {urls ?? "(default)"} is already in use by another program (another portal?). "
                    + "Stop it, or start this one elsewhere, e.g. --urls http://127.0.0.1:5081.";
            }

            if (e is SocketException { SocketErrorCode: SocketError.AddressAlreadyInUse })
            {
                return $"Cannot start: a port is already in use by another program (another portal?), e.g. the WebRTC UDP port {webRtcPort}. "
                    + "Stop it, or choose other ports (--urls, --Portal:WebRtcPort).";
            }
        }

        return null;
    }
}
