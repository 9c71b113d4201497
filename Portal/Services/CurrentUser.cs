using Microsoft.AspNetCore.Components.Authorization;
using Portal.Core.Security;

namespace Portal.Services;

/// <summary>The signed-in user's scope for a Blazor circuit, read from the authentication state.</summary>
public sealed class CurrentUser(AuthenticationStateProvider authentication)
{
    /// <summary>The browser's address as seen when the circuit opened, for the audit trail.</summary>
    public string? RemoteAddress { get; set; }

    /// <summary>
    /// The scope, or a <see cref="ScopeDeniedException"/> when the user has none. Read afresh each time (the provider
    /// keeps the state, so this costs nothing): once the session's revalidation fails the user is anonymous, and every
    /// later action of the circuit is refused.
    /// </summary>
    public async Task<UserScope> GetScopeAsync()
    {
        var state = await authentication.GetAuthenticationStateAsync().ConfigureAwait(false);
        return state.User.ToScope() ?? throw new ScopeDeniedException("The signed-in user has no valid scope.");
    }
}
