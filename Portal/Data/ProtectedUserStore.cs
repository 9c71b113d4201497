using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Identity.EntityFrameworkCore;

namespace Portal.Data;

/// <summary>
/// Identity keeps the TOTP authenticator key and the recovery codes in AspNetUserTokens as plain text.
/// This store encrypts every token value with Data Protection on the way in and decrypts it on the way
/// out, so no second factor can be read from a copy of the database.
/// </summary>
public sealed class ProtectedUserStore(PortalIdentityDbContext context, IDataProtectionProvider protection, IdentityErrorDescriber? describer = null)
    : UserStore<PortalUser, PortalRole, PortalIdentityDbContext, int>(context, describer)
{
    private readonly IDataProtector _protector = protection.CreateProtector("Portal.Identity.UserTokens.v1");

    public override Task SetTokenAsync(PortalUser user, string loginProvider, string name, string? value, CancellationToken cancellationToken) =>
        base.SetTokenAsync(user, loginProvider, name, value is null ? null : _protector.Protect(value), cancellationToken);

    public override async Task<string?> GetTokenAsync(PortalUser user, string loginProvider, string name, CancellationToken cancellationToken)
    {
        var stored = await base.GetTokenAsync(user, loginProvider, name, cancellationToken).ConfigureAwait(false);
        if (stored is null)
        {
            return null;
        }

        try
        {
            return _protector.Unprotect(stored);
        }
        catch (System.Security.Cryptography.CryptographicException)
        {
            // A value that cannot be decrypted (keys lost) counts as absent: the user sets up 2FA again.
            return null;
        }
    }
}
