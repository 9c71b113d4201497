namespace Portal.Simulator.Cameras;

/// <summary>How a simulated gate camera listens and behaves. Ports 0 pick free ones (tests, demo mode).</summary>
public sealed record SimulatedCameraOptions
{
    public string Host { get; init; } = "127.0.0.1";

    public int RtspPort { get; init; }

    public int OnvifPort { get; init; }

    public string Path { get; init; } = "/Streaming/Channels/101";

    /// <summary>Null turns authentication off (RTSP and ONVIF).</summary>
    public string? Username { get; init; } = "admin";

    public string? Password { get; init; } = "gate-cam-1";

    public bool AllowUdp { get; init; } = true;

    /// <summary>False sends SPS/PPS only in the SDP, as some cameras do.</summary>
    public bool InBandParameterSets { get; init; } = true;

    /// <summary>True starts each session where the loop is "now" (mid-GOP, like a live camera); false at frame 0.</summary>
    public bool StartAtLiveEdge { get; init; } = true;

    /// <summary>Starts each session at this frame of the clip (a test's certain mid-GOP start); overrides <see cref="StartAtLiveEdge"/>.</summary>
    public int? StartFrame { get; init; }

    public int SessionTimeoutSeconds { get; init; } = 60;

    /// <summary>
    /// Serve many cameras, each under its own first path segment (<see cref="SimulatedCameraFleet"/>), instead of one camera
    /// at <see cref="Path"/>; null serves the one camera.
    /// </summary>
    public SimulatedCameraFleet? Fleet { get; init; }

    /// <summary>
    /// True (a good camera) answers RTCP PLI and FIR about its stream, on the interleaved channel or its UDP RTCP port,
    /// by jumping to the clip's next IDR at the next frame; false ignores them, as many cameras do.
    /// </summary>
    public bool HonourRtcpKeyframeRequests { get; init; } = true;

    /// <summary>
    /// True gives every connection a Digest nonce of its own, as some cameras do (a client's remembered challenge is then
    /// always answered by a 401 with a new nonce); false (the default, as most cameras) keeps one nonce for all connections
    /// for <see cref="NonceLifetime"/>, after which a request with the old one gets a 401 with stale=true and the new one.
    /// </summary>
    public bool NoncePerConnection { get; init; }

    /// <summary>How long the camera's shared Digest nonce is accepted (<see cref="NoncePerConnection"/> false).</summary>
    public TimeSpan NonceLifetime { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>The H.264 clip to loop at 25 fps; null is the embedded gate clip (the media benchmark passes a 4 Mbps one).</summary>
    public GateClip? Clip { get; init; }
}
