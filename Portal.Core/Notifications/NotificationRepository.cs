using System.Data.Common;
using Dapper;
using Portal.Core.Data;
using Portal.Core.Security;

namespace Portal.Core.Notifications;

/// <summary>
/// Owns Notification and NotificationRead. A notification is one row addressed to an audience within a school and
/// district, never copied per user: each user's list is the rows their role bit and scope cover, less the ones
/// they marked read.
/// </summary>
public sealed class NotificationRepository(Db db)
{
    private const string Columns = "n.Id, n.Kind, n.Audience, n.DistrictId, n.SchoolId, n.DeviceId, n.SchoolName, n.DeviceKind, n.SerialNumber, n.CreatedUtc";

    private const string Visible = """
        FROM Notification n
        WHERE (n.Audience & @AudienceBit) <> 0
          AND (@ScopeDistrictId IS NULL OR n.DistrictId = @ScopeDistrictId)
          AND (@ScopeSchoolId IS NULL OR n.SchoolId = @ScopeSchoolId)
          AND n.CreatedUtc >= @Since
        """;

    private const string Unread = " AND NOT EXISTS (SELECT 1 FROM NotificationRead r WHERE r.NotificationId = n.Id AND r.UserId = @UserId)";

    private const string InsertSqlServer = """
        INSERT INTO Notification (Kind, Audience, DistrictId, SchoolId, DeviceId, SchoolName, DeviceKind, SerialNumber, CreatedUtc)
        OUTPUT INSERTED.Id
        VALUES (@Kind, @Audience, @DistrictId, @SchoolId, @DeviceId, @SchoolName, @DeviceKind, @SerialNumber, @CreatedUtc)
        """;

    private const string InsertSqlite = """
        INSERT INTO Notification (Kind, Audience, DistrictId, SchoolId, DeviceId, SchoolName, DeviceKind, SerialNumber, CreatedUtc)
        VALUES (@Kind, @Audience, @DistrictId, @SchoolId, @DeviceId, @SchoolName, @DeviceKind, @SerialNumber, @CreatedUtc)
        RETURNING Id
        """;

    private const string MarkOne = """
        INSERT INTO NotificationRead (NotificationId, UserId, ReadUtc)
        SELECT n.Id, @UserId, @Now
        """ + "\n" + Visible + " AND n.Id = @Id" + Unread;

    private const string MarkAll = """
        INSERT INTO NotificationRead (NotificationId, UserId, ReadUtc)
        SELECT n.Id, @UserId, @Now
        """ + "\n" + Visible + Unread;

    private const string DeleteOld = "DELETE FROM Notification WHERE CreatedUtc < @Before";

    /// <summary>How far back a user's list reaches (older rows are deleted by the retention job anyway).</summary>
    public static readonly TimeSpan Window = TimeSpan.FromDays(30);

    /// <summary>Adds a notification inside the caller's transaction; returns it with its id.</summary>
    public async Task<Notification> CreateAsync(DbTransaction tx, Notification notification, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(tx);
        ArgumentNullException.ThrowIfNull(notification);
        var id = await tx.Connection!.ExecuteScalarAsync<long>(new CommandDefinition(db.Pick(InsertSqlServer, InsertSqlite), new
        {
            Kind = (int)notification.Kind,
            Audience = (int)notification.Audience,
            notification.DistrictId,
            notification.SchoolId,
            notification.DeviceId,
            notification.SchoolName,
            DeviceKind = (int?)notification.DeviceKind,
            notification.SerialNumber,
            notification.CreatedUtc,
        }, tx, cancellationToken: ct)).ConfigureAwait(false);
        return notification with { Id = id };
    }

    /// <summary>The user's notifications, newest first, with their read flag.</summary>
    public async Task<Page<Notification>> GetPageAsync(UserScope scope, PageRequest page, bool unreadOnly, DateTime now, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(scope);
        page = page.Clamp();
        var from = Visible + (unreadOnly ? Unread : string.Empty);
        var sql = "SELECT COUNT(*) " + from + ";\n"
            + "SELECT " + Columns + ", CASE WHEN EXISTS (SELECT 1 FROM NotificationRead r WHERE r.NotificationId = n.Id AND r.UserId = @UserId) THEN 1 ELSE 0 END AS IsRead "
            + from + " ORDER BY n.CreatedUtc DESC, n.Id DESC " + db.Paging + ";";
        await using var connection = db.Open();
        await using var grid = await connection.QueryMultipleAsync(new CommandDefinition(sql, Args(scope, now, page), cancellationToken: ct)).ConfigureAwait(false);
        var total = await grid.ReadSingleAsync<int>().ConfigureAwait(false);
        var items = (await grid.ReadAsync<Notification>().ConfigureAwait(false)).ToList();
        return new Page<Notification>(items, total);
    }

    public async Task<int> CountUnreadAsync(UserScope scope, DateTime now, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(scope);
        await using var connection = db.Open();
        return await connection.ExecuteScalarAsync<int>(new CommandDefinition("SELECT COUNT(*) " + Visible + Unread, Args(scope, now, default), cancellationToken: ct)).ConfigureAwait(false);
    }

    /// <summary>Marks one notification read for the user; false when it is not theirs to see (or already read).</summary>
    public async Task<bool> MarkReadAsync(UserScope scope, long id, DateTime now, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(scope);
        await using var connection = db.Open();
        var args = new DynamicParameters(Args(scope, now, default));
        args.Add("Id", id);
        return await connection.ExecuteAsync(new CommandDefinition(MarkOne, args, cancellationToken: ct)).ConfigureAwait(false) == 1;
    }

    public async Task<int> MarkAllReadAsync(UserScope scope, DateTime now, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(scope);
        await using var connection = db.Open();
        return await connection.ExecuteAsync(new CommandDefinition(MarkAll, Args(scope, now, default), cancellationToken: ct)).ConfigureAwait(false);
    }

    public async Task<int> DeleteOlderThanAsync(DateTime before, CancellationToken ct = default)
    {
        await using var connection = db.Open();
        return await connection.ExecuteAsync(new CommandDefinition(DeleteOld, new { Before = before }, cancellationToken: ct)).ConfigureAwait(false);
    }

    internal static string PageSql(Db db) =>
        "SELECT COUNT(*) " + Visible + Unread + ";\nSELECT " + Columns + ", 0 AS IsRead " + Visible + " ORDER BY n.CreatedUtc DESC, n.Id DESC " + db.Paging + ";";

    private static object Args(UserScope scope, DateTime now, PageRequest page) => new
    {
        AudienceBit = (int)Notification.AudienceOf(scope.Role),
        ScopeDistrictId = scope.DistrictId,
        ScopeSchoolId = scope.SchoolId,
        scope.UserId,
        Since = now - Window,
        Now = now,
        page.Skip,
        page.Take,
    };
}
