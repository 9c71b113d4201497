using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Time.Testing;
using Portal.Core.Notifications;
using Portal.Core.Security;
using Portal.Tests.Data;
using Xunit;

namespace Portal.Tests.Core.Notifications;

/// <summary>
/// Whom a push reaches, picked in memory from the subscriptions read once (a real SQLite file), and when a change
/// shows: at once through the same repository, within <see cref="PushSubscriptionRepository.SnapshotAge"/> from another instance.
/// </summary>
public sealed class PushSubscriptionRepositoryTests : IDisposable
{
    private const int SchoolA = 11, SchoolB = 12, DistrictX = 3, DistrictY = 4;

    private readonly SqliteDb _database = new();
    private readonly EphemeralDataProtectionProvider _protection = new();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 5, 8, 0, 0, TimeSpan.Zero));

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static readonly (string Name, UserScope Scope)[] Everyone =
    [
        ("principal-a", new UserScope(1, "pa", Roles.Principal, DistrictX, SchoolA)),
        ("principal-b", new UserScope(2, "pb", Roles.Principal, DistrictX, SchoolB)),
        ("bureau-city", new UserScope(3, "bc", Roles.Bureau, null, null)),
        ("bureau-x", new UserScope(4, "bx", Roles.Bureau, DistrictX, null)),
        ("bureau-y", new UserScope(5, "by", Roles.Bureau, DistrictY, null)),
        ("police-x", new UserScope(6, "ox", Roles.DistrictOperator, DistrictX, null)),
        ("police-y", new UserScope(7, "oy", Roles.DistrictOperator, DistrictY, null)),
        ("police-city", new UserScope(8, "oc", Roles.CityOperator, null, null)),
        ("admin", new UserScope(9, "ad", Roles.Admin, null, null)),
    ];

    private PushSubscriptionRepository Repository() => new(_database.Db, _protection, _time);

    private Task SaveAsync(PushSubscriptionRepository repository, string name, UserScope scope) =>
        repository.SaveAsync(scope, "https://push.example.org/" + name, "p256dh-" + name, "auth-" + name, "zh-CN", _time.GetUtcNow().UtcDateTime, Ct);

    private static async Task<string[]> NamesAsync(PushSubscriptionRepository repository, PushAudience audience) =>
        [.. (await repository.GetAudienceAsync(audience, Ct)).Select(t => t.Endpoint["https://push.example.org/".Length..]).Order(StringComparer.Ordinal)];

    [Fact]
    public async Task GetAudience_PicksEachRoleByItsScope_WithTheSecretDecrypted()
    {
        var repository = Repository();
        foreach (var (name, scope) in Everyone)
        {
            await SaveAsync(repository, name, scope);
        }

        // A health notice for school A (district X): its principal, the city's bureau and district X's.
        Assert.Equal(["bureau-city", "bureau-x", "principal-a"],
            await NamesAsync(repository, new PushAudience(NotificationAudience.Principal | NotificationAudience.Bureau, DistrictX, SchoolA)));

        // A new alarm at school A that district Y's centre must answer (a transfer): both districts' police and the city's.
        Assert.Equal(["police-city", "police-x", "police-y"],
            await NamesAsync(repository, new PushAudience(NotificationAudience.Police, DistrictX, SchoolA, DistrictY)));
        Assert.Equal(["police-city", "police-x"], await NamesAsync(repository, new PushAudience(NotificationAudience.Police, DistrictX, SchoolA)));
        Assert.Equal(["admin"], await NamesAsync(repository, new PushAudience(NotificationAudience.Admin, DistrictY, SchoolB)));
        Assert.Empty(await NamesAsync(repository, new PushAudience(NotificationAudience.None, DistrictX, SchoolA)));

        var target = Assert.Single(await repository.GetAudienceAsync(new PushAudience(NotificationAudience.Principal, DistrictX, SchoolB), Ct));
        Assert.Equal(("auth-principal-b", "p256dh-principal-b", 2), (target.Auth, target.P256dh, target.UserId));
        await using var connection = _database.Db.Open();
        var stored = await Dapper.SqlMapper.QuerySingleAsync<string>(connection, "SELECT AuthProtected FROM PushSubscription WHERE UserId = 2");
        Assert.DoesNotContain("auth-principal-b", stored, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetAudience_AChangeHereShowsAtOnce_AnotherInstancesWithinTheSnapshotAge()
    {
        var here = Repository();
        var elsewhere = Repository(); // another portal instance on the same database
        var police = new PushAudience(NotificationAudience.Police, DistrictX, SchoolA);
        await SaveAsync(here, "police-x", Everyone[5].Scope);
        Assert.Equal(["police-x"], await NamesAsync(here, police));

        // Made here: seen at once, and gone at once.
        await SaveAsync(here, "police-city", Everyone[7].Scope);
        Assert.Equal(["police-city", "police-x"], await NamesAsync(here, police));
        Assert.True(await here.DeleteAsync(Everyone[7].Scope, "https://push.example.org/police-city", Ct));
        Assert.Equal(["police-x"], await NamesAsync(here, police));

        // Made by another instance: this one reads again once its snapshot is SnapshotAge old, not before.
        await SaveAsync(elsewhere, "police-city", Everyone[7].Scope);
        _time.Advance(PushSubscriptionRepository.SnapshotAge - TimeSpan.FromSeconds(1));
        Assert.Equal(["police-x"], await NamesAsync(here, police));
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(["police-city", "police-x"], await NamesAsync(here, police));

        // A subscription the push service called gone, removed here by id: not pushed to again.
        var gone = (await here.GetAudienceAsync(police, Ct)).Single(t => t.UserId == 8);
        await here.DeleteByIdAsync(gone.Id, Ct);
        Assert.Equal(["police-x"], await NamesAsync(here, police));
    }

    public void Dispose() => _database.Dispose();
}
