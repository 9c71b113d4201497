using Dapper;
using Xunit;

namespace Portal.Tests.Data;

/// <summary>
/// Every SQLite connection the portal opens waits for a locked database in SQLite's own busy handler
/// (steps of 1 to 100 ms), not in Microsoft.Data.Sqlite's retry loop that sleeps 150 ms per try.
/// </summary>
public sealed class DbTests : IClassFixture<SqliteDb>
{
    private readonly SqliteDb _database;

    public DbTests(SqliteDb database) => _database = database;

    [Fact]
    public async Task OpenAsync_Sqlite_SetsBusyTimeout()
    {
        await using var connection = await _database.Db.OpenAsync(TestContext.Current.CancellationToken);
        Assert.Equal(10000, await connection.ExecuteScalarAsync<int>("PRAGMA busy_timeout"));
    }

    [Fact]
    public async Task Open_OpenedLaterByDapper_SetsBusyTimeout()
    {
        // Repositories hand Dapper a closed connection and let it open it.
        await using var connection = _database.Db.Open();
        Assert.Equal(10000, await connection.ExecuteScalarAsync<int>("PRAGMA busy_timeout"));
    }
}
