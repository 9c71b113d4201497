using System.Globalization;
using System.Security.Claims;
using Microsoft.AspNetCore;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Localization;
using OpenIddict.Abstractions;
using OpenIddict.Server.AspNetCore;
using Portal.Data;
using Portal.Services;
using Portal.SignIn;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Portal.Endpoints;

/// <summary>
/// The OpenID Connect server's pass-through endpoints (authorize, token, logout) and the portal's own
/// sign-in, sign-out and language switch. The Identity cookie is the sign-in at the server; the portal
/// cookie is the session of the Blazor UI, obtained through the authorization code flow with PKCE.
/// </summary>
public static class AuthEndpoints
{
    public static void MapAuthEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapMethods("/connect/authorize", ["GET", "POST"], (HttpContext context, UserManager<PortalUser> users, SignInPolicy policy) => AuthorizeAsync(context, users, policy)).DisableAntiforgery().ExcludeFromDescription();
        app.MapPost("/connect/token", (HttpContext context, UserManager<PortalUser> users, OutsideClientService clients) => TokenAsync(context, users, clients)).DisableAntiforgery().ExcludeFromDescription();
        app.MapMethods("/connect/userinfo", ["GET", "POST"], (HttpContext context, UserManager<PortalUser> users) => UserInfoAsync(context, users)).DisableAntiforgery().ExcludeFromDescription();
        app.MapMethods("/connect/logout", ["GET", "POST"], (Delegate)LogoutAsync).DisableAntiforgery().ExcludeFromDescription();

        app.MapGet("/account/signin", (string? returnUrl) => Results.Challenge(
            new AuthenticationProperties { RedirectUri = LocalOrHome(returnUrl) }, [Extensions.OidcScheme])).ExcludeFromDescription();

        app.MapPost("/account/signout", async (HttpContext context, UserSessions sessions) =>
        {
            // The sessions end on the server first: a copy of either cookie is refused from now on.
            await sessions.EndCurrentAsync(context).ConfigureAwait(false);
            await context.SignOutAsync(IdentityConstants.ApplicationScheme).ConfigureAwait(false);
            return Results.SignOut(new AuthenticationProperties { RedirectUri = "/" }, [Extensions.PortalCookie, Extensions.OidcScheme]);
        }).ExcludeFromDescription();

        app.MapGet("/culture/set", (HttpContext context, string culture, string? redirectUri) =>
        {
            if (Extensions.Cultures.Any(c => c.Name == culture))
            {
                context.Response.Cookies.Append(
                    CookieRequestCultureProvider.DefaultCookieName,
                    CookieRequestCultureProvider.MakeCookieValue(new RequestCulture(culture)),
                    new CookieOptions { MaxAge = TimeSpan.FromDays(365), HttpOnly = true, SameSite = SameSiteMode.Lax, IsEssential = true });
            }

            return Results.LocalRedirect(LocalOrHome(redirectUri));
        }).ExcludeFromDescription();
    }

    private static async Task<IResult> AuthorizeAsync(HttpContext context, UserManager<PortalUser> users, SignInPolicy policy)
    {
        var request = context.GetOpenIddictServerRequest()
            ?? throw new InvalidOperationException("The OpenID Connect request cannot be retrieved.");

        var result = await context.AuthenticateAsync(IdentityConstants.ApplicationScheme).ConfigureAwait(false);
        var user = result.Succeeded ? await users.GetUserAsync(result.Principal).ConfigureAwait(false) : null;
        if (user is null)
        {
            // Not signed in at the server: show the login page, then come back here with the same request.
            var parameters = context.Request.HasFormContentType ? [.. context.Request.Form] : context.Request.Query.ToList();
            return Results.Challenge(
                new AuthenticationProperties { RedirectUri = context.Request.PathBase + context.Request.Path + QueryString.Create(parameters) },
                [IdentityConstants.ApplicationScheme]);
        }

        if (user.IsDisabled || await users.IsLockedOutAsync(user).ConfigureAwait(false))
        {
            return Forbid(Errors.AccessDenied, "The account may not sign in.");
        }

        // A new password or two-factor enrolment comes before anything else: no session until it is done.
        var obligation = await policy.GetObligationAsync(users, user).ConfigureAwait(false);
        if (obligation != SignInObligation.None)
        {
            var parameters = context.Request.HasFormContentType ? [.. context.Request.Form] : context.Request.Query.ToList();
            var back = context.Request.PathBase + context.Request.Path + QueryString.Create(parameters);
            return Results.Redirect(SignInPolicy.PathFor(obligation, back));
        }

        var principal = await CreatePrincipalAsync(user, users, request.GetScopes()).ConfigureAwait(false);
        return principal is null
            ? Forbid(Errors.AccessDenied, "The account has no valid role or scope.")
            : Results.SignIn(principal, properties: null, OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
    }

    private static async Task<IResult> TokenAsync(HttpContext context, UserManager<PortalUser> users, OutsideClientService clients)
    {
        var request = context.GetOpenIddictServerRequest()
            ?? throw new InvalidOperationException("The OpenID Connect request cannot be retrieved.");
        if (request.IsClientCredentialsGrantType())
        {
            return await ClientTokenAsync(request, clients, context.RequestAborted).ConfigureAwait(false);
        }

        if (!request.IsAuthorizationCodeGrantType() && !request.IsRefreshTokenGrantType())
        {
            return Forbid(Errors.UnsupportedGrantType, "Only the authorization code, refresh token and client credentials grants are supported.");
        }

        // The code or refresh token carries the principal issued at /connect/authorize; re-read the user so
        // that a locked or re-scoped account stops getting tokens.
        var result = await context.AuthenticateAsync(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme).ConfigureAwait(false);
        var user = result.Principal?.GetClaim(Claims.Subject) is { } subject ? await users.FindByIdAsync(subject).ConfigureAwait(false) : null;
        if (user is null || user.IsDisabled || await users.IsLockedOutAsync(user).ConfigureAwait(false))
        {
            return Forbid(Errors.InvalidGrant, "The account is no longer allowed to sign in.");
        }

        var principal = await CreatePrincipalAsync(user, users, result.Principal!.GetScopes()).ConfigureAwait(false);
        return principal is null
            ? Forbid(Errors.InvalidGrant, "The account has no valid role or scope.")
            : Results.SignIn(principal, properties: null, OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
    }

    /// <summary>
    /// An outside system's token (OpenIddict has checked its secret and that it may use this grant and these scopes):
    /// no person, the role and district an administrator registered it with, the scopes it asked for.
    /// </summary>
    private static async Task<IResult> ClientTokenAsync(OpenIddictRequest request, OutsideClientService clients, CancellationToken ct)
    {
        var client = await clients.FindAsync(request.ClientId, ct).ConfigureAwait(false);
        if (client is null)
        {
            return Forbid(Errors.UnauthorizedClient, "This client may not act on the portal's data.");
        }

        var identity = new ClaimsIdentity(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme, PortalClaims.Name, PortalClaims.Role);
        identity.SetClaim(Claims.Subject, client.ClientId)
            .SetClaim(PortalClaims.Client, client.ClientId)
            .SetClaim(PortalClaims.Name, client.ClientId)
            .SetClaim(PortalClaims.DisplayName, client.DisplayName)
            .SetClaim(PortalClaims.Role, client.Role)
            .SetClaim(PortalClaims.DistrictId, client.DistrictId?.ToString(CultureInfo.InvariantCulture));
        identity.SetScopes(request.GetScopes().Intersect(client.Scopes, StringComparer.Ordinal));
        identity.SetDestinations(static _ => [Destinations.AccessToken]);
        return Results.SignIn(new ClaimsPrincipal(identity), properties: null, OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
    }

    /// <summary>
    /// OpenID Connect userinfo (Core 1.0 §5.3): OpenIddict has validated the access token; answer with the person's
    /// claims as the token's scopes allow. A token of an outside system has no person behind it.
    /// </summary>
    private static async Task<IResult> UserInfoAsync(HttpContext context, UserManager<PortalUser> users)
    {
        var result = await context.AuthenticateAsync(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme).ConfigureAwait(false);
        var principal = result.Principal;
        var user = principal?.GetClaim(Claims.Subject) is { } subject && principal.GetClaim(PortalClaims.Client) is null
            ? await users.FindByIdAsync(subject).ConfigureAwait(false) : null;
        if (principal is null || user is null || user.IsDisabled)
        {
            return Results.Challenge(
                new AuthenticationProperties(new Dictionary<string, string?>
                {
                    [OpenIddictServerAspNetCoreConstants.Properties.Error] = Errors.InvalidToken,
                    [OpenIddictServerAspNetCoreConstants.Properties.ErrorDescription] = "The token does not name a user of this portal.",
                }),
                [OpenIddictServerAspNetCoreDefaults.AuthenticationScheme]);
        }

        var claims = new Dictionary<string, object?>(StringComparer.Ordinal) { [Claims.Subject] = user.Id.ToString(CultureInfo.InvariantCulture) };
        if (principal.HasScope(Scopes.Profile))
        {
            claims[PortalClaims.Name] = user.UserName;
            claims[PortalClaims.DisplayName] = user.DisplayName;
        }

        if (principal.HasScope(Scopes.Roles))
        {
            var roles = await users.GetRolesAsync(user).ConfigureAwait(false);
            claims[PortalClaims.Role] = roles.Count == 1 ? roles[0] : null;
            claims[PortalClaims.DistrictId] = user.DistrictId;
            claims[PortalClaims.SchoolId] = user.SchoolId;
        }

        return Results.Ok(claims);
    }

    private static async Task<IResult> LogoutAsync(HttpContext context)
    {
        await context.RequestServices.GetRequiredService<UserSessions>().EndCurrentAsync(context).ConfigureAwait(false);
        await context.SignOutAsync(IdentityConstants.ApplicationScheme).ConfigureAwait(false);
        return Results.SignOut(new AuthenticationProperties { RedirectUri = "/" }, [OpenIddictServerAspNetCoreDefaults.AuthenticationScheme]);
    }

    /// <summary>The claims a token carries: who, which role, which district or school. Null for an ill-formed account.</summary>
    internal static async Task<ClaimsPrincipal?> CreatePrincipalAsync(PortalUser user, UserManager<PortalUser> users, IEnumerable<string> scopes)
    {
        var roles = await users.GetRolesAsync(user).ConfigureAwait(false);
        if (roles.Count != 1)
        {
            return null;
        }

        var scope = new Core.Security.UserScope(user.Id, user.UserName ?? string.Empty, roles[0], user.DistrictId, user.SchoolId);
        if (!scope.IsWellFormed)
        {
            return null;
        }

        var identity = new ClaimsIdentity(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme, PortalClaims.Name, PortalClaims.Role);
        identity.SetClaim(Claims.Subject, user.Id.ToString(CultureInfo.InvariantCulture))
            .SetClaim(PortalClaims.Name, user.UserName)
            .SetClaim(PortalClaims.DisplayName, user.DisplayName)
            .SetClaim(PortalClaims.Role, roles[0])
            .SetClaim(PortalClaims.DistrictId, user.DistrictId?.ToString(CultureInfo.InvariantCulture))
            .SetClaim(PortalClaims.SchoolId, user.SchoolId?.ToString(CultureInfo.InvariantCulture));
        identity.SetScopes(scopes);
        identity.SetDestinations(static _ => [Destinations.AccessToken, Destinations.IdentityToken]);
        return new ClaimsPrincipal(identity);
    }

    private static IResult Forbid(string error, string description) => Results.Forbid(
        new AuthenticationProperties(new Dictionary<string, string?>
        {
            [OpenIddictServerAspNetCoreConstants.Properties.Error] = error,
            [OpenIddictServerAspNetCoreConstants.Properties.ErrorDescription] = description,
        }),
        [OpenIddictServerAspNetCoreDefaults.AuthenticationScheme]);

    /// <summary>
    /// The return URL if it stays on this site, else the home page. ASP.NET Core's own check: it also refuses "/\t/host"
    /// and other control characters, which browsers drop and then read as "//host" (our own check let that through).
    /// </summary>
    internal static string LocalOrHome(string? url) => RedirectHttpResult.IsLocalUrl(url) ? url! : "/";
}
