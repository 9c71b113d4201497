using Dapper;
using Portal.Core.Data;

namespace Portal.Core.Security;

public enum TokenKeyPurpose
{
    Signing = 0,
    Encryption = 1,
}

/// <summary>One stored key of the OpenID Connect server: its purpose, the rotation period it serves, its protected private key.</summary>
public sealed record TokenKey
{
    public int Id { get; init; }

    public TokenKeyPurpose Purpose { get; init; }

    public int Generation { get; init; }

    public required string KeyProtected { get; init; }

    public DateTime CreatedUtc { get; init; }
}

/// <summary>The TokenKey table: the OpenID Connect server's signing and encryption keys, shared by every instance.</summary>
public sealed class TokenKeyRepository(Db db)
{
    private const string SelectSince = """
        SELECT Id, Purpose, Generation, KeyProtected, CreatedUtc FROM TokenKey
        WHERE Generation >= @MinGeneration ORDER BY Generation DESC, Purpose
        """;

    private const string Exists = "SELECT COUNT(*) FROM TokenKey WHERE Purpose = @Purpose AND Generation = @Generation";

    private const string Insert = """
        INSERT INTO TokenKey (Purpose, Generation, KeyProtected, CreatedUtc) VALUES (@Purpose, @Generation, @KeyProtected, @CreatedUtc)
        """;

    public IReadOnlyList<TokenKey> GetSince(int minGeneration)
    {
        using var connection = db.Open();
        return [.. connection.Query<TokenKey>(SelectSince, new { MinGeneration = minGeneration })];
    }

    /// <summary>
    /// Stores the key for a purpose and generation unless one exists. Instances starting together race here: the
    /// unique index lets one insert win, and the others read the winner's key, so every instance ends up with the same keys.
    /// </summary>
    public bool TryAdd(TokenKeyPurpose purpose, int generation, Func<string> protectedKey, DateTime now)
    {
        using var connection = db.Open();
        if (connection.ExecuteScalar<int>(Exists, new { Purpose = (int)purpose, Generation = generation }) > 0)
        {
            return false;
        }

        try
        {
            connection.Execute(Insert, new { Purpose = (int)purpose, Generation = generation, KeyProtected = protectedKey(), CreatedUtc = now });
            return true;
        }
        catch (System.Data.Common.DbException) when (connection.ExecuteScalar<int>(Exists, new { Purpose = (int)purpose, Generation = generation }) > 0)
        {
            return false;
        }
    }
}
