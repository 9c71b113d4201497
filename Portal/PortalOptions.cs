namespace Portal;

/// <summary>The "Portal" configuration section (appsettings.json, PORTAL__ environment variables, command line).</summary>
public sealed class PortalOptions
{
    public const string Section = "Portal";

    /// <summary>Where the embedded default keeps its SQLite file, Data Protection keys and uploads.</summary>
    public string DataFolder { get; set; } = "data";

    /// <summary>"Sqlite" (embedded default) or "SqlServer".</summary>
    public string DatabaseEngine { get; set; } = "Sqlite";

    /// <summary>Required for SQL Server; for SQLite defaults to DataFolder/portal.db.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>Seeds the demo city and demo users into an empty database and starts simulated devices.</summary>
    public bool DemoMode { get; set; }

    /// <summary>The address browsers use to reach the portal; the OpenID Connect issuer. Defaults to the first --urls entry.</summary>
    public string? PublicUrl { get; set; }

    /// <summary>A PFX file with the certificate that signs and encrypts tokens. Without it, keys are ephemeral
    /// (fine for one instance; several instances behind a load balancer must share a certificate).</summary>
    public string? TokenCertificatePath { get; set; }

    public string? TokenCertificatePassword { get; set; }

    // Issue 13: a production install (keys shared by instances, credentials, first-run setup).

    /// <summary>
    /// Without a token certificate, the OpenID Connect server's keys live in the database (protected with Data
    /// Protection) and a new pair takes over every this many days; the previous two periods' keys still validate.
    /// </summary>
    public int TokenKeyRotationDays { get; set; } = 90;

    /// <summary>
    /// A PFX whose certificate encrypts the Data Protection keys in the database (they protect every device secret,
    /// TOTP key and session). Without it the keys are stored unencrypted: protect the database and its backups.
    /// </summary>
    public string? DataProtectionCertificatePath { get; set; }

    public string? DataProtectionCertificatePassword { get; set; }

    /// <summary>How long a rotated-out device API key is still accepted, so a terminal being re-keyed misses no alarm.</summary>
    public TimeSpan ApiKeyRotationOverlap { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>How long the first-run setup link printed to the log stays valid.</summary>
    public TimeSpan SetupLinkLifetime { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>
    /// Map tiles for the alarm pop-up, as a URL template with {z}, {x} and {y} (for example the police GIS's
    /// tile server). Without one the pop-up shows a plain schematic with the coordinates.
    /// </summary>
    public string? MapTileUrl { get; set; }

    /// <summary>The contact in the portal's VAPID signature (RFC 8292 §2.1 "sub"): a mailto: or https: address of its operators.</summary>
    public string WebPushSubject { get; set; } = "mailto:admin@localhost";

    /// <summary>How many demo schools to create in demo mode.</summary>
    public int DemoSchoolCount { get; set; } = 420;

    /// <summary>The one UDP port of the WebRTC endpoint (ICE-lite) for every browser session; 0 picks a free one (tests).</summary>
    public int WebRtcPort { get; set; } = 8555;

    /// <summary>The address browsers are told to send media to (the only ICE candidate); what they can reach, not what we bind.</summary>
    public string WebRtcAnnouncedAddress { get; set; } = "127.0.0.1";

    /// <summary>
    /// The local address the WebRTC port binds to. Null binds to every interface, except when the announced
    /// address is loopback: then to loopback, so replies leave from the very address the browser sent to (a socket
    /// on 0.0.0.0 would answer a check from the machine's own LAN address with that address as source, and the
    /// browser drops it). A multi-homed server should set its announced address here too, for the same reason.
    /// </summary>
    public string? WebRtcBindAddress { get; set; }

    /// <summary>STUN/TURN servers handed to the browser's RTCPeerConnection, for consoles behind NAT or a police firewall.</summary>
    public List<IceServerOptions> IceServers { get; set; } = [];

    /// <summary>
    /// Alarm console: the least time between two draws of a board, in ms. A board draws as soon as its browser has
    /// confirmed the last draw; this adds a floor under a flood (fewer, larger draws: less CPU, more latency). See AlarmBoard.
    /// </summary>
    public int ConsoleRenderIntervalMs { get; set; }

    /// <summary>
    /// Nice value of the threads an alarm waits on (the intake's writer and answer threads, the SIP receive thread):
    /// -5 lets them run before the consoles' drawing on a busy server. Below 0 needs CAP_SYS_NICE or LimitNICE; 0 turns it off.
    /// See <see cref="Portal.Core.Threading.OsThreadPriority"/>.
    /// </summary>
    public int AlarmPathNice { get; set; } = -5;

    /// <summary>
    /// Real-time priority (SCHED_RR) of the intake's writer and answer threads, the two every device alarm waits on:
    /// they run before every normal thread. 1 by default; 0 turns it off (they take <see cref="AlarmPathNice"/>). Needs
    /// CAP_SYS_NICE or LimitRTPRIO; refused, they take the nice value and the log says so once.
    /// See <see cref="Portal.Core.Threading.OsThreadPriority.AlarmPathRealtimePriority"/>.
    /// </summary>
    public int AlarmPathRealtimePriority { get; set; } = 1;

    /// <summary>
    /// Nice value of the threads the alarm consoles draw on (the notifier's delivery and the board's redraws after the
    /// browser confirms one): 5 lets every request, above all a device's alarm, run first on a busy server; the consoles
    /// take what is left, which under a flood means fewer, larger draws. 0 turns it off. See <c>ConsoleDrawThread</c>.
    /// </summary>
    public int ConsoleNice { get; set; } = 5;
    /// <summary>The SIP intercom: where alarm terminals register and call (issue 11).</summary>
    public Intercom.SipSettings Sip { get; set; } = new();

    // Gate camera pulls (issue #15): started at alarm intake, kept briefly after the last viewer.

    /// <summary>How long a camera stays pulled after its last viewer (or alarm) let go: a viewer often comes straight back.</summary>
    public int CameraIdleTimeoutSeconds { get; set; } = 30;

    /// <summary>At most this many open alarms have their gate camera pulled ahead of the pop-up (a flood of presses starts no flood of pulls).</summary>
    public int MaxAlarmCameraPulls { get; set; } = 32;

    /// <summary>
    /// Demo mode only: an RTSP URL that stands in for every demo camera instead of the in-process simulated one
    /// (the media benchmark points it at GStreamer's RTSP server).
    /// </summary>
    public string? DemoCameraRtspUrl { get; set; }

    // Gate camera pre-warm (issue #15, item 3): sub-streams kept pulled for schools that ask, bounded city-wide.

    /// <summary>At most this many gate cameras have their sub-stream pre-warmed city-wide; the rest are refused (admin page, log).</summary>
    public int PrewarmMax { get; set; } = 50;

    /// <summary>How often the pre-warmed set is read again (device edits, health changes); a setting change applies at once.</summary>
    public int PrewarmRefreshSeconds { get; set; } = 60;

    /// <summary>Demo mode only: an RTSP URL that stands in for every demo camera's sub-stream (tests, the media benchmark).</summary>
    public string? DemoCameraRtspSubStreamUrl { get; set; }

    /// <summary>
    /// Demo mode only: the RTSP and ONVIF base addresses (<c>rtsp://127.0.0.1:8554</c>, <c>http://127.0.0.1:8080</c>) of a
    /// simulated camera fleet in another process (<c>Portal.Simulator camera --fleet</c>), serving every demo camera on its
    /// own path instead of the in-process fleet (the health benchmark, so the portal's CPU is measured without it).
    /// </summary>
    public string? DemoFleetRtspUrl { get; set; }

    public string? DemoFleetOnvifUrl { get; set; }

    /// <summary>
    /// Per camera model, a keyframe request outside RTSP for models that ignore RTCP PLI/FIR (issue #15), called when a
    /// viewer waits for a keyframe and RTCP went unanswered.
    /// </summary>
    public List<CameraKeyframeHookOptions> CameraKeyframeHooks { get; set; } = [];
    // Issue #14 hardening: sign-in strength, sessions, security headers, proxies ("Portal:Security:...").
    public SignIn.SecurityOptions Security { get; set; } = new();

    /// <summary>
    /// Days the camera audit (views, PTZ, warning light) is kept; at least 180, the six months China's Cybersecurity
    /// Law asks of network logs (article 21).
    /// </summary>
    public int CameraAuditRetentionDays { get; set; } = 365;

    /// <summary>Rate limits of the device API, per source address and per device (README, "Alarms").</summary>
    public Portal.Core.Devices.DeviceRateLimitOptions DeviceRateLimits { get; set; } = new();

    /// <summary>
    /// Diagnostics (issue 15): the device alarm endpoint answers with a Server-Timing header saying where the request's
    /// time went in the portal (see <see cref="Portal.Core.Diagnostics.RequestStamps"/>). Off in production.
    /// </summary>
    public bool DeviceServerTiming { get; set; }

    /// <summary>
    /// The device alarm endpoint's answer is written by the alarm intake's answer thread as soon as the alarm is committed
    /// (issue 15), not by a thread-pool thread queued behind the consoles' renders. False only to compare the two.
    /// </summary>
    public bool DeviceAnswerInline { get; set; } = true;
}

/// <summary>
/// One camera model's keyframe hook ("Portal:CameraKeyframeHooks:N:..."). The request is sent with the camera's own
/// credentials from the device registry; the template must not carry any.
/// </summary>
public sealed class CameraKeyframeHookOptions
{
    /// <summary>The device's model exactly as in the registry (compared ignoring case).</summary>
    public string Model { get; set; } = string.Empty;

    /// <summary>The request's URL, with <c>{host}</c> for the camera's host (from its RTSP URL), e.g. <c>http://{host}/keyframe</c>.</summary>
    public string UrlTemplate { get; set; } = string.Empty;

    /// <summary>HTTP method (PUT, POST or GET).</summary>
    public string Method { get; set; } = "PUT";

    /// <summary><c>Digest</c> (default: answers a Digest challenge only), <c>Basic</c> or <c>None</c>.</summary>
    public Media.Bridges.CameraKeyframeHookAuth Auth { get; set; } = Media.Bridges.CameraKeyframeHookAuth.Digest;

    /// <summary>The hook for a camera at <paramref name="host"/> with its login, or null with the reason when the template is unusable.</summary>
    public Media.Bridges.CameraKeyframeHook? Build(string host, string? username, string? password, out string? problem)
    {
        problem = null;
        if (Method.ToUpperInvariant() is not ("PUT" or "POST" or "GET"))
        {
            problem = "method must be PUT, POST or GET";
            return null;
        }

        if (!Uri.TryCreate(UrlTemplate.Replace("{host}", host, StringComparison.OrdinalIgnoreCase), UriKind.Absolute, out var url)
            || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps))
        {
            problem = "the URL template does not make an http(s) URL";
            return null;
        }

        if (url.UserInfo.Length > 0)
        {
            problem = "the URL template carries credentials; the camera's own are used";
            return null;
        }

        return new Media.Bridges.CameraKeyframeHook(url, Method.ToUpperInvariant(), Auth, username, password);
    }
}

/// <summary>One entry of RTCPeerConnection's iceServers (for example "turn:turn.police.local:3478" with credentials).</summary>
public sealed class IceServerOptions
{
    public List<string> Urls { get; set; } = [];

    public string? Username { get; set; }

    public string? Credential { get; set; }
}
