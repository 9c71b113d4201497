using System.Net;

namespace Portal.Media.WebRtc;

/// <summary>Settings of the shared WebRTC UDP endpoint; the host fills them from configuration.</summary>
public sealed class WebRtcEndpointOptions
{
    /// <summary>Local address the socket binds to.</summary>
    public IPAddress BindAddress { get; set; } = IPAddress.Any;

    /// <summary>The one UDP port for every session (0 picks a free port, for tests).</summary>
    public int Port { get; set; } = 8555;

    /// <summary>
    /// The address put in the host candidate. It is configuration, never discovered: behind NAT or a police
    /// firewall only the operator knows which address browsers can reach.
    /// </summary>
    public IPAddress AnnouncedAddress { get; set; } = IPAddress.Loopback;

    /// <summary>A peer with no valid STUN check for this long is closed (RFC 7675 §5.1 uses 30 s).</summary>
    public TimeSpan ConsentTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Longest a DTLS handshake may take once started.</summary>
    public TimeSpan HandshakeTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Period of RTCP sender reports and of the consent sweep.</summary>
    public TimeSpan RtcpInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Audio encodings we accept, in preference order; the terminals speak G.711.</summary>
    public IReadOnlyList<string> AudioCodecs { get; set; } = ["PCMU", "PCMA"];
}
