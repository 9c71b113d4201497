using Dapper;
using Portal.Core.Data;

namespace Portal.Core.Security;

/// <summary>Which cookie a session row stands behind.</summary>
public enum UserSessionKind
{
    /// <summary>The portal's own session (the Blazor UI and the APIs).</summary>
    Portal = 0,

    /// <summary>The sign-in server's session (OpenID Connect: what lets the browser get a new portal session).</summary>
    SignInServer = 1,
}

/// <summary>One signed-in browser session, as the server keeps it.</summary>
public sealed record UserSession
{
    public int Id { get; init; }

    public int UserId { get; init; }

    public UserSessionKind Kind { get; init; }

    /// <summary>The account's security stamp when the session began (or was last refreshed by its own change).</summary>
    public string? SecurityStamp { get; init; }

    public DateTime CreatedUtc { get; init; }

    public DateTime LastSeenUtc { get; init; }

    /// <summary>The absolute end of the session.</summary>
    public DateTime ExpiresUtc { get; init; }

    public string? RemoteAddress { get; init; }
}

/// <summary>
/// The server's record of open sessions (table UserSession). A cookie names its row; sign-out deletes it, so a copy
/// of the cookie taken before is refused after. Writes are few: one row per sign-in, a last-seen update at most
/// every few minutes per session, one delete per sign-out (each one waits for SQLite's write lock beside alarms).
/// </summary>
public sealed class UserSessionRepository(Db db)
{
    private const string InsertSqlServer = """
        INSERT INTO UserSession (UserId, Kind, SecurityStamp, CreatedUtc, LastSeenUtc, ExpiresUtc, RemoteAddress)
        OUTPUT INSERTED.Id
        VALUES (@UserId, @Kind, @SecurityStamp, @CreatedUtc, @LastSeenUtc, @ExpiresUtc, @RemoteAddress)
        """;

    private const string InsertSqlite = """
        INSERT INTO UserSession (UserId, Kind, SecurityStamp, CreatedUtc, LastSeenUtc, ExpiresUtc, RemoteAddress)
        VALUES (@UserId, @Kind, @SecurityStamp, @CreatedUtc, @LastSeenUtc, @ExpiresUtc, @RemoteAddress)
        RETURNING Id
        """;

    private const string SelectById = "SELECT Id, UserId, Kind, SecurityStamp, CreatedUtc, LastSeenUtc, ExpiresUtc, RemoteAddress FROM UserSession WHERE Id = @Id";

    private const string Touch = "UPDATE UserSession SET LastSeenUtc = @Now WHERE Id = @Id AND LastSeenUtc < @Now";

    private const string UpdateStamp = "UPDATE UserSession SET SecurityStamp = @SecurityStamp WHERE Id = @Id AND UserId = @UserId";

    private const string DeleteById = "DELETE FROM UserSession WHERE Id = @Id";

    private const string DeleteByUser = "DELETE FROM UserSession WHERE UserId = @UserId";

    private const string DeleteEnded = "DELETE FROM UserSession WHERE ExpiresUtc < @Now OR LastSeenUtc < @IdleSince";

    private const string CountByUser = "SELECT COUNT(*) FROM UserSession WHERE UserId = @UserId";

    public async Task<int> CreateAsync(UserSession session, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(session);
        await using var connection = db.Open();
        return await connection.ExecuteScalarAsync<int>(new CommandDefinition(db.Pick(InsertSqlServer, InsertSqlite), new
        {
            session.UserId,
            Kind = (int)session.Kind,
            session.SecurityStamp,
            session.CreatedUtc,
            session.LastSeenUtc,
            session.ExpiresUtc,
            session.RemoteAddress,
        }, cancellationToken: ct)).ConfigureAwait(false);
    }

    public async Task<UserSession?> GetByIdAsync(int id, CancellationToken ct = default)
    {
        await using var connection = db.Open();
        return await connection.QuerySingleOrDefaultAsync<UserSession>(new CommandDefinition(SelectById, new { Id = id }, cancellationToken: ct)).ConfigureAwait(false);
    }

    /// <summary>Records that the session is in use (a request, an open page's revalidation).</summary>
    public async Task TouchAsync(int id, DateTime now, CancellationToken ct = default)
    {
        await using var connection = db.Open();
        await connection.ExecuteAsync(new CommandDefinition(Touch, new { Id = id, Now = now }, cancellationToken: ct)).ConfigureAwait(false);
    }

    /// <summary>After the user's own security change (two-factor, password), this session carries the new stamp; the others end.</summary>
    public async Task UpdateStampAsync(int id, int userId, string? securityStamp, CancellationToken ct = default)
    {
        await using var connection = db.Open();
        await connection.ExecuteAsync(new CommandDefinition(UpdateStamp, new { Id = id, UserId = userId, SecurityStamp = securityStamp }, cancellationToken: ct)).ConfigureAwait(false);
    }

    public async Task DeleteAsync(int id, CancellationToken ct = default)
    {
        await using var connection = db.Open();
        await connection.ExecuteAsync(new CommandDefinition(DeleteById, new { Id = id }, cancellationToken: ct)).ConfigureAwait(false);
    }

    /// <summary>Ends every session of an account (disabled, locked, removed).</summary>
    public async Task<int> DeleteByUserAsync(int userId, CancellationToken ct = default)
    {
        await using var connection = db.Open();
        return await connection.ExecuteAsync(new CommandDefinition(DeleteByUser, new { UserId = userId }, cancellationToken: ct)).ConfigureAwait(false);
    }

    public async Task<int> CountByUserAsync(int userId, CancellationToken ct = default)
    {
        await using var connection = db.Open();
        return await connection.ExecuteScalarAsync<int>(new CommandDefinition(CountByUser, new { UserId = userId }, cancellationToken: ct)).ConfigureAwait(false);
    }

    /// <summary>Forgets sessions past their absolute lifetime or idle for longer than <paramref name="idle"/>; returns how many.</summary>
    public async Task<int> DeleteEndedAsync(DateTime now, TimeSpan idle, CancellationToken ct = default)
    {
        await using var connection = db.Open();
        return await connection.ExecuteAsync(new CommandDefinition(DeleteEnded, new { Now = now, IdleSince = now - idle }, cancellationToken: ct)).ConfigureAwait(false);
    }
}
