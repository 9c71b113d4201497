using Dapper;
using Portal.Core.Data;
using Portal.Core.Security;

namespace Portal.Core.Installation;

/// <summary>One district's line in the programme overview: schools and how far their devices have come.</summary>
public sealed record DistrictProgress
{
    public int DistrictId { get; init; }

    public required string DistrictName { get; init; }

    public required string DistrictNameEn { get; init; }

    public int Schools { get; init; }

    /// <summary>Schools whose every device is at least installed.</summary>
    public int SchoolsInstalled { get; init; }

    /// <summary>Schools whose every device is connected to the platform (or accepted).</summary>
    public int SchoolsConnected { get; init; }

    /// <summary>Schools whose every device passed the joint acceptance test.</summary>
    public int SchoolsAccepted { get; init; }

    public int Devices { get; init; }

    public int DevicesOnline { get; init; }

    public double AcceptedPercent => Schools == 0 ? 0 : Math.Round(100.0 * SchoolsAccepted / Schools, 1);
}

/// <summary>
/// The installation programme's figures. Dashboards and reports read them from here only, so the screen
/// and the files never disagree.
/// </summary>
public sealed class ProgrammeQueries(Db db)
{
    // A school counts at a state when its least advanced device has reached it (a school with no
    // devices has reached nothing). MIN over the devices gives that in one pass.
    private const string ByDistrict = """
        SELECT d.Id AS DistrictId, d.Name AS DistrictName, d.NameEn AS DistrictNameEn,
               COUNT(s.Id) AS Schools,
               SUM(CASE WHEN s.MinState >= 1 THEN 1 ELSE 0 END) AS SchoolsInstalled,
               SUM(CASE WHEN s.MinState >= 2 THEN 1 ELSE 0 END) AS SchoolsConnected,
               SUM(CASE WHEN s.MinState >= 3 THEN 1 ELSE 0 END) AS SchoolsAccepted,
               COALESCE(SUM(s.Devices), 0) AS Devices,
               COALESCE(SUM(s.Online), 0) AS DevicesOnline
        FROM District d
        LEFT JOIN (
            SELECT sc.Id, sc.DistrictId,
                   COALESCE(MIN(dv.InstallState), -1) AS MinState,
                   COUNT(dv.Id) AS Devices,
                   SUM(CASE WHEN dv.HealthState = 1 THEN 1 ELSE 0 END) AS Online
            FROM School sc LEFT JOIN Device dv ON dv.SchoolId = sc.Id
            GROUP BY sc.Id, sc.DistrictId
        ) s ON s.DistrictId = d.Id
        WHERE (@ScopeDistrictId IS NULL OR d.Id = @ScopeDistrictId)
        GROUP BY d.Id, d.Name, d.NameEn, d.Code
        ORDER BY d.Code
        """;

    public async Task<IReadOnlyList<DistrictProgress>> GetDistrictProgressAsync(UserScope scope, CancellationToken ct = default)
    {
        scope.Require(Roles.Bureau, Roles.Admin, Roles.CityOperator, Roles.DistrictOperator);
        await using var connection = db.Open();
        return [.. await connection.QueryAsync<DistrictProgress>(new CommandDefinition(ByDistrict, new { ScopeDistrictId = scope.DistrictId }, cancellationToken: ct)).ConfigureAwait(false)];
    }
}
