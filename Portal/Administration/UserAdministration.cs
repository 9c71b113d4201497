using System.Globalization;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Portal.Core.Audit;
using Portal.Core.Data;
using Portal.Core.Notifications;
using Portal.Core.Schools;
using Portal.Core.Security;
using Portal.Data;

namespace Portal.Administration;

/// <summary>A user as the administration list shows them.</summary>
public sealed record UserRow(
    int Id,
    string UserName,
    string DisplayName,
    string? Role,
    int? DistrictId,
    int? SchoolId,
    bool IsDisabled,
    bool MustChangePassword,
    bool RequireTwoFactor,
    bool TwoFactorEnabled,
    bool LockedOut);

/// <summary>
/// What an administrator fills in to create a user, or to change a user's role and scope. The password is the
/// initial one; empty to have one generated (and shown once).
/// </summary>
public sealed record UserInput(
    string UserName,
    string DisplayName,
    string Role,
    int? DistrictId,
    string? SchoolCode,
    string? Password = null,
    bool MustChangePassword = true,
    bool RequireTwoFactor = false);

/// <summary>The outcome of a user change: what is wrong (nothing changed), or success with a generated password to show once.</summary>
public sealed record UserResult(IReadOnlyList<FieldError> Errors, int Id = 0, string? Password = null)
{
    public bool Succeeded => Errors.Count == 0;

    public static UserResult Fail(string field, string code) => new([new FieldError(field, code)]);
}

/// <summary>
/// Users as administrators keep them, through Identity's own store: create, disable, reset the password (the user
/// must change it), change role and scope, require or reset two-factor sign-in, unlock. It sets the account flags;
/// the sign-in policy that enforces them is the sign-in's. Every change that ends a right ends the user's sessions
/// too (a new security stamp), and is audited without any password. Disabling a user, or changing their role or scope,
/// also forgets the browsers they subscribed to Web Push, which no session check reaches.
/// </summary>
public sealed class UserAdministration(
    UserManager<PortalUser> users,
    PortalIdentityDbContext context,
    DistrictRepository districts,
    SchoolRepository schools,
    AuditRepository audit,
    PushSubscriptionRepository pushSubscriptions,
    TimeProvider time)
{
    public async Task<Page<UserRow>> GetPageAsync(UserScope scope, string? search, string? role, PageRequest page, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(scope);
        scope.Require(Roles.Admin);
        page = page.Clamp();
        var rows = from u in context.Users.AsNoTracking()
                   join ur in context.UserRoles on u.Id equals ur.UserId into userRoles
                   from ur in userRoles.DefaultIfEmpty()
                   join r in context.Roles on ur.RoleId equals r.Id into roleNames
                   from r in roleNames.DefaultIfEmpty()
                   select new { User = u, Role = r == null ? null : r.Name };
        if (!string.IsNullOrWhiteSpace(search))
        {
            var text = search.Trim();
            rows = rows.Where(x => x.User.UserName!.Contains(text) || x.User.DisplayName.Contains(text));
        }

        if (!string.IsNullOrEmpty(role))
        {
            rows = rows.Where(x => x.Role == role);
        }

        var total = await rows.CountAsync(ct).ConfigureAwait(false);
        var items = await rows.OrderBy(x => x.User.UserName).Skip(page.Skip).Take(page.Take).ToListAsync(ct).ConfigureAwait(false);
        var now = time.GetUtcNow();
        return new Page<UserRow>(
            [.. items.Select(x => new UserRow(x.User.Id, x.User.UserName ?? string.Empty, x.User.DisplayName, x.Role, x.User.DistrictId, x.User.SchoolId,
                x.User.IsDisabled, x.User.MustChangePassword, x.User.RequireTwoFactor, x.User.TwoFactorEnabled, x.User.LockoutEnd is { } end && end > now))],
            total);
    }

    public async Task<UserResult> CreateAsync(Actor actor, UserInput input, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(actor);
        ArgumentNullException.ThrowIfNull(input);
        actor.Scope.Require(Roles.Admin);
        var errors = new List<FieldError>();
        var userName = input.UserName?.Trim() ?? string.Empty;
        if (!IsValidUserName(userName))
        {
            errors.Add(new FieldError(nameof(UserInput.UserName), "UserNameFormat"));
        }
        else if (await users.FindByNameAsync(userName).ConfigureAwait(false) is not null)
        {
            errors.Add(new FieldError(nameof(UserInput.UserName), "DuplicateUserName"));
        }

        var displayName = input.DisplayName?.Trim() ?? string.Empty;
        if (displayName.Length is 0 or > 64)
        {
            errors.Add(new FieldError(nameof(UserInput.DisplayName), displayName.Length == 0 ? "Required" : "TooLong"));
        }

        var (districtId, schoolId) = await ResolveScopeAsync(input, errors, ct).ConfigureAwait(false);
        var generated = string.IsNullOrEmpty(input.Password);
        var password = generated ? NewPassword() : input.Password!;
        var user = new PortalUser
        {
            UserName = userName,
            DisplayName = displayName,
            DistrictId = districtId,
            SchoolId = schoolId,
            MustChangePassword = input.MustChangePassword || generated,
            RequireTwoFactor = input.RequireTwoFactor,
        };
        foreach (var validator in users.PasswordValidators)
        {
            var result = await validator.ValidateAsync(users, user, password).ConfigureAwait(false);
            errors.AddRange(result.Errors.Select(e => new FieldError(nameof(UserInput.Password), "Identity_" + e.Code)));
        }

        if (errors.Count > 0)
        {
            return new UserResult(errors);
        }

        var created = await users.CreateAsync(user, password).ConfigureAwait(false);
        if (!created.Succeeded)
        {
            return new UserResult([.. created.Errors.Select(e => new FieldError(nameof(UserInput.UserName), "Identity_" + e.Code))]);
        }

        await users.AddToRoleAsync(user, input.Role).ConfigureAwait(false);
        await audit.WriteAsync(actor, AuditActions.UserCreated, "user " + userName, Describe(input.Role, districtId, schoolId)
            + (user.MustChangePassword ? ", must change password" : string.Empty) + (user.RequireTwoFactor ? ", two-factor required" : string.Empty), ct).ConfigureAwait(false);
        return new UserResult([], user.Id, generated ? password : null);
    }

    /// <summary>Disables (sessions end, sign-in refused) or enables a user. Nobody disables themselves or the last administrator.</summary>
    public async Task<UserResult> SetDisabledAsync(Actor actor, int userId, bool disabled, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(actor);
        actor.Scope.Require(Roles.Admin);
        if (await FindAsync(userId).ConfigureAwait(false) is not { } user)
        {
            return UserResult.Fail("Id", "NotFound");
        }

        if (disabled && user.Id == actor.Scope.UserId)
        {
            return UserResult.Fail("Id", "NotYourself");
        }

        if (disabled && await IsLastActiveAdminAsync(user).ConfigureAwait(false))
        {
            return UserResult.Fail("Id", "LastAdmin");
        }

        if (user.IsDisabled == disabled)
        {
            return new UserResult([], user.Id);
        }

        user.IsDisabled = disabled;
        await SaveAndEndSessionsAsync(user).ConfigureAwait(false);
        if (disabled)
        {
            // Ended sessions do not reach the browsers that accepted notifications: their subscriptions go too.
            await pushSubscriptions.DeleteForUserAsync(user.Id, ct).ConfigureAwait(false);
        }

        await audit.WriteAsync(actor, disabled ? AuditActions.UserDisabled : AuditActions.UserEnabled, "user " + user.UserName, null, ct).ConfigureAwait(false);
        return new UserResult([], user.Id);
    }

    /// <summary>Gives the user a new generated password (returned once), which they must change at their next sign-in.</summary>
    public async Task<UserResult> ResetPasswordAsync(Actor actor, int userId, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(actor);
        actor.Scope.Require(Roles.Admin);
        if (await FindAsync(userId).ConfigureAwait(false) is not { } user)
        {
            return UserResult.Fail("Id", "NotFound");
        }

        var password = NewPassword();
        var token = await users.GeneratePasswordResetTokenAsync(user).ConfigureAwait(false);
        var reset = await users.ResetPasswordAsync(user, token, password).ConfigureAwait(false);
        if (!reset.Succeeded)
        {
            return new UserResult([.. reset.Errors.Select(e => new FieldError("Password", "Identity_" + e.Code))]);
        }

        // ResetPasswordAsync has changed the security stamp: every session of the user ends.
        user.MustChangePassword = true;
        await users.UpdateAsync(user).ConfigureAwait(false);
        await users.SetLockoutEndDateAsync(user, null).ConfigureAwait(false);
        await users.ResetAccessFailedCountAsync(user).ConfigureAwait(false);
        await audit.WriteAsync(actor, AuditActions.UserPasswordReset, "user " + user.UserName, "must change password", ct).ConfigureAwait(false);
        return new UserResult([], user.Id, password);
    }

    /// <summary>Changes role and scope (district, or school by its code); the user's sessions end so the new scope applies at once.</summary>
    public async Task<UserResult> ChangeRoleAsync(Actor actor, int userId, string role, int? districtId, string? schoolCode, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(actor);
        actor.Scope.Require(Roles.Admin);
        if (await FindAsync(userId).ConfigureAwait(false) is not { } user)
        {
            return UserResult.Fail("Id", "NotFound");
        }

        var errors = new List<FieldError>();
        var (newDistrict, newSchool) = await ResolveScopeAsync(new UserInput(user.UserName ?? string.Empty, user.DisplayName, role, districtId, schoolCode), errors, ct).ConfigureAwait(false);
        var current = (await users.GetRolesAsync(user).ConfigureAwait(false)).ToList();
        if (errors.Count == 0 && current.Contains(Roles.Admin) && role != Roles.Admin)
        {
            if (user.Id == actor.Scope.UserId)
            {
                errors.Add(new FieldError(nameof(UserInput.Role), "NotYourself"));
            }
            else if (await IsLastActiveAdminAsync(user).ConfigureAwait(false))
            {
                errors.Add(new FieldError(nameof(UserInput.Role), "LastAdmin"));
            }
        }

        if (errors.Count > 0)
        {
            return new UserResult(errors);
        }

        var before = Describe(current.FirstOrDefault() ?? "-", user.DistrictId, user.SchoolId);
        if (current.Count > 0)
        {
            await users.RemoveFromRolesAsync(user, current).ConfigureAwait(false);
        }

        await users.AddToRoleAsync(user, role).ConfigureAwait(false);
        user.DistrictId = newDistrict;
        user.SchoolId = newSchool;
        await SaveAndEndSessionsAsync(user).ConfigureAwait(false);
        // Subscriptions carry the old scope: the user subscribes again under the new one.
        await pushSubscriptions.DeleteForUserAsync(user.Id, ct).ConfigureAwait(false);
        await audit.WriteAsync(actor, AuditActions.UserRoleChanged, "user " + user.UserName, Describe(role, newDistrict, newSchool) + "; was " + before, ct).ConfigureAwait(false);
        return new UserResult([], user.Id);
    }

    /// <summary>Requires (or stops requiring) two-factor sign-in for this user; a user without an authenticator must enrol one.</summary>
    public async Task<UserResult> RequireTwoFactorAsync(Actor actor, int userId, bool required, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(actor);
        actor.Scope.Require(Roles.Admin);
        if (await FindAsync(userId).ConfigureAwait(false) is not { } user)
        {
            return UserResult.Fail("Id", "NotFound");
        }

        if (user.RequireTwoFactor != required)
        {
            user.RequireTwoFactor = required;
            await SaveAndEndSessionsAsync(user).ConfigureAwait(false);
            await audit.WriteAsync(actor, AuditActions.UserTwoFactorRequired, "user " + user.UserName, required ? "required" : "no longer required", ct).ConfigureAwait(false);
        }

        return new UserResult([], user.Id);
    }

    /// <summary>For a lost phone: turns two-factor sign-in off and forgets the key; the user must enrol again (required from now on).</summary>
    public async Task<UserResult> ResetTwoFactorAsync(Actor actor, int userId, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(actor);
        actor.Scope.Require(Roles.Admin);
        if (await FindAsync(userId).ConfigureAwait(false) is not { } user)
        {
            return UserResult.Fail("Id", "NotFound");
        }

        await users.SetTwoFactorEnabledAsync(user, false).ConfigureAwait(false);
        await users.ResetAuthenticatorKeyAsync(user).ConfigureAwait(false);
        user.RequireTwoFactor = true;
        await SaveAndEndSessionsAsync(user).ConfigureAwait(false);
        await audit.WriteAsync(actor, AuditActions.UserTwoFactorReset, "user " + user.UserName, "authenticator forgotten; enrolment required", ct).ConfigureAwait(false);
        return new UserResult([], user.Id);
    }

    /// <summary>Lifts a lockout after too many wrong passwords.</summary>
    public async Task<UserResult> UnlockAsync(Actor actor, int userId, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(actor);
        actor.Scope.Require(Roles.Admin);
        if (await FindAsync(userId).ConfigureAwait(false) is not { } user)
        {
            return UserResult.Fail("Id", "NotFound");
        }

        await users.SetLockoutEndDateAsync(user, null).ConfigureAwait(false);
        await users.ResetAccessFailedCountAsync(user).ConfigureAwait(false);
        await audit.WriteAsync(actor, AuditActions.UserUnlocked, "user " + user.UserName, null, ct).ConfigureAwait(false);
        return new UserResult([], user.Id);
    }

    /// <summary>3 to 64 of letters, digits and . _ - @ (what Identity accepts, and what reads well in the audit trail).</summary>
    public static bool IsValidUserName(string? userName) =>
        userName is { Length: >= 3 and <= 64 } && userName.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' or '@');

    /// <summary>
    /// 20 characters with every character class, so it passes whatever password rules the sign-in sets; shown once to
    /// the administrator, who passes it on, and changed by the user at the next sign-in.
    /// </summary>
    internal static string NewPassword()
    {
        const string Upper = "ABCDEFGHJKLMNPQRSTUVWXYZ", Lower = "abcdefghijkmnopqrstuvwxyz", Digits = "23456789", Symbols = "-_.!#%+";
        var chars = (RandomNumberGenerator.GetString(Upper, 1) + RandomNumberGenerator.GetString(Lower, 1) + RandomNumberGenerator.GetString(Digits, 1)
            + RandomNumberGenerator.GetString(Symbols, 1) + RandomNumberGenerator.GetString(Upper + Lower + Digits + Symbols, 16)).ToCharArray();
        RandomNumberGenerator.Shuffle(chars.AsSpan());
        return new string(chars);
    }

    private async Task<PortalUser?> FindAsync(int userId) =>
        await users.FindByIdAsync(userId.ToString(CultureInfo.InvariantCulture)).ConfigureAwait(false);

    private async Task SaveAndEndSessionsAsync(PortalUser user)
    {
        await users.UpdateAsync(user).ConfigureAwait(false);
        await users.UpdateSecurityStampAsync(user).ConfigureAwait(false);
    }

    private async Task<bool> IsLastActiveAdminAsync(PortalUser user)
    {
        var admins = await users.GetUsersInRoleAsync(Roles.Admin).ConfigureAwait(false);
        return admins.Any(a => a.Id == user.Id) && admins.Count(a => !a.IsDisabled) <= 1;
    }

    /// <summary>The district and school a role needs: a district operator a district, a principal a school (found by its code).</summary>
    private async Task<(int? DistrictId, int? SchoolId)> ResolveScopeAsync(UserInput input, List<FieldError> errors, CancellationToken ct)
    {
        if (!Roles.All.Contains(input.Role))
        {
            errors.Add(new FieldError(nameof(UserInput.Role), "UnknownRole"));
            return (null, null);
        }

        int? districtId = input.Role is Roles.DistrictOperator or Roles.Bureau ? input.DistrictId : null;
        int? schoolId = null;
        if (input.Role == Roles.Principal)
        {
            var code = input.SchoolCode?.Trim();
            if (string.IsNullOrEmpty(code))
            {
                errors.Add(new FieldError(nameof(UserInput.SchoolCode), "Required"));
            }
            else if (await schools.GetByCodeAsync(code, ct).ConfigureAwait(false) is { } school)
            {
                (districtId, schoolId) = (school.DistrictId, school.Id);
            }
            else
            {
                errors.Add(new FieldError(nameof(UserInput.SchoolCode), "UnknownSchool"));
            }
        }
        else if (input.Role == Roles.DistrictOperator && districtId is null)
        {
            errors.Add(new FieldError(nameof(UserInput.DistrictId), "Required"));
        }

        if (input.Role != Roles.Principal && districtId is { } id && await districts.GetByIdAsync(id, ct).ConfigureAwait(false) is null)
        {
            errors.Add(new FieldError(nameof(UserInput.DistrictId), "UnknownDistrict"));
        }

        return (districtId, schoolId);
    }

    private static string Describe(string role, int? districtId, int? schoolId) =>
        string.Create(CultureInfo.InvariantCulture, $"role {role}, district {districtId?.ToString(CultureInfo.InvariantCulture) ?? "-"}, school {schoolId?.ToString(CultureInfo.InvariantCulture) ?? "-"}");
}
