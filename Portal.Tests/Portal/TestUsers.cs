using System.Globalization;
using Dapper;
using Microsoft.AspNetCore.Identity;
using Portal.Data;
using Portal.Services;

namespace Portal.Tests.Portal;

/// <summary>
/// Accounts a test owns: created straight in the portal's database (the way an administrator's page would leave them),
/// so a test can lock, disable or re-scope its own operator without touching the demo accounts other tests sign in
/// with. The password is the demo one; police and administrators enrol their second factor at first sign-in
/// (<see cref="PortalFixture.SignInAsync"/> does it and remembers the key).
/// </summary>
public static class TestUsers
{
    /// <summary>Creates an account with a fresh name; returns its id and name.</summary>
    public static async Task<(int Id, string UserName)> CreateAsync(PortalProcess portal, string role, string? districtCode = null, string? schoolCode = null)
    {
        ArgumentNullException.ThrowIfNull(portal);
        var userName = "t-" + role.ToLowerInvariant() + "-" + Guid.NewGuid().ToString("N")[..8];
        var user = new PortalUser { UserName = userName };
        var hash = new PasswordHasher<PortalUser>().HashPassword(user, DemoUsers.Password);
        await using var connection = portal.Db.Open();
        int? districtId = districtCode is null ? null : await connection.QuerySingleAsync<int>("SELECT Id FROM District WHERE Code = @districtCode", new { districtCode });
        int? schoolId = null;
        if (schoolCode is not null)
        {
            (schoolId, districtId) = await connection.QuerySingleAsync<(int, int)>("SELECT Id, DistrictId FROM School WHERE Code = @schoolCode", new { schoolCode });
        }

        var id = await connection.QuerySingleAsync<int>(
            """
            INSERT INTO AspNetUsers (DisplayName, DistrictId, SchoolId, UserName, NormalizedUserName, EmailConfirmed, PasswordHash, SecurityStamp,
                ConcurrencyStamp, PhoneNumberConfirmed, TwoFactorEnabled, LockoutEnabled, AccessFailedCount, IsDisabled, MustChangePassword, RequireTwoFactor)
            VALUES (@userName, @districtId, @schoolId, @userName, @normalized, 0, @hash, @stamp, @concurrency, 0, 0, 1, 0, 0, 0, 0)
            RETURNING Id
            """,
            new { userName, districtId, schoolId, normalized = userName.ToUpperInvariant(), hash, stamp = Guid.NewGuid().ToString("N").ToUpperInvariant(), concurrency = Guid.NewGuid().ToString() });
        await connection.ExecuteAsync(
            "INSERT INTO AspNetUserRoles (UserId, RoleId) SELECT @id, Id FROM AspNetRoles WHERE Name = @role", new { id, role });
        return (id, userName);
    }

    /// <summary>Locks the account as an administrator would (Identity's lock-out end far in the future).</summary>
    public static async Task LockAsync(PortalProcess portal, int userId)
    {
        ArgumentNullException.ThrowIfNull(portal);
        await using var connection = portal.Db.Open();
        await connection.ExecuteAsync("UPDATE AspNetUsers SET LockoutEnd = @end WHERE Id = @userId",
            new { end = DateTimeOffset.UtcNow.AddYears(10).ToString("yyyy-MM-dd HH:mm:ss.FFFFFFFzzz", CultureInfo.InvariantCulture), userId });
    }

    public static async Task SetAsync(PortalProcess portal, int userId, string column, object? value)
    {
        ArgumentNullException.ThrowIfNull(portal);
        if (column is not ("IsDisabled" or "MustChangePassword" or "RequireTwoFactor" or "DistrictId" or "SchoolId"))
        {
            throw new ArgumentOutOfRangeException(nameof(column), column, "Not an account column a test may set.");
        }

        await using var connection = portal.Db.Open();
        await connection.ExecuteAsync($"UPDATE AspNetUsers SET {column} = @value WHERE Id = @userId", new { value, userId });
    }
}
