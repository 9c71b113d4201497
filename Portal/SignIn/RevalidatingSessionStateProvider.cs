using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Server;
using Microsoft.Extensions.Options;
using Portal.Core.Security;

namespace Portal.SignIn;

/// <summary>
/// An open page (a Blazor circuit) keeps the user it started with until told otherwise; the framework's
/// revalidating provider asks <see cref="UserSessions"/> again every revalidation interval, and on a "no" the circuit's
/// user becomes anonymous at once: the route view shows the sign-in redirect instead of the page, which disposes the
/// page's components (the console's alarm subscription, the camera handles) and stops its ringing.
/// </summary>
public sealed class RevalidatingSessionStateProvider(ILoggerFactory loggerFactory, UserSessions sessions, IOptions<PortalOptions> options)
    : RevalidatingServerAuthenticationStateProvider(loggerFactory)
{
    protected override TimeSpan RevalidationInterval => options.Value.Security.RevalidationInterval;

    protected override async Task<bool> ValidateAuthenticationStateAsync(AuthenticationState authenticationState, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(authenticationState);
        var user = authenticationState.User;
        return user.Identity?.IsAuthenticated != true
            || await sessions.ValidateAsync(user, UserSessionKind.Portal, force: true, cancellationToken).ConfigureAwait(false);
    }
}
