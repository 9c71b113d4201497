using Dapper;
using Portal.Core.Data;

namespace Portal.Core.Security;

/// <summary>
/// Hangfire job: forgets SecurityLog rows older than <see cref="Retention"/>. Refused device requests no longer write
/// there (they are counted: DeviceRefusalCounter); what remains is rare enough to keep for half a year. Reentrant.
/// </summary>
public sealed class SecurityLogRetentionJob(Db db, TimeProvider time)
{
    public static readonly TimeSpan Retention = TimeSpan.FromDays(180);

    private const string DeleteBefore = "DELETE FROM SecurityLog WHERE AtUtc < @Before";

    public async Task<int> RunAsync(CancellationToken ct)
    {
        await using var connection = db.Open();
        return await connection.ExecuteAsync(new CommandDefinition(DeleteBefore, new { Before = time.GetUtcNow().UtcDateTime - Retention }, cancellationToken: ct)).ConfigureAwait(false);
    }
}
