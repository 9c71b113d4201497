using Portal.Core.Security;
using Portal.Tests.Data;
using Xunit;

namespace Portal.Tests.Core.Security;

/// <summary>The first-run setup tokens on a real database of each engine: hashed, valid once, short-lived.</summary>
public abstract class SetupTokenRepositoryTests(ITestDatabase database) : RepositoryTestsBase(database)
{
    private static readonly DateTime Now = new(2026, 12, 2, 8, 0, 0, DateTimeKind.Utc);

    [Fact]
    public async Task TrySpendAsync_ValidToken_OnceOnlyAndEveryOtherTokenSpentWithIt()
    {
        var tokens = new SetupTokenRepository(Db);
        await tokens.DeleteAllAsync(Ct);
        var first = await tokens.CreateAsync(Now, Now.AddMinutes(30), Ct);
        var second = await tokens.CreateAsync(Now, Now.AddMinutes(30), Ct);
        Assert.True(await tokens.IsValidAsync(first, Now.AddMinutes(1), Ct));

        Assert.True(await tokens.TrySpendAsync(first, Now.AddMinutes(1), Ct));
        Assert.False(await tokens.TrySpendAsync(first, Now.AddMinutes(1), Ct));
        Assert.False(await tokens.IsValidAsync(second, Now.AddMinutes(1), Ct));
        Assert.False(await tokens.TrySpendAsync(second, Now.AddMinutes(1), Ct));
    }

    [Fact]
    public async Task IsValidAsync_ExpiredWrongOrMalformed_False()
    {
        var tokens = new SetupTokenRepository(Db);
        var token = await tokens.CreateAsync(Now, Now.AddMinutes(30), Ct);
        Assert.False(await tokens.IsValidAsync(token, Now.AddMinutes(30), Ct));
        Assert.False(await tokens.TrySpendAsync(token, Now.AddMinutes(31), Ct));
        Assert.False(await tokens.IsValidAsync(new string('0', 48), Now, Ct));
        Assert.False(await tokens.IsValidAsync("'; DROP TABLE SetupToken; --", Now, Ct));
        Assert.False(await tokens.IsValidAsync(null, Now, Ct));
    }

    [Fact]
    public async Task CreateAsync_StoresOnlyTheHash()
    {
        var tokens = new SetupTokenRepository(Db);
        var token = await tokens.CreateAsync(Now, Now.AddMinutes(30), Ct);
        await using var connection = Db.Open();
        var stored = await Dapper.SqlMapper.QueryAsync<string>(connection, "SELECT TokenHash FROM SetupToken");
        Assert.DoesNotContain(token, stored);
        Assert.Contains(SetupTokenRepository.Hash(token), stored);
    }
}

public sealed class SqliteSetupTokenRepositoryTests(SqliteDb database) : SetupTokenRepositoryTests(database), IClassFixture<SqliteDb>;

[Trait("Category", "SqlServer")]
public sealed class SqlServerSetupTokenRepositoryTests(SqlServerDb database) : SetupTokenRepositoryTests(database), IClassFixture<SqlServerDb>;
