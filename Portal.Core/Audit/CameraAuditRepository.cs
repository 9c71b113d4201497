using Dapper;
using Portal.Core.Data;
using Portal.Core.Security;

namespace Portal.Core.Audit;

/// <summary>
/// The camera audit (table CameraAudit): every video view and every PTZ, preset and warning-light command, whether it
/// came from an alarm's pop-up, a school's page or the camera wall. Written by the media plane's camera handle; read
/// by administrators only.
/// </summary>
public sealed class CameraAuditRepository(Db db)
{
    public const int MaxDetailLength = 256;

    private const string Insert = """
        INSERT INTO CameraAudit (AtUtc, UserId, UserName, Role, SchoolId, DeviceId, AlarmId, Origin, Action, Detail, RemoteAddress)
        VALUES (@AtUtc, @UserId, @UserName, @Role, @SchoolId, @DeviceId, @AlarmId, @Origin, @Action, @Detail, @RemoteAddress)
        """;

    private const string Columns = """
        c.Id, c.AtUtc, c.UserId, c.UserName, c.Role, c.SchoolId, s.Code AS SchoolCode, s.Name AS SchoolName, c.DeviceId, c.AlarmId,
        c.Origin, c.Action, c.Detail, c.RemoteAddress
        """;

    private const string From = "FROM CameraAudit c LEFT JOIN School s ON s.Id = c.SchoolId";

    private const string Where = """
        WHERE (@FromUtc IS NULL OR c.AtUtc >= @FromUtc) AND (@ToUtc IS NULL OR c.AtUtc < @ToUtc)
        AND (@UserName IS NULL OR c.UserName LIKE @UserName ESCAPE '\')
        AND (@School IS NULL OR s.Code = @SchoolExact OR s.Name LIKE @School ESCAPE '\')
        AND (@Action IS NULL OR c.Action = @Action) AND (@Origin IS NULL OR c.Origin = @Origin)
        """;

    private const string DeleteOlder = "DELETE FROM CameraAudit WHERE AtUtc < @Before";

    internal static string PageSql(Db db) =>
        "SELECT COUNT(*) " + From + " " + Where + ";\n"
        + "SELECT " + Columns + " " + From + " " + Where + " ORDER BY c.AtUtc DESC, c.Id DESC " + db.Paging + ";";

    public async Task AddAsync(CameraAuditEntry entry, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(entry);
        await using var connection = db.Open();
        await connection.ExecuteAsync(new CommandDefinition(Insert, new
        {
            entry.AtUtc,
            entry.UserId,
            entry.UserName,
            entry.Role,
            entry.SchoolId,
            entry.DeviceId,
            entry.AlarmId,
            Origin = (int)entry.Origin,
            Action = (int)entry.Action,
            Detail = entry.Detail is { Length: > MaxDetailLength } d ? d[..MaxDetailLength] : entry.Detail,
            entry.RemoteAddress,
        }, cancellationToken: ct)).ConfigureAwait(false);
    }

    /// <summary>One page of the audit, newest first. Administrators only.</summary>
    /// <exception cref="ScopeDeniedException">The caller is not an administrator.</exception>
    public async Task<Page<CameraAuditEntry>> GetPageAsync(UserScope scope, CameraAuditQuery query, PageRequest page, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(scope);
        ArgumentNullException.ThrowIfNull(query);
        scope.Require(Roles.Admin);
        page = page.Clamp();
        var school = string.IsNullOrWhiteSpace(query.School) ? null : query.School.Trim();
        var args = new
        {
            query.FromUtc,
            query.ToUtc,
            UserName = string.IsNullOrWhiteSpace(query.UserName) ? null : Like(query.UserName.Trim()),
            School = school is null ? null : Like(school),
            SchoolExact = school,
            Action = (int?)query.Action,
            Origin = (int?)query.Origin,
            page.Skip,
            page.Take,
        };
        await using var connection = db.Open();
        await using var grid = await connection.QueryMultipleAsync(new CommandDefinition(PageSql(db), args, cancellationToken: ct)).ConfigureAwait(false);
        var total = await grid.ReadSingleAsync<int>().ConfigureAwait(false);
        return new Page<CameraAuditEntry>([.. await grid.ReadAsync<CameraAuditEntry>().ConfigureAwait(false)], total);
    }

    /// <summary>Deletes rows older than <paramref name="before"/>; returns how many.</summary>
    public async Task<int> DeleteOlderThanAsync(DateTime before, CancellationToken ct = default)
    {
        await using var connection = db.Open();
        return await connection.ExecuteAsync(new CommandDefinition(DeleteOlder, new { Before = before }, cancellationToken: ct)).ConfigureAwait(false);
    }

    /// <summary>A prefix pattern: the typed text matches literally (its % and _ are not wildcards; ESCAPE is portable).</summary>
    private static string Like(string prefix) =>
        prefix.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("%", "\\%", StringComparison.Ordinal).Replace("_", "\\_", StringComparison.Ordinal) + "%";
}
