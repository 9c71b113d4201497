using Microsoft.AspNetCore.Identity;
using Portal.Data;

namespace Portal.SignIn;

/// <summary>
/// Identity asks this before any sign-in (password, two-factor code, recovery code): a disabled account is refused
/// with "not allowed", whatever it types. Open sessions of the account end through <see cref="UserSessions"/>.
/// </summary>
public sealed class DisabledUserConfirmation : IUserConfirmation<PortalUser>
{
    public Task<bool> IsConfirmedAsync(UserManager<PortalUser> manager, PortalUser user)
    {
        ArgumentNullException.ThrowIfNull(user);
        return Task.FromResult(!user.IsDisabled);
    }
}
