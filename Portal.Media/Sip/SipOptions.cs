using System.Net;
using Portal.Media.Sip.Transactions;

namespace Portal.Media.Sip;

/// <summary>Settings of a <see cref="SipTransactionLayer"/>; the host fills them from configuration, tests shrink the timers.</summary>
public sealed class SipOptions
{
    public SipTimers Timers { get; set; } = SipTimers.Default;

    public SipCapabilities Capabilities { get; set; } = SipCapabilities.Default;

    /// <summary>The address put in our Via and Contact. Null: the bound address, or when bound to every interface,
    /// the local address the system routes to the peer from.</summary>
    public IPAddress? AdvertisedAddress { get; set; }

    /// <summary>Messages per second one source address may send (0: no limit); a flood beyond it is dropped unread.</summary>
    public double MaxRequestsPerSourcePerSecond { get; set; } = 200;

    /// <summary>Messages one source may send at once before the rate applies.</summary>
    public double SourceBurst { get; set; } = 400;

    /// <summary>Live transactions beyond which new requests get 503 with Retry-After (RFC 3261 §21.5.4).</summary>
    public int MaxTransactions { get; set; } = 200_000;

    /// <summary>A non-INVITE request the application leaves unanswered this long is forgotten.</summary>
    public TimeSpan UnansweredTimeout { get; set; } = TimeSpan.FromSeconds(32);

    /// <summary>Our Server and User-Agent header (RFC 3261 §20.35, §20.41).</summary>
    public string Product { get; set; } = "SchoolSafetyPortal";
}
