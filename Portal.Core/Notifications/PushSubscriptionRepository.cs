using System.Security.Cryptography;
using System.Text;
using Dapper;
using Microsoft.AspNetCore.DataProtection;
using Portal.Core.Data;
using Portal.Core.Security;

namespace Portal.Core.Notifications;

/// <summary>A browser's push subscription with its keys in the clear, for the sender only.</summary>
public sealed record PushTarget(long Id, int UserId, string Endpoint, string P256dh, string Auth, string Culture);

/// <summary>Whom a push is for: a role bit set, and the school and district it concerns.</summary>
/// <param name="Audience">The roles addressed.</param>
/// <param name="DistrictId">The school's district.</param>
/// <param name="SchoolId">The school.</param>
/// <param name="CentreDistrictId">For alarms: the district of the centre that must answer (it sees the alarm too).</param>
public sealed record PushAudience(NotificationAudience Audience, int DistrictId, int SchoolId, int? CentreDistrictId = null);

/// <summary>
/// Owns PushSubscription: each browser that accepted notifications, with the user's scope at the time (so a push is
/// addressed without a join into Identity). The subscription's auth secret is Data Protection ciphertext.
/// </summary>
public sealed class PushSubscriptionRepository(Db db, IDataProtectionProvider protection)
{
    private readonly IDataProtector _protector = protection.CreateProtector("Portal.WebPush.Subscription.v1");

    private const string DeleteByHash = "DELETE FROM PushSubscription WHERE EndpointHash = @EndpointHash";

    private const string DeleteOwn = "DELETE FROM PushSubscription WHERE EndpointHash = @EndpointHash AND UserId = @UserId";

    private const string DeleteById = "DELETE FROM PushSubscription WHERE Id = @Id";

    private const string Insert = """
        INSERT INTO PushSubscription (UserId, Role, DistrictId, SchoolId, Endpoint, EndpointHash, P256dh, AuthProtected, Culture, CreatedUtc)
        VALUES (@UserId, @Role, @DistrictId, @SchoolId, @Endpoint, @EndpointHash, @P256dh, @AuthProtected, @Culture, @CreatedUtc)
        """;

    // A principal sees their school; bureau and police their district (or the city when theirs is null); for an alarm
    // a police district also sees what its centre must answer (AlarmNotifier.CanSee); administrators see everything.
    private const string SelectAudience = """
        SELECT Id, UserId, Endpoint, P256dh, AuthProtected, Culture FROM PushSubscription
        WHERE (@ToPrincipal = 1 AND Role = @PrincipalRole AND SchoolId = @SchoolId)
           OR (@ToBureau = 1 AND Role = @BureauRole AND (DistrictId IS NULL OR DistrictId = @DistrictId))
           OR (@ToPolice = 1 AND Role IN (@CityRole, @DistrictRole)
               AND (DistrictId IS NULL OR DistrictId = @DistrictId OR DistrictId = @CentreDistrictId))
           OR (@ToAdmin = 1 AND Role = @AdminRole)
        """;

    private const string CountOwn = "SELECT COUNT(*) FROM PushSubscription WHERE UserId = @UserId";

    /// <summary>Stores (or replaces) this browser's subscription for the signed-in user.</summary>
    public async Task SaveAsync(UserScope scope, string endpoint, string p256dh, string auth, string culture, DateTime now, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(scope);
        await using var connection = await db.OpenAsync(ct).ConfigureAwait(false);
        await using var tx = await connection.BeginTransactionAsync(ct).ConfigureAwait(false);
        var hash = Hash(endpoint);
        await connection.ExecuteAsync(new CommandDefinition(DeleteByHash, new { EndpointHash = hash }, tx, cancellationToken: ct)).ConfigureAwait(false);
        await connection.ExecuteAsync(new CommandDefinition(Insert, new
        {
            scope.UserId,
            scope.Role,
            scope.DistrictId,
            scope.SchoolId,
            Endpoint = endpoint,
            EndpointHash = hash,
            P256dh = p256dh,
            AuthProtected = _protector.Protect(auth),
            Culture = culture,
            CreatedUtc = now,
        }, tx, cancellationToken: ct)).ConfigureAwait(false);
        await tx.CommitAsync(ct).ConfigureAwait(false);
    }

    /// <summary>Removes the user's own subscription for this endpoint; false when there was none of theirs.</summary>
    public async Task<bool> DeleteAsync(UserScope scope, string endpoint, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(scope);
        await using var connection = db.Open();
        return await connection.ExecuteAsync(new CommandDefinition(DeleteOwn, new { EndpointHash = Hash(endpoint), scope.UserId }, cancellationToken: ct)).ConfigureAwait(false) > 0;
    }

    /// <summary>The push service said the subscription is gone (404/410): forget it.</summary>
    public async Task DeleteByIdAsync(long id, CancellationToken ct = default)
    {
        await using var connection = db.Open();
        await connection.ExecuteAsync(new CommandDefinition(DeleteById, new { Id = id }, cancellationToken: ct)).ConfigureAwait(false);
    }

    public async Task<int> CountAsync(UserScope scope, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(scope);
        await using var connection = db.Open();
        return await connection.ExecuteScalarAsync<int>(new CommandDefinition(CountOwn, new { scope.UserId }, cancellationToken: ct)).ConfigureAwait(false);
    }

    /// <summary>Every subscription the audience covers, with its secret decrypted (ones that no longer decrypt are skipped).</summary>
    public async Task<IReadOnlyList<PushTarget>> GetAudienceAsync(PushAudience audience, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(audience);
        await using var connection = db.Open();
        var rows = await connection.QueryAsync<(long Id, int UserId, string Endpoint, string P256dh, string AuthProtected, string Culture)>(new CommandDefinition(SelectAudience, new
        {
            ToPrincipal = audience.Audience.HasFlag(NotificationAudience.Principal),
            ToBureau = audience.Audience.HasFlag(NotificationAudience.Bureau),
            ToPolice = audience.Audience.HasFlag(NotificationAudience.Police),
            ToAdmin = audience.Audience.HasFlag(NotificationAudience.Admin),
            PrincipalRole = Roles.Principal,
            BureauRole = Roles.Bureau,
            CityRole = Roles.CityOperator,
            DistrictRole = Roles.DistrictOperator,
            AdminRole = Roles.Admin,
            audience.DistrictId,
            audience.SchoolId,
            CentreDistrictId = audience.CentreDistrictId ?? audience.DistrictId,
        }, cancellationToken: ct)).ConfigureAwait(false);
        var targets = new List<PushTarget>();
        foreach (var r in rows)
        {
            try
            {
                targets.Add(new PushTarget(r.Id, r.UserId, r.Endpoint, r.P256dh, _protector.Unprotect(r.AuthProtected), r.Culture));
            }
            catch (CryptographicException)
            {
                // Keys rotated away: the browser will subscribe again on its next visit.
            }
        }

        return targets;
    }

    private static string Hash(string endpoint) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(endpoint)));
}
