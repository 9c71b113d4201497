using System.Globalization;
using Dapper;
using Portal.Core.Data;
using Portal.Core.Security;

namespace Portal.Core.Installation;

public enum ReportFormat
{
    Xlsx = 0,
    Pdf = 1,
}

public enum ReportOrigin
{
    OnDemand = 0,
    Weekly = 1,
}

/// <summary>A generated report in the history; its file lives under the data folder.</summary>
public sealed record CompletionReport
{
    public int Id { get; init; }

    public int? DistrictId { get; init; }

    public string? DistrictName { get; init; }

    public ReportFormat Format { get; init; }

    public ReportOrigin Origin { get; init; }

    public string? PeriodKey { get; init; }

    public required string StoredName { get; init; }

    public long SizeBytes { get; init; }

    public int Schools { get; init; }

    public int SchoolsDone { get; init; }

    public DateTime CreatedUtc { get; init; }

    public required string CreatedBy { get; init; }

    public string ContentType => Format == ReportFormat.Pdf ? "application/pdf" : "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

    /// <summary>The name a download is saved under.</summary>
    public string DownloadName => string.Create(CultureInfo.InvariantCulture,
        $"{(DistrictName ?? "青岛市")}-安装完成情况-{CreatedUtc + ProgrammeSnapshot.LocalOffset:yyyyMMdd-HHmm}.{(Format == ReportFormat.Pdf ? "pdf" : "xlsx")}");
}

/// <summary>
/// Generates completion reports (city or one district, xlsx or PDF) from <see cref="ProgrammeQueries"/>, keeps
/// each file under the data folder with a history row, and hands files only to users whose scope covers them.
/// </summary>
public sealed class CompletionReportService(Db db, ProgrammeQueries queries, InstallationFiles files, TimeProvider time)
{
    private const string Columns = """
        r.Id, r.DistrictId, d.Name AS DistrictName, r.Format, r.Origin, r.PeriodKey, r.StoredName, r.SizeBytes, r.Schools, r.SchoolsDone, r.CreatedUtc, r.CreatedBy
        """;

    private const string SelectHistory = "SELECT " + Columns + """
         FROM CompletionReport r LEFT JOIN District d ON d.Id = r.DistrictId
        WHERE (@ScopeDistrictId IS NULL OR r.DistrictId = @ScopeDistrictId)
        ORDER BY r.CreatedUtc DESC, r.Id DESC
        """;

    private const string SelectById = "SELECT " + Columns + " FROM CompletionReport r LEFT JOIN District d ON d.Id = r.DistrictId WHERE r.Id = @Id";

    private const string SelectWeekly = "SELECT COUNT(*) FROM CompletionReport WHERE Origin = 1 AND PeriodKey = @PeriodKey AND Format = @Format AND COALESCE(DistrictId, 0) = @DistrictKey";

    private const string InsertSqlServer = """
        INSERT INTO CompletionReport (DistrictId, Format, Origin, PeriodKey, StoredName, SizeBytes, Schools, SchoolsDone, CreatedUtc, CreatedBy)
        OUTPUT INSERTED.Id
        VALUES (@DistrictId, @Format, @Origin, @PeriodKey, @StoredName, @SizeBytes, @Schools, @SchoolsDone, @CreatedUtc, @CreatedBy)
        """;

    private const string InsertSqlite = """
        INSERT INTO CompletionReport (DistrictId, Format, Origin, PeriodKey, StoredName, SizeBytes, Schools, SchoolsDone, CreatedUtc, CreatedBy)
        VALUES (@DistrictId, @Format, @Origin, @PeriodKey, @StoredName, @SizeBytes, @Schools, @SchoolsDone, @CreatedUtc, @CreatedBy)
        RETURNING Id
        """;

    /// <summary>Writes the report for <paramref name="districtId"/> (null: the city) straight to a stream, without keeping it.</summary>
    public async Task<ProgrammeSnapshot> WriteAsync(UserScope scope, int? districtId, ReportFormat format, Stream output, CancellationToken ct = default)
    {
        var snapshot = await queries.GetSnapshotAsync(scope, districtId, ct).ConfigureAwait(false);
        var title = ReportText.Title(districtId is null ? null : (snapshot.ByDistrict.Count > 0 ? snapshot.ByDistrict[0].Name : null));
        if (format == ReportFormat.Pdf)
        {
            CompletionReportPdf.Write(snapshot, title, output);
        }
        else
        {
            CompletionReportXlsx.Write(snapshot, title, output);
        }

        return snapshot;
    }

    /// <summary>
    /// Generates and keeps a report. Only the bureau and administrators may; a district officer only for their
    /// own district (the city report or another district is refused with nothing written).
    /// </summary>
    public async Task<InstallationResult> GenerateAsync(UserScope scope, int? districtId, ReportFormat format, CancellationToken ct = default) =>
        await GenerateAsync(scope, districtId, format, ReportOrigin.OnDemand, null, ct).ConfigureAwait(false);

    internal async Task<InstallationResult> GenerateAsync(UserScope scope, int? districtId, ReportFormat format, ReportOrigin origin, string? periodKey, CancellationToken ct)
    {
        if (scope.Role is not (Roles.Bureau or Roles.Admin))
        {
            return InstallationResult.Fail(InstallationErrors.NotAllowed);
        }

        if (scope.DistrictId is { } own && districtId != own)
        {
            return InstallationResult.Fail(InstallationErrors.OutOfScope);
        }

        var stored = InstallationFiles.NewName(format == ReportFormat.Pdf ? ".pdf" : ".xlsx");
        var path = files.ReportPath(stored);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        ProgrammeSnapshot snapshot;
        await using (var file = File.Create(path))
        {
            snapshot = await WriteAsync(scope, districtId, format, file, ct).ConfigureAwait(false);
        }

        await using var connection = await db.OpenAsync(ct).ConfigureAwait(false);
        var id = await connection.ExecuteScalarAsync<int>(new CommandDefinition(db.Pick(InsertSqlServer, InsertSqlite), new
        {
            DistrictId = districtId,
            Format = (int)format,
            Origin = (int)origin,
            PeriodKey = periodKey,
            StoredName = stored,
            SizeBytes = new FileInfo(path).Length,
            snapshot.Total.Schools,
            SchoolsDone = snapshot.Total.Done,
            CreatedUtc = time.GetUtcNow().UtcDateTime,
            CreatedBy = scope.UserName,
        }, cancellationToken: ct)).ConfigureAwait(false);
        return new InstallationResult(null, id);
    }

    /// <summary>True when the weekly report of <paramref name="periodKey"/> for that district and format already exists.</summary>
    internal async Task<bool> HasWeeklyAsync(string periodKey, int? districtId, ReportFormat format, CancellationToken ct)
    {
        await using var connection = await db.OpenAsync(ct).ConfigureAwait(false);
        return await connection.ExecuteScalarAsync<int>(new CommandDefinition(SelectWeekly,
            new { PeriodKey = periodKey, Format = (int)format, DistrictKey = districtId ?? 0 }, cancellationToken: ct)).ConfigureAwait(false) > 0;
    }

    /// <summary>The history a user may see: everything city-wide, only their district's reports otherwise.</summary>
    public async Task<IReadOnlyList<CompletionReport>> GetHistoryAsync(UserScope scope, CancellationToken ct = default)
    {
        if (scope.Role is not (Roles.Bureau or Roles.Admin))
        {
            return [];
        }

        await using var connection = await db.OpenAsync(ct).ConfigureAwait(false);
        return [.. await connection.QueryAsync<CompletionReport>(new CommandDefinition(SelectHistory, new { ScopeDistrictId = scope.DistrictId }, cancellationToken: ct)).ConfigureAwait(false)];
    }

    /// <summary>A kept report and its file, or null when it does not exist or lies outside the scope.</summary>
    public async Task<(CompletionReport Report, string Path)?> OpenAsync(UserScope scope, int id, CancellationToken ct = default)
    {
        if (scope.Role is not (Roles.Bureau or Roles.Admin))
        {
            return null;
        }

        await using var connection = await db.OpenAsync(ct).ConfigureAwait(false);
        var report = await connection.QuerySingleOrDefaultAsync<CompletionReport>(new CommandDefinition(SelectById, new { Id = id }, cancellationToken: ct)).ConfigureAwait(false);
        if (report is null || (scope.DistrictId is { } own && report.DistrictId != own))
        {
            return null;
        }

        var path = files.ReportPath(report.StoredName);
        return File.Exists(path) ? (report, path) : null;
    }
}
