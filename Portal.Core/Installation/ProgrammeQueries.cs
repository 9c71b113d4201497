using Dapper;
using Portal.Core.Data;
using Portal.Core.Schools;
using Portal.Core.Security;

namespace Portal.Core.Installation;

/// <summary>
/// The installation programme's figures. Dashboards, the principal's checklist and the report files all read
/// them from <see cref="GetSnapshotAsync"/> only, so the screen and the files never disagree (issue item 7).
/// </summary>
public sealed class ProgrammeQueries(Db db, TimeProvider time)
{
    private const string SelectSettings = "SELECT StartUtc, DeadlineUtc FROM InstallationProgramme ORDER BY Id DESC";

    private const string SelectDistricts = """
        SELECT Id, Code, Name, NameEn FROM District
        WHERE (@DistrictId IS NULL OR Id = @DistrictId)
        ORDER BY Code
        """;

    private const string SelectTargets = """
        SELECT DistrictId, TargetUtc, TargetPercent, ContactName, ContactPhone FROM DistrictTarget
        WHERE (@DistrictId IS NULL OR DistrictId = @DistrictId)
        """;

    // One row per school with the date of each step it has done: a pivot over InstallationStep.
    private const string SelectSchools = """
        SELECT s.Id AS SchoolId, s.Code, s.Name, s.SchoolType, s.DistrictId, d.Name AS DistrictName, d.NameEn AS DistrictNameEn,
               s.PrincipalName, s.Phone,
               MAX(CASE WHEN st.Step = 0 THEN st.DoneUtc END) AS SurveyedUtc,
               MAX(CASE WHEN st.Step = 1 THEN st.DoneUtc END) AS TerminalUtc,
               MAX(CASE WHEN st.Step = 2 THEN st.DoneUtc END) AS CameraUtc,
               MAX(CASE WHEN st.Step = 3 THEN st.DoneUtc END) AS OnlineUtc,
               MAX(CASE WHEN st.Step = 4 THEN st.DoneUtc END) AS AcceptedUtc,
               MAX(CASE WHEN st.Step = 5 THEN st.DoneUtc END) AS SignedOffUtc
        FROM School s
        JOIN District d ON d.Id = s.DistrictId
        LEFT JOIN InstallationStep st ON st.SchoolId = s.Id
        WHERE (@DistrictId IS NULL OR s.DistrictId = @DistrictId)
          AND (@SchoolId IS NULL OR s.Id = @SchoolId)
        GROUP BY s.Id, s.Code, s.Name, s.SchoolType, s.DistrictId, d.Name, d.NameEn, d.Code, s.PrincipalName, s.Phone
        ORDER BY d.Code, s.Code
        """;

    /// <summary>
    /// The programme as <paramref name="scope"/> may see it, narrowed to <paramref name="districtId"/> when
    /// given. A district outside the scope is refused (<see cref="ScopeDeniedException"/>), never silently widened.
    /// </summary>
    public async Task<ProgrammeSnapshot> GetSnapshotAsync(UserScope scope, int? districtId = null, CancellationToken ct = default)
    {
        if (districtId is { } asked && !scope.CanSeeDistrict(asked) && scope.SchoolId is null)
        {
            throw new ScopeDeniedException("The district is outside the caller's scope.");
        }

        var district = districtId ?? scope.DistrictId;
        var args = new { DistrictId = district, scope.SchoolId };
        await using var connection = await db.OpenAsync(ct).ConfigureAwait(false);
        var settings = await connection.QueryFirstOrDefaultAsync<ProgrammeSettingsRow>(new CommandDefinition(SelectSettings, cancellationToken: ct)).ConfigureAwait(false);
        var districts = (await connection.QueryAsync<District>(new CommandDefinition(SelectDistricts, args, cancellationToken: ct)).ConfigureAwait(false)).ToList();
        var targets = (await connection.QueryAsync<DistrictTarget>(new CommandDefinition(SelectTargets, args, cancellationToken: ct)).ConfigureAwait(false))
            .ToDictionary(t => t.DistrictId);
        var rows = await connection.QueryAsync<SchoolProgress>(new CommandDefinition(SelectSchools, args, cancellationToken: ct)).ConfigureAwait(false);

        var programme = settings is null ? ProgrammeSettings.Default : new ProgrammeSettings(settings.StartUtc, settings.DeadlineUtc);
        var now = time.GetUtcNow().UtcDateTime;
        var schools = rows.Select(s =>
        {
            var due = targets.GetValueOrDefault(s.DistrictId)?.TargetUtc ?? programme.DeadlineUtc;
            return s with { DueUtc = due, IsOverdue = s.SignedOffUtc is null && now >= due };
        }).ToList();
        if (scope.SchoolId is not null)
        {
            districts = [.. districts.Where(d => schools.Any(s => s.DistrictId == d.Id))];
        }

        return new ProgrammeSnapshot(now, programme, districts, targets, schools, district);
    }

    /// <summary>The deadline and start in force (the default order when the bureau has set none).</summary>
    public async Task<ProgrammeSettings> GetSettingsAsync(CancellationToken ct = default)
    {
        await using var connection = await db.OpenAsync(ct).ConfigureAwait(false);
        var row = await connection.QueryFirstOrDefaultAsync<ProgrammeSettingsRow>(new CommandDefinition(SelectSettings, cancellationToken: ct)).ConfigureAwait(false);
        return row is null ? ProgrammeSettings.Default : new ProgrammeSettings(row.StartUtc, row.DeadlineUtc);
    }

    private sealed record ProgrammeSettingsRow
    {
        public DateTime StartUtc { get; init; }

        public DateTime DeadlineUtc { get; init; }
    }
}
