using System.Globalization;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
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
/// <remarks>
/// Two sign-ins racing with the same code both read "no later step" before either writes; the write is conditional
/// (Identity's ConcurrencyStamp on the user row, and the token row's key), so the second is refused: a concurrency
/// failure, or a unique-key violation when both insert the first step. Either way its code is refused, and what it had
/// staged is dropped so the request can still record its failed attempt.
/// </remarks>
public sealed class SingleUseAuthenticatorTokenProvider(TimeProvider time, IOptions<PortalOptions> options, PortalIdentityDbContext context) : IUserTwoFactorTokenProvider<PortalUser>
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
        bool stored;
        try
        {
            stored = (await manager.SetAuthenticationTokenAsync(user, StoreProvider, LastStepName, step.ToString(CultureInfo.InvariantCulture)).ConfigureAwait(false)).Succeeded;
        }
        catch (DbUpdateException)
        {
            stored = false; // another sign-in stored this step first (both inserted the user's first step)
        }

        if (!stored)
        {
            await ForgetStagedAsync(user).ConfigureAwait(false);
        }

        return stored;
    }

    /// <summary>Drops the refused write's token rows and reloads the user as stored, so the next save (the failed-attempt count) is clean.</summary>
    private async Task ForgetStagedAsync(PortalUser user)
    {
        foreach (var entry in context.ChangeTracker.Entries<IdentityUserToken<int>>().ToList())
        {
            entry.State = EntityState.Detached;
        }

        var tracked = context.Entry(user);
        if (tracked.State != EntityState.Detached)
        {
            await tracked.ReloadAsync().ConfigureAwait(false);
        }
    }
}
