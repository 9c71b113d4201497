using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;
using Portal.Data;

namespace Portal.SignIn;

/// <summary>What an account must do before it gets a session.</summary>
public enum SignInObligation
{
    None,

    /// <summary>An administrator reset the password (<see cref="PortalUser.MustChangePassword"/>).</summary>
    ChangePassword,

    /// <summary>Two-factor sign-in is required (role policy or the user's own flag) and none is set up.</summary>
    EnrolTwoFactor,
}

/// <summary>
/// Who must sign in with two factors, and what stands between a correct password and a session. Read by the sign-in
/// server before it issues a code and by the session check of every open session, so a policy change reaches
/// sessions that are already open.
/// </summary>
public sealed class SignInPolicy(IOptions<PortalOptions> options)
{
    public const string ChangePasswordPath = "/account/password";

    public const string EnrolPath = "/account/enrol";

    public async Task<bool> RequiresTwoFactorAsync(UserManager<PortalUser> users, PortalUser user)
    {
        ArgumentNullException.ThrowIfNull(users);
        ArgumentNullException.ThrowIfNull(user);
        if (user.RequireTwoFactor)
        {
            return true;
        }

        var required = options.Value.Security.TwoFactorRoleSet;
        return required.Count > 0 && (await users.GetRolesAsync(user).ConfigureAwait(false)).Any(required.Contains);
    }

    public async Task<SignInObligation> GetObligationAsync(UserManager<PortalUser> users, PortalUser user)
    {
        ArgumentNullException.ThrowIfNull(user);
        if (user.MustChangePassword)
        {
            return SignInObligation.ChangePassword;
        }

        return !user.TwoFactorEnabled && await RequiresTwoFactorAsync(users, user).ConfigureAwait(false)
            ? SignInObligation.EnrolTwoFactor
            : SignInObligation.None;
    }

    /// <summary>The page that fulfils <paramref name="obligation"/>, coming back to <paramref name="returnUrl"/> after.</summary>
    public static string PathFor(SignInObligation obligation, string returnUrl) =>
        (obligation == SignInObligation.ChangePassword ? ChangePasswordPath : EnrolPath) + "?returnUrl=" + Uri.EscapeDataString(returnUrl);
}
