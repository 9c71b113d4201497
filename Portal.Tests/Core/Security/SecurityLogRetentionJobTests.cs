using Dapper;
using Microsoft.Extensions.Time.Testing;
using Portal.Core.Security;
using Portal.Tests.Data;
using Xunit;

namespace Portal.Tests.Core.Security;

/// <summary>The SecurityLog keeps half a year (issue 14: retention for every log table).</summary>
public sealed class SecurityLogRetentionJobTests : IDisposable
{
    private readonly SqliteDb _database = new();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 2, 8, 0, 10, TimeSpan.Zero));

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => _database.Dispose();

    [Fact]
    public async Task RunAsync_RowsOlderThanHalfAYear_AreForgotten_NewerKept()
    {
        await using (var connection = _database.Db.Open())
        {
            await connection.ExecuteAsync("INSERT INTO SecurityLog (AtUtc, Reason) VALUES (@Old, 'x'), (@Recent, 'y')",
                new { Old = _time.GetUtcNow().UtcDateTime.AddDays(-181), Recent = _time.GetUtcNow().UtcDateTime.AddDays(-179) });
        }

        Assert.Equal(1, await new SecurityLogRetentionJob(_database.Db, _time).RunAsync(Ct));
        await using var check = _database.Db.Open();
        Assert.Equal("y", await check.ExecuteScalarAsync<string>("SELECT Reason FROM SecurityLog"));
    }
}
