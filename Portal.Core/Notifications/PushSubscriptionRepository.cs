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
public sealed class PushSubscriptionRepository(Db db, IDataProtectionProvider protection, TimeProvider? time = null)
{
    /// <summary>
    /// How long the subscriptions read for <see cref="GetAudienceAsync"/> are reused. A change made through this
    /// repository drops them at once; this bounds a change made by another instance of the portal.
    /// </summary>
    public static readonly TimeSpan SnapshotAge = TimeSpan.FromSeconds(30);

    private readonly IDataProtector _protector = protection.CreateProtector("Portal.WebPush.Subscription.v1");
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    // Bumped by every write through this repository: a snapshot read under an older value is not used.
    private long _generation;
    private Snapshot? _snapshot;

    private const string DeleteByHash = "DELETE FROM PushSubscription WHERE EndpointHash = @EndpointHash";

    private const string DeleteOwn = "DELETE FROM PushSubscription WHERE EndpointHash = @EndpointHash AND UserId = @UserId";

    private const string DeleteById = "DELETE FROM PushSubscription WHERE Id = @Id";

    private const string DeleteForUser = "DELETE FROM PushSubscription WHERE UserId = @UserId";

    private const string Insert = """
        INSERT INTO PushSubscription (UserId, Role, DistrictId, SchoolId, Endpoint, EndpointHash, P256dh, AuthProtected, Culture, CreatedUtc)
        VALUES (@UserId, @Role, @DistrictId, @SchoolId, @Endpoint, @EndpointHash, @P256dh, @AuthProtected, @Culture, @CreatedUtc)
        """;

    // Every subscription with the scope it was made under: the audience is picked in memory (Covers).
    private const string SelectAll = "SELECT Id, UserId, Role, DistrictId, SchoolId, Endpoint, P256dh, AuthProtected, Culture FROM PushSubscription";

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
        Interlocked.Increment(ref _generation);
    }

    /// <summary>Removes the user's own subscription for this endpoint; false when there was none of theirs.</summary>
    public async Task<bool> DeleteAsync(UserScope scope, string endpoint, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(scope);
        await using var connection = db.Open();
        var deleted = await connection.ExecuteAsync(new CommandDefinition(DeleteOwn, new { EndpointHash = Hash(endpoint), scope.UserId }, cancellationToken: ct)).ConfigureAwait(false) > 0;
        Interlocked.Increment(ref _generation);
        return deleted;
    }

    /// <summary>The push service said the subscription is gone (404/410): forget it.</summary>
    public async Task DeleteByIdAsync(long id, CancellationToken ct = default)
    {
        await using var connection = db.Open();
        await connection.ExecuteAsync(new CommandDefinition(DeleteById, new { Id = id }, cancellationToken: ct)).ConfigureAwait(false);
        Interlocked.Increment(ref _generation);
    }

    /// <summary>
    /// Forgets every browser the user subscribed: a subscription carries the scope it was made under, so a disabled
    /// user's browsers, or a moved one's, would go on hearing of alarms and devices they no longer may see.
    /// Returns how many there were.
    /// </summary>
    public async Task<int> DeleteForUserAsync(int userId, CancellationToken ct = default)
    {
        await using var connection = db.Open();
        var deleted = await connection.ExecuteAsync(new CommandDefinition(DeleteForUser, new { UserId = userId }, cancellationToken: ct)).ConfigureAwait(false);
        Interlocked.Increment(ref _generation);
        return deleted;
    }

    public async Task<int> CountAsync(UserScope scope, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(scope);
        await using var connection = db.Open();
        return await connection.ExecuteScalarAsync<int>(new CommandDefinition(CountOwn, new { scope.UserId }, cancellationToken: ct)).ConfigureAwait(false);
    }

    /// <summary>
    /// Every subscription the audience covers, with its secret decrypted (ones that no longer decrypt are skipped).
    /// Each new alarm asks this (<c>AlarmPushForwarder</c>): a query per alarm put a thousand reads with a dozen
    /// parameters each beside a burst's thousand presses (an eighth of what the portal allocated while it drained, and
    /// its collections pause every request). The subscriptions are read once into memory instead (a row per browser
    /// that accepted notifications: thousands at most in a city), and read again after a change made here or
    /// after <see cref="SnapshotAge"/>.
    /// </summary>
    public async Task<IReadOnlyList<PushTarget>> GetAudienceAsync(PushAudience audience, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(audience);
        var snapshot = await CurrentAsync(ct).ConfigureAwait(false);
        var targets = new List<PushTarget>();
        foreach (var row in snapshot.Rows)
        {
            if (Covers(audience, row.Scope))
            {
                targets.Add(row.Target);
            }
        }

        return targets;
    }

    /// <summary>
    /// Whether a subscription made under <paramref name="scope"/> is in the audience, by the scope's own rules
    /// (<see cref="UserScope.CanSee"/>): a principal sees their school; bureau and police their district (or the city
    /// when theirs is null); for an alarm a police district also sees what its centre must answer (AlarmNotifier.CanSee);
    /// administrators see everything.
    /// </summary>
    internal static bool Covers(PushAudience audience, UserScope scope)
    {
        var to = audience.Audience;
        return scope.Role switch
        {
            Roles.Principal => to.HasFlag(NotificationAudience.Principal) && scope.CanSee(audience.DistrictId, audience.SchoolId),
            Roles.Bureau => to.HasFlag(NotificationAudience.Bureau) && scope.CanSeeDistrict(audience.DistrictId),
            Roles.CityOperator or Roles.DistrictOperator => to.HasFlag(NotificationAudience.Police)
                && (scope.CanSeeDistrict(audience.DistrictId) || scope.CanSeeDistrict(audience.CentreDistrictId ?? audience.DistrictId)),
            Roles.Admin => to.HasFlag(NotificationAudience.Admin),
            _ => false,
        };
    }

    private async Task<Snapshot> CurrentAsync(CancellationToken ct)
    {
        var generation = Interlocked.Read(ref _generation);
        var snapshot = Volatile.Read(ref _snapshot);
        if (snapshot is not null && snapshot.Generation == generation && _time.GetElapsedTime(snapshot.ReadAt) < SnapshotAge)
        {
            return snapshot;
        }

        // Read under the generation taken before the read: a write meanwhile makes the next call read again.
        var readAt = _time.GetTimestamp();
        await using var connection = db.Open();
        var rows = await connection.QueryAsync<(long Id, int UserId, string Role, int? DistrictId, int? SchoolId, string Endpoint, string P256dh, string AuthProtected, string Culture)>(
            new CommandDefinition(SelectAll, cancellationToken: ct)).ConfigureAwait(false);
        var kept = new List<SnapshotRow>();
        foreach (var r in rows)
        {
            try
            {
                kept.Add(new SnapshotRow(new UserScope(r.UserId, string.Empty, r.Role, r.DistrictId, r.SchoolId), new PushTarget(r.Id, r.UserId, r.Endpoint, r.P256dh, _protector.Unprotect(r.AuthProtected), r.Culture)));
            }
            catch (CryptographicException)
            {
                // Keys rotated away: the browser will subscribe again on its next visit.
            }
        }

        snapshot = new Snapshot(generation, readAt, kept);
        Volatile.Write(ref _snapshot, snapshot);
        return snapshot;
    }

    private static string Hash(string endpoint) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(endpoint)));

    private sealed record SnapshotRow(UserScope Scope, PushTarget Target);

    private sealed record Snapshot(long Generation, long ReadAt, IReadOnlyList<SnapshotRow> Rows);
}
