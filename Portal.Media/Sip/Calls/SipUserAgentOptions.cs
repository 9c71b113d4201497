using System.Net;

namespace Portal.Media.Sip.Calls;

/// <summary>Settings of the <see cref="SipUserAgent"/>; the host fills them from configuration.</summary>
public sealed class SipUserAgentOptions
{
    /// <summary>Where call RTP sockets bind.</summary>
    public IPAddress RtpBindAddress { get; set; } = IPAddress.Any;

    /// <summary>The address our SDP names; null: the SIP layer's advertised or bound address.</summary>
    public IPAddress? RtpAdvertisedAddress { get; set; }

    /// <summary>RTP port range (even ports, RTCP above); 0 and 0 take any free pair (tests).</summary>
    public int RtpPortMin { get; set; } = 20000;

    public int RtpPortMax { get; set; } = 29999;

    /// <summary>Audio encodings in preference order: what the browser side plays without transcoding.</summary>
    public IReadOnlyList<string> AudioCodecs { get; set; } = ["PCMU", "PCMA"];

    /// <summary>Incoming calls must pass digest (407 challenge); the simulated terminal answers the portal's call-backs without.</summary>
    public bool AuthenticateIncoming { get; set; } = true;

    /// <summary>An incoming call nobody answers is ended after this (480); the alarm it raised stays open.</summary>
    public TimeSpan MaxRingTime { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>180 is repeated this often while ringing, so proxies on the way keep the transaction (RFC 3261 §13.3.1.1).</summary>
    public TimeSpan RingRefresh { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Calls at once; more get 486 Busy Here.</summary>
    public int MaxCalls { get; set; } = 500;

    /// <summary>This agent has a camera (a simulated terminal): calls offered to it that want video get H.264 from it (sendonly).</summary>
    public bool SendsVideo { get; set; }

    /// <summary>The user part of our From in call-backs and of our Contact.</summary>
    public string LocalUser { get; set; } = "portal";
}
