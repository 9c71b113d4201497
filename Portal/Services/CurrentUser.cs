using Microsoft.AspNetCore.Components.Authorization;
using Portal.Core.Security;

namespace Portal.Services;

/// <summary>The signed-in user's scope for a Blazor circuit, read from the authentication state.</summary>
public sealed class CurrentUser(AuthenticationStateProvider authentication)
{
    private UserScope? _scope;

    /// <summary>The browser's address as seen when the circuit opened, for the audit trail.</summary>
    public string? RemoteAddress { get; set; }

    /// <summary>The scope, or a <see cref="ScopeDeniedException"/> when the user has none.</summary>
    public async Task<UserScope> GetScopeAsync()
    {
        if (_scope is not null)
        {
            return _scope;
        }

        var state = await authentication.GetAuthenticationStateAsync().ConfigureAwait(false);
        _scope = state.User.ToScope() ?? throw new ScopeDeniedException("The signed-in user has no valid scope.");
        return _scope;
    }
}
