using System.Globalization;
using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;
using Portal.Core.Security;
using Portal.Data;
using Portal.Services;

namespace Portal.SignIn;

/// <summary>
/// Server-side sessions behind the two cookies (the portal's and the sign-in server's). A session begins with a row
/// (<see cref="UserSessionRepository"/>) whose id the cookie carries; every request and every open circuit checks it
/// again at least once per <see cref="SecurityOptions.RevalidationInterval"/>: the row still exists (sign-out deletes
/// it, so a copied cookie is refused after), it is within its idle and absolute lifetime, and the account is as it
/// was: not disabled, not locked out, the same security stamp, role and scope, and no obligation (new password,
/// two-factor enrolment) outstanding. A session that fails any of these ends, and its row is deleted.
/// </summary>
public sealed class UserSessions(
    UserSessionRepository sessions,
    IServiceScopeFactory scopes,
    IMemoryCache cache,
    IOptions<PortalOptions> options,
    TimeProvider time,
    ILogger<UserSessions> logger)
{
    /// <summary>The claim carrying the session row's id in both cookies.</summary>
    public const string SessionClaim = "ssp_sid";

    private SecurityOptions Security => options.Value.Security;

    /// <summary>Cookie events for one of the two cookies: begin a session on sign-in, check it on every request.</summary>
    public static void Attach(CookieAuthenticationEvents events, UserSessionKind kind)
    {
        ArgumentNullException.ThrowIfNull(events);
        events.OnSigningIn = ctx => ctx.HttpContext.RequestServices.GetRequiredService<UserSessions>().BeginAsync(ctx, kind);
        events.OnValidatePrincipal = async ctx =>
        {
            var principal = ctx.Principal;
            var self = ctx.HttpContext.RequestServices.GetRequiredService<UserSessions>();
            if (principal is null || !await self.ValidateAsync(principal, kind, force: false, ctx.HttpContext.RequestAborted).ConfigureAwait(false))
            {
                // As Identity's own security stamp validator does: no principal for this request, and the cookie goes.
                ctx.RejectPrincipal();
                await ctx.HttpContext.SignOutAsync(ctx.Scheme.Name).ConfigureAwait(false);
            }
        };
    }

    /// <summary>Writes the session row and puts its id into the principal before the cookie is written.</summary>
    private async Task BeginAsync(CookieSigningInContext context, UserSessionKind kind)
    {
        var identity = context.Principal?.Identities.FirstOrDefault(i => i.IsAuthenticated);
        if (identity is null || UserId(context.Principal!) is not { } userId)
        {
            return;
        }

        foreach (var old in identity.FindAll(SessionClaim).ToList())
        {
            identity.RemoveClaim(old); // a refreshed sign-in gets a session of its own
        }

        await using var scope = scopes.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<PortalUser>>();
        var user = await users.FindByIdAsync(userId.ToString(CultureInfo.InvariantCulture)).ConfigureAwait(false);
        var now = time.GetUtcNow().UtcDateTime;
        var id = await sessions.CreateAsync(new UserSession
        {
            UserId = userId,
            Kind = kind,
            SecurityStamp = user?.SecurityStamp,
            CreatedUtc = now,
            LastSeenUtc = now,
            ExpiresUtc = now + Security.AbsoluteLifetime,
            RemoteAddress = context.HttpContext.Connection.RemoteIpAddress?.ToString(),
        }, context.HttpContext.RequestAborted).ConfigureAwait(false);
        identity.AddClaim(new Claim(SessionClaim, id.ToString(CultureInfo.InvariantCulture)));

        // The cookie itself never outlives the session's absolute end; the idle end is kept here, where an open page
        // (its circuit's revalidation) counts as activity although it sends no request.
        context.Properties.ExpiresUtc = time.GetUtcNow() + Security.AbsoluteLifetime;
        context.Properties.AllowRefresh = false;
        cache.Set(CacheKey(id), true, Security.RevalidationInterval);
    }

    /// <summary>
    /// True while the session may go on. With <paramref name="force"/> false a session checked within the last
    /// revalidation interval passes without a database read (every request of a page asks).
    /// </summary>
    public async Task<bool> ValidateAsync(ClaimsPrincipal principal, UserSessionKind kind, bool force, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(principal);
        if (SessionId(principal) is not { } id || UserId(principal) is not { } userId)
        {
            return false; // a cookie from before server-side sessions, or not ours
        }

        if (!force && cache.TryGetValue(CacheKey(id), out _))
        {
            return true;
        }

        string? reason;
        try
        {
            reason = await CheckAsync(principal, kind, id, userId, ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is System.Data.Common.DbException or InvalidOperationException or TimeoutException)
        {
            // The database did not answer: keep the session for now (an operator's console must not go dark because
            // of a hiccup) and ask again at the next request or revalidation.
            logger.LogWarning(ex, "Session {SessionId} could not be checked; kept until the next check", id);
            return true;
        }

        if (reason is null)
        {
            cache.Set(CacheKey(id), true, Security.RevalidationInterval);
            return true;
        }

        cache.Remove(CacheKey(id));
        await sessions.DeleteAsync(id, CancellationToken.None).ConfigureAwait(false);
        logger.LogInformation("Session {SessionId} of user {UserId} ended: {Reason}", id, userId, reason);
        return false;
    }

    /// <summary>Null when the session is fine, else why it ends (for the log).</summary>
    private async Task<string?> CheckAsync(ClaimsPrincipal principal, UserSessionKind kind, int id, int userId, CancellationToken ct)
    {
        var session = await sessions.GetByIdAsync(id, ct).ConfigureAwait(false);
        var now = time.GetUtcNow().UtcDateTime;
        if (session is null || session.UserId != userId || session.Kind != kind)
        {
            return "signed out";
        }

        if (now >= session.ExpiresUtc)
        {
            return "absolute lifetime reached";
        }

        if (now - session.LastSeenUtc >= Security.IdleTimeout)
        {
            return "idle";
        }

        await using var scope = scopes.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<PortalUser>>();
        var user = await users.FindByIdAsync(userId.ToString(CultureInfo.InvariantCulture)).ConfigureAwait(false);
        if (user is null)
        {
            return "account removed";
        }

        if (user.IsDisabled)
        {
            return "account disabled";
        }

        if (await users.IsLockedOutAsync(user).ConfigureAwait(false))
        {
            return "account locked out";
        }

        if (!string.Equals(user.SecurityStamp, session.SecurityStamp, StringComparison.Ordinal))
        {
            return "security stamp changed";
        }

        if (kind == UserSessionKind.Portal)
        {
            // The portal session's claims are the scope every page and API filters by: they must still be the account's.
            var roles = await users.GetRolesAsync(user).ConfigureAwait(false);
            var scopeNow = roles.Count == 1 ? new UserScope(user.Id, user.UserName ?? string.Empty, roles[0], user.DistrictId, user.SchoolId) : null;
            var scopeThen = principal.ToScope();
            if (scopeNow is null || scopeThen is null || scopeNow.Role != scopeThen.Role
                || scopeNow.DistrictId != scopeThen.DistrictId || scopeNow.SchoolId != scopeThen.SchoolId)
            {
                return "role or scope changed";
            }

            var obligation = await scope.ServiceProvider.GetRequiredService<SignInPolicy>().GetObligationAsync(users, user).ConfigureAwait(false);
            if (obligation != SignInObligation.None)
            {
                return "sign-in obligation outstanding: " + obligation;
            }
        }

        // In use: push the idle end back, writing at most every few minutes per session (each write waits for
        // SQLite's write lock beside the alarms).
        if (now - session.LastSeenUtc >= TouchEvery)
        {
            await sessions.TouchAsync(id, now, ct).ConfigureAwait(false);
        }

        return null;
    }

    private TimeSpan TouchEvery => TimeSpan.FromTicks(Math.Clamp(Security.IdleTimeout.Ticks / 10, TimeSpan.FromSeconds(30).Ticks, TimeSpan.FromMinutes(5).Ticks));

    /// <summary>The session rows behind this request's cookies (read before a security change alters the stamp).</summary>
    public static async Task<IReadOnlyList<int>> CurrentIdsAsync(HttpContext http)
    {
        ArgumentNullException.ThrowIfNull(http);
        var ids = new List<int>();
        foreach (var scheme in new[] { Extensions.PortalCookie, IdentityConstants.ApplicationScheme })
        {
            var result = await http.AuthenticateAsync(scheme).ConfigureAwait(false);
            if (result.Principal is { } principal && SessionId(principal) is { } id)
            {
                ids.Add(id);
            }
        }

        return ids;
    }

    /// <summary>Ends the sessions behind this request's cookies (sign-out): a copy of the cookie is refused from now on.</summary>
    public async Task EndCurrentAsync(HttpContext http)
    {
        foreach (var id in await CurrentIdsAsync(http).ConfigureAwait(false))
        {
            cache.Remove(CacheKey(id));
            await sessions.DeleteAsync(id, CancellationToken.None).ConfigureAwait(false);
            logger.LogInformation("Session {SessionId} ended: signed out", id);
        }
    }

    /// <summary>
    /// After the user's own security change (two-factor on, off or reset; a new password), the sessions of this browser
    /// carry the new security stamp and go on; every other session of the account ends at its next check.
    /// </summary>
    public async Task AdoptStampAsync(IReadOnlyList<int> ids, PortalUser user)
    {
        ArgumentNullException.ThrowIfNull(ids);
        ArgumentNullException.ThrowIfNull(user);
        foreach (var id in ids)
        {
            await sessions.UpdateStampAsync(id, user.Id, user.SecurityStamp, CancellationToken.None).ConfigureAwait(false);
            cache.Remove(CacheKey(id));
        }
    }

    public static int? SessionId(ClaimsPrincipal principal) =>
        int.TryParse(principal.FindFirstValue(SessionClaim), NumberStyles.None, CultureInfo.InvariantCulture, out var id) ? id : null;

    /// <summary>The portal's cookie names its user "sub"; Identity's names it with its own claim type.</summary>
    private static int? UserId(ClaimsPrincipal principal) =>
        int.TryParse(principal.FindFirstValue(PortalClaims.Subject) ?? principal.FindFirstValue(ClaimTypes.NameIdentifier), NumberStyles.None, CultureInfo.InvariantCulture, out var id)
            ? id : null;

    private static string CacheKey(int id) => "user-session:" + id.ToString(CultureInfo.InvariantCulture);
}
