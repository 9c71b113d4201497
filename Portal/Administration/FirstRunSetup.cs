using System.Globalization;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;
using Portal.Core.Audit;
using Portal.Core.Schools;
using Portal.Core.Security;
using Portal.Data;
using Portal.Services;
using Portal.SignIn;

namespace Portal.Administration;

/// <summary>What the setup page asks for before enrolment: the first administrator's account.</summary>
public sealed record SetupAccount(string UserName, string DisplayName, string Password);

/// <summary>The outcome of the last setup step: the recovery codes to show once, or what is wrong (nothing was created).</summary>
public sealed record SetupResult(IReadOnlyList<FieldError> Errors, IReadOnlyList<string> RecoveryCodes)
{
    public bool Succeeded => Errors.Count == 0;

    public static SetupResult Fail(string field, string code) => new([new FieldError(field, code)], []);
}

/// <summary>
/// The first run of a production install (DemoMode off, no administrator yet): at start-up the portal prints a
/// one-time setup link to its log (the token valid once and for <see cref="PortalOptions.SetupLinkLifetime"/>, stored
/// only as a hash); the page behind it creates the first administrator, who must enrol an authenticator (TOTP) in
/// the same flow and signs in with two factors from then on.
/// </summary>
public sealed class FirstRunSetup(
    SetupTokenRepository tokens,
    AuditRepository audit,
    IServiceScopeFactory scopes,
    PortalEnvironment environment,
    IOptions<PortalOptions> options,
    TimeProvider time,
    ILogger<FirstRunSetup> logger)
{
    public const string Path = "/setup";

    /// <summary>True while no user holds the administrator role.</summary>
    public async Task<bool> IsNeededAsync(CancellationToken ct = default)
    {
        await using var scope = scopes.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<PortalUser>>();
        return (await users.GetUsersInRoleAsync(Roles.Admin).ConfigureAwait(false)).Count == 0;
    }

    /// <summary>At start-up: when an administrator is needed, prints a fresh link to the log. Returns the link (tests read the log).</summary>
    public async Task<string?> IssueLinkIfNeededAsync(CancellationToken ct = default)
    {
        if (!await IsNeededAsync(ct).ConfigureAwait(false))
        {
            await tokens.DeleteAllAsync(ct).ConfigureAwait(false);
            return null;
        }

        var now = time.GetUtcNow().UtcDateTime;
        var lifetime = options.Value.SetupLinkLifetime;
        var token = await tokens.CreateAsync(now, now + lifetime, ct).ConfigureAwait(false);
        var link = environment.PublicUrl.TrimEnd('/') + Path + "?token=" + token;

        // The one place a secret goes to the log, on purpose: the operator who can read this log installs the portal.
        // It is good for one use, for a short time, and only while no administrator exists.
        logger.LogWarning(
            "First run: no administrator yet. Open {SetupLink} within {Minutes} minutes to create the first administrator (with two-factor sign-in); restart the portal for a new link.",
            link, ((int)lifetime.TotalMinutes).ToString(CultureInfo.InvariantCulture));
        await audit.WriteAsync(Actor.System, AuditActions.SetupLinkIssued, null, "valid until " + (now + lifetime).ToString("u", CultureInfo.InvariantCulture), ct).ConfigureAwait(false);
        return link;
    }

    public async Task<bool> IsTokenValidAsync(string? token, CancellationToken ct = default) =>
        await tokens.IsValidAsync(token, time.GetUtcNow().UtcDateTime, ct).ConfigureAwait(false)
        && await IsNeededAsync(ct).ConfigureAwait(false);

    /// <summary>Checks the account before enrolment, so the person learns of a bad password before scanning a key.</summary>
    public async Task<IReadOnlyList<FieldError>> CheckAccountAsync(SetupAccount account, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(account);
        await using var scope = scopes.CreateAsyncScope();
        return await CheckAsync(scope.ServiceProvider.GetRequiredService<UserManager<PortalUser>>(), account).ConfigureAwait(false);
    }

    /// <summary>A new authenticator key (base32) for the enrolment step.</summary>
    public async Task<string> NewAuthenticatorKeyAsync()
    {
        await using var scope = scopes.CreateAsyncScope();
        return scope.ServiceProvider.GetRequiredService<UserManager<PortalUser>>().GenerateNewAuthenticatorKey();
    }

    /// <summary>
    /// Creates the first administrator once the authenticator code proves the enrolment: spends the token (and any
    /// other outstanding one), creates the account with its key and two-factor sign-in on, and returns the recovery codes.
    /// </summary>
    public async Task<SetupResult> CompleteAsync(string? token, SetupAccount account, string authenticatorKey, string? code, string? remoteAddress, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(account);
        var now = time.GetUtcNow();
        if (!await IsTokenValidAsync(token, ct).ConfigureAwait(false))
        {
            return SetupResult.Fail("Token", "SetupLinkInvalid");
        }

        await using var scope = scopes.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<PortalUser>>();
        var errors = await CheckAsync(users, account).ConfigureAwait(false);
        if (errors.Count > 0)
        {
            return new SetupResult(errors, []);
        }

        if (!Totp.Verify(authenticatorKey, code, now))
        {
            return SetupResult.Fail("Code", "BadCode");
        }

        if (!await tokens.TrySpendAsync(token, now.UtcDateTime, ct).ConfigureAwait(false))
        {
            return SetupResult.Fail("Token", "SetupLinkInvalid");
        }

        var user = new PortalUser { UserName = account.UserName.Trim(), DisplayName = account.DisplayName.Trim(), RequireTwoFactor = true };
        var created = await users.CreateAsync(user, account.Password).ConfigureAwait(false);
        if (!created.Succeeded)
        {
            logger.LogError("First-run setup could not create the administrator: {Errors}; restart the portal for a new link", string.Join("; ", created.Errors.Select(e => e.Code)));
            return new SetupResult([.. created.Errors.Select(e => new FieldError("UserName", "Identity_" + e.Code))], []);
        }

        var store = (IUserAuthenticatorKeyStore<PortalUser>)scope.ServiceProvider.GetRequiredService<IUserStore<PortalUser>>();
        await store.SetAuthenticatorKeyAsync(user, authenticatorKey, ct).ConfigureAwait(false);
        await users.UpdateAsync(user).ConfigureAwait(false);
        await users.AddToRoleAsync(user, Roles.Admin).ConfigureAwait(false);
        await users.SetTwoFactorEnabledAsync(user, true).ConfigureAwait(false);
        var codes = await users.GenerateNewTwoFactorRecoveryCodesAsync(user, 8).ConfigureAwait(false);
        await audit.WriteAsync(new Actor(new UserScope(user.Id, user.UserName, Roles.Admin, null, null), remoteAddress),
            AuditActions.SetupCompleted, "user " + user.UserName, "first administrator, two-factor sign-in enrolled", ct).ConfigureAwait(false);
        logger.LogInformation("First-run setup created administrator {UserName}", user.UserName);
        return new SetupResult([], [.. codes ?? []]);
    }

    private static async Task<List<FieldError>> CheckAsync(UserManager<PortalUser> users, SetupAccount account)
    {
        var errors = new List<FieldError>();
        var userName = account.UserName?.Trim() ?? string.Empty;
        if (!UserAdministration.IsValidUserName(userName))
        {
            errors.Add(new FieldError("UserName", "UserNameFormat"));
        }

        if (string.IsNullOrWhiteSpace(account.DisplayName) || account.DisplayName.Trim().Length > 64)
        {
            errors.Add(new FieldError("DisplayName", "Required"));
        }

        foreach (var validator in users.PasswordValidators)
        {
            var result = await validator.ValidateAsync(users, new PortalUser { UserName = userName }, account.Password ?? string.Empty).ConfigureAwait(false);
            errors.AddRange(result.Errors.Select(e => new FieldError("Password", "Identity_" + e.Code)));
        }

        return errors;
    }
}
