using System.Security.Cryptography;
using System.Text;
using Dapper;
using Portal.Core.Data;

namespace Portal.Core.Security;

/// <summary>
/// The one-time tokens of the first-run setup link. Only a SHA-256 hash is stored: the token itself exists in the
/// log line an operator reads and in the link they open. A token is spent by one conditional update, so two browsers
/// racing with the same link cannot both create an administrator.
/// </summary>
public sealed class SetupTokenRepository(Db db)
{
    private const string Insert = "INSERT INTO SetupToken (TokenHash, CreatedUtc, ExpiresUtc) VALUES (@TokenHash, @CreatedUtc, @ExpiresUtc)";

    private const string SelectValid = "SELECT COUNT(*) FROM SetupToken WHERE TokenHash = @TokenHash AND UsedUtc IS NULL AND ExpiresUtc > @Now";

    // Spending one valid token spends every outstanding one in the same statement: when several instances printed
    // links, the first administrator created ends them all, and two racing set-ups cannot both succeed.
    private const string Spend = """
        UPDATE SetupToken SET UsedUtc = @Now
        WHERE UsedUtc IS NULL
          AND EXISTS (SELECT 1 FROM SetupToken t WHERE t.TokenHash = @TokenHash AND t.UsedUtc IS NULL AND t.ExpiresUtc > @Now)
        """;

    /// <summary>Spent or expired tokens are no use to anyone; nor are the rest once an administrator exists.</summary>
    private const string DeleteAll = "DELETE FROM SetupToken";

    /// <summary>Creates a new token valid until <paramref name="expiresUtc"/> and returns it (the only time it is seen).</summary>
    public async Task<string> CreateAsync(DateTime now, DateTime expiresUtc, CancellationToken ct = default)
    {
        var token = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
        await using var connection = db.Open();
        await connection.ExecuteAsync(new CommandDefinition(Insert, new { TokenHash = Hash(token), CreatedUtc = now, ExpiresUtc = expiresUtc }, cancellationToken: ct)).ConfigureAwait(false);
        return token;
    }

    public async Task<bool> IsValidAsync(string? token, DateTime now, CancellationToken ct = default)
    {
        if (!IsWellFormed(token))
        {
            return false;
        }

        await using var connection = db.Open();
        return await connection.ExecuteScalarAsync<int>(new CommandDefinition(SelectValid, new { TokenHash = Hash(token!), Now = now }, cancellationToken: ct)).ConfigureAwait(false) > 0;
    }

    /// <summary>True for exactly one caller, with a valid token; every other outstanding token is spent with it.</summary>
    public async Task<bool> TrySpendAsync(string? token, DateTime now, CancellationToken ct = default)
    {
        if (!IsWellFormed(token))
        {
            return false;
        }

        await using var connection = db.Open();
        return await connection.ExecuteAsync(new CommandDefinition(Spend, new { TokenHash = Hash(token!), Now = now }, cancellationToken: ct)).ConfigureAwait(false) > 0;
    }

    public async Task DeleteAllAsync(CancellationToken ct = default)
    {
        await using var connection = db.Open();
        await connection.ExecuteAsync(new CommandDefinition(DeleteAll, cancellationToken: ct)).ConfigureAwait(false);
    }

    internal static string Hash(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    private static bool IsWellFormed(string? token) => token is { Length: 48 } && token.All(char.IsAsciiHexDigitLower);
}
