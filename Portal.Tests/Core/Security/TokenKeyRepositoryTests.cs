using Portal.Core.Security;
using Portal.Tests.Data;
using Xunit;

namespace Portal.Tests.Core.Security;

/// <summary>The token server's stored keys on a real database of each engine: one per purpose and period, whoever asks first.</summary>
public abstract class TokenKeyRepositoryTests(ITestDatabase database) : RepositoryTestsBase(database)
{
    [Fact]
    public async Task TryAdd_SamePurposeAndGeneration_OnlyTheFirstIsKept()
    {
        var keys = new TokenKeyRepository(Db);
        var generation = Random.Shared.Next(1_000_000, 2_000_000);
        var now = TimeProvider.System.GetUtcNow().UtcDateTime;
        Assert.True(keys.TryAdd(TokenKeyPurpose.Signing, generation, () => "first", now));
        Assert.False(keys.TryAdd(TokenKeyPurpose.Signing, generation, () => "second", now));
        Assert.True(keys.TryAdd(TokenKeyPurpose.Encryption, generation, () => "third", now));

        // Two instances starting together: both try at once, one wins, both end up reading the same key.
        var racers = await Task.WhenAll(Enumerable.Range(0, 4).Select(i => Task.Run(() => keys.TryAdd(TokenKeyPurpose.Signing, generation + 1, () => "racer" + i, now), Ct)));
        Assert.Equal(1, racers.Count(won => won));

        var stored = keys.GetSince(generation).Where(k => k.Generation <= generation + 1).ToList();
        Assert.Equal(3, stored.Count);
        Assert.Equal("first", stored.Single(k => k.Purpose == TokenKeyPurpose.Signing && k.Generation == generation).KeyProtected);
        Assert.Equal(generation + 1, stored[0].Generation);
    }
}

public sealed class SqliteTokenKeyRepositoryTests(SqliteDb database) : TokenKeyRepositoryTests(database), IClassFixture<SqliteDb>;

[Trait("Category", "SqlServer")]
public sealed class SqlServerTokenKeyRepositoryTests(SqlServerDb database) : TokenKeyRepositoryTests(database), IClassFixture<SqlServerDb>;
