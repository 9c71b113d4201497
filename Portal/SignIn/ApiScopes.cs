using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using OpenIddict.Abstractions;
using Portal.Services;

namespace Portal.SignIn;

/// <summary>
/// The OAuth scopes of the portal's HTTP APIs and the policy that requires them (issue 13). A request from the
/// portal's own browser session (cookie) is a signed-in person and passes on their role and scope alone; a request
/// with a bearer token must also carry the scope the API serves: an outside system registered for alarms.read
/// reads /api/alarms and nothing else. <c>portal.api</c>, the scope of tokens a person delegates, covers them all.
/// </summary>
public static class ApiScopes
{
    public const string AlarmsRead = "alarms.read";
    public const string RegistryRead = "registry.read";

    /// <summary>The scopes an administrator may grant an outside client.</summary>
    public static readonly IReadOnlyList<string> Grantable = [AlarmsRead, RegistryRead];

    public const string AlarmsPolicy = "api:" + AlarmsRead;
    public const string RegistryPolicy = "api:" + RegistryRead;
}

/// <summary>Bearer tokens must carry <see cref="Scope"/> (or the all-covering <see cref="PortalClaims.ApiScope"/>).</summary>
public sealed record ApiScopeRequirement(string Scope) : IAuthorizationRequirement;

public sealed class ApiScopeHandler(IHttpContextAccessor accessor) : AuthorizationHandler<ApiScopeRequirement>
{
    protected override async Task HandleRequirementAsync(AuthorizationHandlerContext context, ApiScopeRequirement requirement)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(requirement);
        if (context.User.Identity?.IsAuthenticated != true)
        {
            return;
        }

        if (context.User.HasScope(requirement.Scope) || context.User.HasScope(PortalClaims.ApiScope))
        {
            context.Succeed(requirement);
            return;
        }

        // No scope in the principal: fine only when the person came with the portal's session cookie (the cookie
        // handler caches its result, so this costs nothing), never for a token that simply lacks the scope.
        if (accessor.HttpContext is { } http && (await http.AuthenticateAsync(Extensions.PortalCookie).ConfigureAwait(false)).Succeeded
            && !http.Request.Headers.Authorization.ToString().StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            context.Succeed(requirement);
        }
    }
}
