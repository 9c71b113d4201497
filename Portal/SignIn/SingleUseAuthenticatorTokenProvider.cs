using System.Globalization;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;
using Portal.Data;

namespace Portal.SignIn;

/// <summary>
/// Identity's authenticator provider (RFC 6238 codes from the user's stored key) with the single-use rule of RFC 6238
/// §5.2: after a code is accepted, it and every code of an earlier time step are refused for that user. The last
/// accepted step is kept with the user's other tokens (protected by the user store), so the rule holds across
/// restarts and instances. Every use of the authenticator provider goes through here: sign-in, enrolment, turning
/// two-factor off.
/// </summary>
public sealed class SingleUseAuthenticatorTokenProvider(TimeProvider time, IOptions<PortalOptions> options) : IUserTwoFactorTokenProvider<PortalUser>
{
    /// <summary>Where the last accepted step is stored (AspNetUserTokens LoginProvider / Name).</summary>
    public const string StoreProvider = "[PortalAuthenticator]";

    public const string LastStepName = "LastAcceptedStep";

    private readonly AuthenticatorTokenProvider<PortalUser> _inner = new();

    private bool SingleUse => options.Value.Security.TotpSingleUse ?? !options.Value.DemoMode;

    public Task<bool> CanGenerateTwoFactorTokenAsync(UserManager<PortalUser> manager, PortalUser user) =>
        _inner.CanGenerateTwoFactorTokenAsync(manager, user);

    public Task<string> GenerateAsync(string purpose, UserManager<PortalUser> manager, PortalUser user) =>
        _inner.GenerateAsync(purpose, manager, user);

    public async Task<bool> ValidateAsync(string purpose, string token, UserManager<PortalUser> manager, PortalUser user)
    {
        ArgumentNullException.ThrowIfNull(manager);
        var key = await manager.GetAuthenticatorKeyAsync(user).ConfigureAwait(false);
        if (string.IsNullOrEmpty(key) || Totp.MatchStep(key, token, time.GetUtcNow()) is not { } step)
        {
            return false;
        }

        if (!SingleUse)
        {
            return true;
        }

        var last = await manager.GetAuthenticationTokenAsync(user, StoreProvider, LastStepName).ConfigureAwait(false);
        if (long.TryParse(last, NumberStyles.None, CultureInfo.InvariantCulture, out var lastStep) && step <= lastStep)
        {
            return false;
        }

        // Written before the caller signs in; a failed write refuses the code rather than leaving it reusable.
        var stored = await manager.SetAuthenticationTokenAsync(user, StoreProvider, LastStepName, step.ToString(CultureInfo.InvariantCulture)).ConfigureAwait(false);
        return stored.Succeeded;
    }
}
