using Microsoft.AspNetCore.Identity;
using Portal.Core.Schools;
using Portal.Core.Security;
using Portal.Data;

namespace Portal.Services;

/// <summary>
/// The demo accounts listed in README.md; created only in demo mode, only when missing. The police and administrator
/// accounts are enrolled in two-factor sign-in with a published key each (README), so demo mode runs the production
/// sign-in policy: a demo is never a reason to relax it, and the tests sign in the way a real operator does.
/// </summary>
public static class DemoUsers
{
    /// <summary>At least 12 characters and not on the common-password list (the old "Demo@2026" now is).</summary>
    public const string Password = "Demo-School@2026";

    /// <summary>User name, display name, role, district code (or null), school code (or null).</summary>
    public static readonly IReadOnlyList<(string UserName, string DisplayName, string Role, string? DistrictCode, string? SchoolCode)> All =
    [
        ("admin", "系统管理员", Roles.Admin, null, null),
        ("city110", "市110指挥中心值班员", Roles.CityOperator, null, null),
        ("shinan110", "市南分局110值班员", Roles.DistrictOperator, "370202", null),
        ("shibei110", "市北分局110值班员", Roles.DistrictOperator, "370203", null),
        ("huangdao110", "黄岛分局110值班员", Roles.DistrictOperator, "370211", null),
        ("bureau", "市教育局安全科", Roles.Bureau, null, null),
        ("bureau-shinan", "市南区教育局", Roles.Bureau, "370202", null),
        ("principal0", "校长0", Roles.Principal, null, "3370000000"),
        ("principal1", "校长1", Roles.Principal, null, "3370000001"),
        ("principal2", "校长2", Roles.Principal, null, "3370000002"),
    ];

    public static async Task EnsureAsync(UserManager<PortalUser> users, IUserStore<PortalUser> store, DistrictRepository districts, SchoolRepository schools, CancellationToken ct, ILogger? logger = null)
    {
        var districtIds = (await districts.GetAllAsync(ct).ConfigureAwait(false)).ToDictionary(d => d.Code, d => d.Id);
        foreach (var (userName, displayName, role, districtCode, schoolCode) in All)
        {
            if (await users.FindByNameAsync(userName).ConfigureAwait(false) is not null)
            {
                continue;
            }

            int? districtId = districtCode is null ? null : districtIds.GetValueOrDefault(districtCode);
            int? schoolId = null;
            if (schoolCode is not null)
            {
                var school = await schools.GetByCodeAsync(schoolCode, ct).ConfigureAwait(false);
                if (school is null)
                {
                    continue;
                }

                schoolId = school.Id;
                districtId = school.DistrictId;
            }

            var user = new PortalUser { UserName = userName, DisplayName = displayName, DistrictId = districtId, SchoolId = schoolId };
            var created = await users.CreateAsync(user, Password).ConfigureAwait(false);
            if (!created.Succeeded)
            {
                // One demo account that cannot be made leaves the others (and the start) alone.
                logger?.LogError("Demo user {UserName} not created: {Errors}", userName, string.Join("; ", created.Errors.Select(e => e.Description)));
                continue;
            }

            await users.AddToRoleAsync(user, role).ConfigureAwait(false);
            if (HasTwoFactor(role) && users is { SupportsUserAuthenticatorKey: true } && store is IUserAuthenticatorKeyStore<PortalUser> keys)
            {
                await keys.SetAuthenticatorKeyAsync(user, TotpKey(userName), ct).ConfigureAwait(false);
                await users.SetTwoFactorEnabledAsync(user, true).ConfigureAwait(false); // saves the key too
            }
        }
    }

    /// <summary>Police and administrators: the roles that must sign in with two factors by default.</summary>
    public static bool HasTwoFactor(string role) => role is Roles.CityOperator or Roles.DistrictOperator or Roles.Admin;

    /// <summary>
    /// The published authenticator key of a demo account (README): derived from its name, so it is the same in every
    /// demo database. A demo is public; these keys protect nothing and must never be used outside demo mode.
    /// </summary>
    public static string TotpKey(string userName) =>
        SignIn.Totp.ToBase32(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes("SchoolSafetyPortal demo TOTP " + userName)).AsSpan(0, 10));
}
