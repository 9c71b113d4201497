using System.Data.Common;
using Dapper;
using Portal.Core.Data;

namespace Portal.Core.Audit;

/// <summary>Filters for the audit list.</summary>
/// <param name="Search">Matches the user name, target or detail.</param>
/// <param name="Action">One action code, or null for all.</param>
public sealed record AuditQuery(string? Search = null, string? Action = null);

/// <summary>The AuditLog table: written beside every administrative change, read by administrators.</summary>
public sealed class AuditRepository(Db db, TimeProvider time)
{
    private const string Insert = """
        INSERT INTO AuditLog (AtUtc, UserId, UserName, RemoteAddress, Action, Target, Detail)
        VALUES (@AtUtc, @UserId, @UserName, @RemoteAddress, @Action, @Target, @Detail)
        """;

    private const string Where = """
        WHERE (@Action IS NULL OR Action = @Action)
          AND (@Search IS NULL OR UserName LIKE @Search ESCAPE '\' OR Target LIKE @Search ESCAPE '\' OR Detail LIKE @Search ESCAPE '\')
        """;

    private const string Columns = "Id, AtUtc, UserId, UserName, RemoteAddress, Action, Target, Detail";

    /// <summary>Writes one entry on its own connection.</summary>
    public async Task WriteAsync(Actor actor, string action, string? target, string? detail = null, CancellationToken ct = default)
    {
        await using var connection = db.Open();
        await connection.ExecuteAsync(new CommandDefinition(Insert, Args(actor, action, target, detail), cancellationToken: ct)).ConfigureAwait(false);
    }

    /// <summary>Writes one entry inside the caller's transaction, so the change and its record commit together.</summary>
    public async Task WriteAsync(DbTransaction tx, Actor actor, string action, string? target, string? detail = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(tx);
        await tx.Connection!.ExecuteAsync(new CommandDefinition(Insert, Args(actor, action, target, detail), tx, cancellationToken: ct)).ConfigureAwait(false);
    }

    public async Task<Page<AuditEntry>> GetPageAsync(AuditQuery query, PageRequest page, CancellationToken ct = default)
    {
        page = page.Clamp();
        var args = new
        {
            query.Action,
            Search = string.IsNullOrWhiteSpace(query.Search) ? null : "%" + Schools.SchoolRepository.EscapeLike(query.Search.Trim()) + "%",
            page.Skip,
            page.Take,
        };
        await using var connection = db.Open();
        await using var grid = await connection.QueryMultipleAsync(new CommandDefinition(PageSql(db), args, cancellationToken: ct)).ConfigureAwait(false);
        var total = await grid.ReadSingleAsync<int>().ConfigureAwait(false);
        return new Page<AuditEntry>([.. await grid.ReadAsync<AuditEntry>().ConfigureAwait(false)], total);
    }

    internal static string PageSql(Db db) =>
        "SELECT COUNT(*) FROM AuditLog " + Where + ";\n"
        + "SELECT " + Columns + " FROM AuditLog " + Where + " ORDER BY AtUtc DESC, Id DESC " + db.Paging + ";";

    private object Args(Actor actor, string action, string? target, string? detail) => new
    {
        AtUtc = time.GetUtcNow().UtcDateTime,
        UserId = actor.Scope.UserId == 0 ? (int?)null : actor.Scope.UserId,
        UserName = Clip(actor.Scope.UserName, 64),
        RemoteAddress = Clip(actor.RemoteAddress, 64),
        Action = action,
        Target = Clip(target, 256),
        Detail = Clip(detail, 2000),
    };

    private static string? Clip(string? text, int max) => text is { } t && t.Length > max ? t[..max] : text;
}
