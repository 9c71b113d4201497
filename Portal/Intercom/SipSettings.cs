namespace Portal.Intercom;

/// <summary>The "Portal:Sip" settings: where terminals register and call, and the bounds the registrar keeps.</summary>
public sealed class SipSettings
{
    public bool Enabled { get; set; } = true;

    /// <summary>The local address SIP (UDP and TCP) and call RTP bind to; terminals in the schools reach it.</summary>
    public string BindAddress { get; set; } = "0.0.0.0";

    /// <summary>UDP and TCP port (5060 is SIP's); 0 picks a free one (tests, benchmarks).</summary>
    public int Port { get; set; } = 5060;

    /// <summary>The address put in Via, Contact and SDP when the bound one is not what terminals reach (NAT, several interfaces).</summary>
    public string? AdvertisedAddress { get; set; }

    /// <summary>The number a terminal dials to raise its alarm; calls to other numbers get 404.</summary>
    public string AlarmNumber { get; set; } = "110";

    /// <summary>The digest realm terminals are configured with.</summary>
    public string Realm { get; set; } = "portal";

    /// <summary>Digest algorithms offered, preferred first (RFC 8760): "SHA-256,MD5"; "MD5" for terminals that take the first challenge blindly.</summary>
    public string DigestAlgorithms { get; set; } = "SHA-256,MD5";

    public int MinExpires { get; set; } = 60;

    public int MaxExpires { get; set; } = 3600;

    /// <summary>Requests per second one source address may send (0: no limit); the rest are dropped unread.</summary>
    public double MaxRequestsPerSourcePerSecond { get; set; } = 200;

    public double SourceBurst { get; set; } = 400;

    /// <summary>Failed authentications from one address per minute before it is refused.</summary>
    public int MaxFailuresPerSource { get; set; } = 10;

    /// <summary>Failed authentications of one account per minute, from addresses other than its own, before those are refused.</summary>
    public int MaxFailuresPerAccount { get; set; } = 20;

    /// <summary>Call RTP ports (even, RTCP above); 0 and 0 take any free pair.</summary>
    public int RtpPortMin { get; set; } = 20000;

    public int RtpPortMax { get; set; } = 29999;

    /// <summary>An unanswered call from a terminal ends after this; its alarm stays open.</summary>
    public int MaxRingSeconds { get; set; } = 600;

    /// <summary>Demo mode: how many demo terminals register at start (the others register when pressed).</summary>
    public int DemoTerminals { get; set; } = 20;
}
