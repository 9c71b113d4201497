using System.Net;
using Portal.Core.Security;

namespace Portal.SignIn;

/// <summary>
/// The "Portal:Security" settings: sign-in strength, session lifetimes, the headers every response carries and
/// the proxies the portal trusts. Lists are comma-separated strings, so they can be set (or emptied) from an
/// environment variable or the command line; a bound list would only ever add to its default.
/// </summary>
public sealed class SecurityOptions
{
    /// <summary>Roles that must sign in with two factors (a user's own RequireTwoFactor flag adds to it); empty for none.</summary>
    public string TwoFactorRoles { get; set; } = string.Join(',', Roles.CityOperator, Roles.DistrictOperator, Roles.Admin);

    /// <summary>Shortest password accepted (a new or changed one; existing ones keep working).</summary>
    public int PasswordMinLength { get; set; } = 12;

    /// <summary>
    /// How often an open session (a page request, an open console's circuit) is checked again against the account:
    /// security stamp, lock-out, disabled flag, role and scope. At most 60, so a locked operator loses access within a minute.
    /// </summary>
    public int SessionRevalidationSeconds { get; set; } = 30;

    /// <summary>A session with no request and no open page for this long ends.</summary>
    public int SessionIdleMinutes { get; set; } = 60;

    /// <summary>A session ends this long after sign-in, however busy (a shift).</summary>
    public int SessionAbsoluteHours { get; set; } = 12;

    /// <summary>Failed sign-ins one address may make before each further attempt must wait.</summary>
    public int LoginFreeAttempts { get; set; } = 5;

    /// <summary>The first wait after the free attempts; each further failure doubles it.</summary>
    public int LoginDelaySeconds { get; set; } = 2;

    /// <summary>The longest wait between two attempts from one address.</summary>
    public int LoginMaxDelaySeconds { get; set; } = 300;

    /// <summary>An address's failures are forgotten after this long without a new one.</summary>
    public int LoginFailureWindowMinutes { get; set; } = 30;

    /// <summary>
    /// An authenticator code is accepted once (RFC 6238 §5.2): a code seen over a shoulder or replayed from a captured
    /// request is refused, and a code older than the last one used too. Null (the default): on, except in demo mode,
    /// whose authenticator keys are published and whose accounts are signed in on many screens at once.
    /// </summary>
    public bool? TotpSingleUse { get; set; }

    /// <summary>Redirect plain HTTP to HTTPS (only where the portal or its proxy serves HTTPS).</summary>
    public bool HttpsRedirection { get; set; }

    /// <summary>Send Strict-Transport-Security on HTTPS responses.</summary>
    public bool Hsts { get; set; }

    public int HstsMaxAgeDays { get; set; } = 365;

    /// <summary>Honour X-Forwarded-For/-Proto/-Host from the proxies below (the client's address reaches the audit).</summary>
    public bool ForwardedHeaders { get; set; } = true;

    /// <summary>Proxy addresses whose forwarded headers are trusted; with neither list set, loopback only (the framework's default).</summary>
    public string KnownProxies { get; set; } = string.Empty;

    /// <summary>Proxy networks in CIDR notation (e.g. 10.1.0.0/16) whose forwarded headers are trusted.</summary>
    public string KnownNetworks { get; set; } = string.Empty;

    /// <summary>How many proxies in a row may add forwarded headers.</summary>
    public int ForwardLimit { get; set; } = 1;

    /// <summary>More sources the pages may load images from (beyond the portal itself and the map tile server).</summary>
    public string ExtraImageSources { get; set; } = string.Empty;

    public TimeSpan RevalidationInterval => TimeSpan.FromSeconds(Math.Clamp(SessionRevalidationSeconds, 1, 60));

    public TimeSpan IdleTimeout => TimeSpan.FromMinutes(Math.Max(1, SessionIdleMinutes));

    public TimeSpan AbsoluteLifetime => TimeSpan.FromHours(Math.Max(1, SessionAbsoluteHours));

    public IReadOnlySet<string> TwoFactorRoleSet => Split(TwoFactorRoles).ToHashSet(StringComparer.Ordinal);

    public IEnumerable<IPAddress> KnownProxyAddresses => Split(KnownProxies).Select(IPAddress.Parse);

    public IEnumerable<System.Net.IPNetwork> KnownProxyNetworks => Split(KnownNetworks).Select(System.Net.IPNetwork.Parse);

    internal static IEnumerable<string> Split(string? list) =>
        (list ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
