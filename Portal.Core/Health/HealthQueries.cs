using Dapper;
using Portal.Core.Data;
using Portal.Core.Devices;
using Portal.Core.Schools;
using Portal.Core.Security;

namespace Portal.Core.Health;

/// <summary>Health counts of one district's checked devices (enabled and installed).</summary>
public sealed record DistrictHealth
{
    public int DistrictId { get; init; }

    public required string Name { get; init; }

    public required string NameEn { get; init; }

    public int Devices { get; init; }

    public int Online { get; init; }

    public int Degraded { get; init; }

    public int Offline { get; init; }

    public int Unknown { get; init; }

    /// <summary>Online (degraded counts as answering) among the devices whose state is known, in percent; null when none is known.</summary>
    public double? OnlinePercent => Devices - Unknown == 0 ? null : Math.Round(100.0 * (Online + Degraded) / (Devices - Unknown), 1);
}

/// <summary>A device in a health list: its school, state and since when, last sign of life.</summary>
public sealed record DeviceHealthItem
{
    public int DeviceId { get; init; }

    public int SchoolId { get; init; }

    public required string SchoolName { get; init; }

    public required string SchoolCode { get; init; }

    public int DistrictId { get; init; }

    public DeviceKind Kind { get; init; }

    public required string Model { get; init; }

    public required string SerialNumber { get; init; }

    public DeviceInstallState InstallState { get; init; }

    public DeviceHealthState State { get; init; }

    public DateTime? StateSinceUtc { get; init; }

    public string? Detail { get; init; }

    public bool IsFlapping { get; init; }

    public DateTime? FlappingSinceUtc { get; init; }

    /// <summary>The device's own last signal (heartbeat, registration, alarm).</summary>
    public DateTime? LastSignalUtc { get; init; }

    /// <summary>The last check that found it alive, as of the last write.</summary>
    public DateTime? LastOkUtc { get; init; }

    /// <summary>When the device was last known alive: now-ish (the last cycle) for an answering device, else its last sign.</summary>
    public DateTime? LastSeenUtc { get; init; }
}

/// <summary>A school with devices not answering, for the bureau's "worst schools".</summary>
public sealed record SchoolHealth
{
    public int SchoolId { get; init; }

    public required string SchoolName { get; init; }

    public required string SchoolCode { get; init; }

    public int DistrictId { get; init; }

    public int Offline { get; init; }

    public int Degraded { get; init; }

    public DateTime? OfflineSinceUtc { get; init; }
}

/// <summary>
/// The health views, every one scoped: the bureau's dashboard by district (bureau and administrators), offline lists
/// (also the police, for their district's terminals), a school's devices with their history (anyone who may see the
/// school), the flapping devices (administrators).
/// </summary>
public sealed class HealthQueries(Db db, SchoolRepository schools)
{
    private const string SelectDistricts = """
        SELECT t.Id AS DistrictId, t.Name, t.NameEn, COUNT(d.Id) AS Devices,
            SUM(CASE WHEN d.HealthState = @Online THEN 1 ELSE 0 END) AS Online,
            SUM(CASE WHEN d.HealthState = @Degraded THEN 1 ELSE 0 END) AS Degraded,
            SUM(CASE WHEN d.HealthState = @Offline THEN 1 ELSE 0 END) AS Offline,
            SUM(CASE WHEN d.HealthState = @Unknown THEN 1 ELSE 0 END) AS Unknown
        FROM District t
        LEFT JOIN School s ON s.DistrictId = t.Id
        LEFT JOIN Device d ON d.SchoolId = s.Id AND d.Enabled = 1 AND d.InstallState >= @Installed
        WHERE (@ScopeDistrictId IS NULL OR t.Id = @ScopeDistrictId)
        GROUP BY t.Id, t.Name, t.NameEn, t.Code
        ORDER BY t.Code
        """;

    private const string ItemColumns = """
        d.Id AS DeviceId, d.SchoolId, s.Name AS SchoolName, s.Code AS SchoolCode, s.DistrictId, d.Kind, d.Model, d.SerialNumber, d.InstallState,
        d.HealthState AS State, h.StateSinceUtc, h.Detail, COALESCE(h.IsFlapping, 0) AS IsFlapping, h.FlappingSinceUtc,
        d.LastSeenUtc AS LastSignalUtc, h.LastOkUtc
        """;

    private const string ItemFrom = """
        FROM Device d JOIN School s ON s.Id = d.SchoolId LEFT JOIN DeviceHealth h ON h.DeviceId = d.Id
        """;

    private const string OfflineWhere = """
        WHERE d.Enabled = 1 AND d.InstallState >= @Installed AND d.HealthState = @State
          AND (@ScopeDistrictId IS NULL OR s.DistrictId = @ScopeDistrictId) AND (@ScopeSchoolId IS NULL OR s.Id = @ScopeSchoolId)
          AND (@DistrictId IS NULL OR s.DistrictId = @DistrictId) AND (@Kind IS NULL OR d.Kind = @Kind)
        """;

    private const string SelectWorstSchools = """
        SELECT s.Id AS SchoolId, s.Name AS SchoolName, s.Code AS SchoolCode, s.DistrictId,
            SUM(CASE WHEN d.HealthState = @Offline THEN 1 ELSE 0 END) AS Offline,
            SUM(CASE WHEN d.HealthState = @Degraded THEN 1 ELSE 0 END) AS Degraded,
            MIN(CASE WHEN d.HealthState = @Offline THEN h.StateSinceUtc END) AS OfflineSinceUtc
        FROM Device d JOIN School s ON s.Id = d.SchoolId LEFT JOIN DeviceHealth h ON h.DeviceId = d.Id
        WHERE d.Enabled = 1 AND d.InstallState >= @Installed AND d.HealthState IN (@Offline, @Degraded)
          AND (@ScopeDistrictId IS NULL OR s.DistrictId = @ScopeDistrictId) AND (@DistrictId IS NULL OR s.DistrictId = @DistrictId)
        GROUP BY s.Id, s.Name, s.Code, s.DistrictId
        """;

    private const string SelectSchoolDevices = "SELECT " + ItemColumns + " " + ItemFrom + " WHERE d.SchoolId = @SchoolId ORDER BY d.Kind, d.SerialNumber";

    private const string SelectHistoryOfSchool = """
        SELECT e.Id, e.DeviceId, e.FromState, e.ToState, e.AtUtc, e.Detail
        FROM DeviceHealthEvent e JOIN Device d ON d.Id = e.DeviceId
        WHERE d.SchoolId = @SchoolId
        """;

    private const string FlappingWhere = """
        WHERE h.IsFlapping = 1 AND d.Enabled = 1
        """;

    private const string SelectLastCycle = "SELECT StartedUtc FROM HealthCheckRun WHERE Id = (SELECT MAX(Id) FROM HealthCheckRun)";

    /// <summary>The bureau's dashboard: every district in scope with its devices' health.</summary>
    public async Task<IReadOnlyList<DistrictHealth>> GetDistrictsAsync(UserScope scope, CancellationToken ct = default)
    {
        RequireDashboard(scope);
        await using var connection = db.Open();
        var rows = await connection.QueryAsync<DistrictHealth>(new CommandDefinition(SelectDistricts, Args(scope), cancellationToken: ct)).ConfigureAwait(false);
        return [.. rows];
    }

    /// <summary>Devices in one state (offline by default) in scope, the longest in that state first.</summary>
    public async Task<Page<DeviceHealthItem>> GetByStateAsync(UserScope scope, PageRequest page, int? districtId = null, DeviceKind? kind = null,
        DeviceHealthState state = DeviceHealthState.Offline, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(scope);
        page = page.Clamp();
        var args = new DynamicParameters(Args(scope));
        args.Add("DistrictId", districtId);
        args.Add("Kind", (int?)kind);
        args.Add("State", (int)state);
        args.Add("Skip", page.Skip);
        args.Add("Take", page.Take);
        await using var connection = db.Open();
        await using var grid = await connection.QueryMultipleAsync(new CommandDefinition(StatePageSql(db), args, cancellationToken: ct)).ConfigureAwait(false);
        var total = await grid.ReadSingleAsync<int>().ConfigureAwait(false);
        var items = (await grid.ReadAsync<DeviceHealthItem>().ConfigureAwait(false)).ToList();
        var lastCycle = await LastCycleAsync(connection, ct).ConfigureAwait(false);
        return new Page<DeviceHealthItem>([.. items.Select(i => WithLastSeen(i, lastCycle))], total);
    }

    /// <summary>Schools with the most devices down (then the longest down), for the dashboard.</summary>
    public async Task<IReadOnlyList<SchoolHealth>> GetWorstSchoolsAsync(UserScope scope, int? districtId, int take, CancellationToken ct = default)
    {
        RequireDashboard(scope);
        var args = new DynamicParameters(Args(scope));
        args.Add("DistrictId", districtId);
        args.Add("Skip", 0);
        args.Add("Take", Math.Clamp(take, 1, 100));
        await using var connection = db.Open();
        var rows = await connection.QueryAsync<SchoolHealth>(new CommandDefinition(WorstSchoolsSql(db), args, cancellationToken: ct)).ConfigureAwait(false);
        return [.. rows];
    }

    /// <summary>A school's devices with their health, or null when the school is unknown or outside the scope.</summary>
    public async Task<IReadOnlyList<DeviceHealthItem>?> GetSchoolDevicesAsync(UserScope scope, int schoolId, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(scope);
        var school = await schools.GetByIdAsync(schoolId, ct).ConfigureAwait(false);
        if (school is null || !scope.CanSee(school.DistrictId, school.Id))
        {
            return null;
        }

        await using var connection = db.Open();
        var rows = await connection.QueryAsync<DeviceHealthItem>(new CommandDefinition(SelectSchoolDevices, new { SchoolId = schoolId }, cancellationToken: ct)).ConfigureAwait(false);
        var lastCycle = await LastCycleAsync(connection, ct).ConfigureAwait(false);
        return [.. rows.Select(i => WithLastSeen(i, lastCycle))];
    }

    /// <summary>A school's health transitions, newest first; empty when the school is outside the scope.</summary>
    public async Task<Page<DeviceHealthEvent>> GetSchoolHistoryAsync(UserScope scope, int schoolId, PageRequest page, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(scope);
        var school = await schools.GetByIdAsync(schoolId, ct).ConfigureAwait(false);
        if (school is null || !scope.CanSee(school.DistrictId, school.Id))
        {
            return new Page<DeviceHealthEvent>([], 0);
        }

        page = page.Clamp();
        await using var connection = db.Open();
        await using var grid = await connection.QueryMultipleAsync(new CommandDefinition(HistoryPageSql(db),
            new { SchoolId = schoolId, page.Skip, page.Take }, cancellationToken: ct)).ConfigureAwait(false);
        var total = await grid.ReadSingleAsync<int>().ConfigureAwait(false);
        var items = (await grid.ReadAsync<DeviceHealthEvent>().ConfigureAwait(false)).ToList();
        return new Page<DeviceHealthEvent>(items, total);
    }

    /// <summary>Flapping devices (administrators).</summary>
    public async Task<Page<DeviceHealthItem>> GetFlappingAsync(UserScope scope, PageRequest page, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(scope);
        scope.Require(Roles.Admin);
        page = page.Clamp();
        await using var connection = db.Open();
        await using var grid = await connection.QueryMultipleAsync(new CommandDefinition(FlappingPageSql(db), new { page.Skip, page.Take }, cancellationToken: ct)).ConfigureAwait(false);
        var total = await grid.ReadSingleAsync<int>().ConfigureAwait(false);
        var items = (await grid.ReadAsync<DeviceHealthItem>().ConfigureAwait(false)).ToList();
        var lastCycle = await LastCycleAsync(connection, ct).ConfigureAwait(false);
        return new Page<DeviceHealthItem>([.. items.Select(i => WithLastSeen(i, lastCycle))], total);
    }

    internal static string StatePageSql(Db db) =>
        "SELECT COUNT(*) " + ItemFrom + " " + OfflineWhere + ";\n"
        + "SELECT " + ItemColumns + " " + ItemFrom + " " + OfflineWhere + " ORDER BY h.StateSinceUtc, d.Id " + db.Paging + ";";

    internal static string WorstSchoolsSql(Db db) =>
        SelectWorstSchools + " ORDER BY Offline DESC, OfflineSinceUtc, Degraded DESC, s.Id " + db.Paging;

    internal static string HistoryPageSql(Db db) =>
        "SELECT COUNT(*) FROM DeviceHealthEvent e JOIN Device d ON d.Id = e.DeviceId WHERE d.SchoolId = @SchoolId;\n"
        + SelectHistoryOfSchool + " ORDER BY e.AtUtc DESC, e.Id DESC " + db.Paging + ";";

    internal static string FlappingPageSql(Db db) =>
        "SELECT COUNT(*) " + ItemFrom + " " + FlappingWhere + ";\n"
        + "SELECT " + ItemColumns + " " + ItemFrom + " " + FlappingWhere + " ORDER BY h.FlappingSinceUtc, d.Id " + db.Paging + ";";

    private static void RequireDashboard(UserScope scope)
    {
        ArgumentNullException.ThrowIfNull(scope);
        scope.Require(Roles.Bureau, Roles.Admin);
    }

    private static async Task<DateTime?> LastCycleAsync(System.Data.Common.DbConnection connection, CancellationToken ct) =>
        await connection.ExecuteScalarAsync<DateTime?>(new CommandDefinition(SelectLastCycle, cancellationToken: ct)).ConfigureAwait(false);

    private static DeviceHealthItem WithLastSeen(DeviceHealthItem item, DateTime? lastCycle)
    {
        var alive = item.State is DeviceHealthState.Online or DeviceHealthState.Degraded ? lastCycle : null;
        DateTime? latest = null;
        foreach (var t in new[] { alive, item.LastSignalUtc, item.LastOkUtc })
        {
            if (t is { } v && (latest is null || v > latest))
            {
                latest = v;
            }
        }

        return item with { LastSeenUtc = latest };
    }

    private static object Args(UserScope scope) => new
    {
        ScopeDistrictId = scope.DistrictId,
        ScopeSchoolId = scope.SchoolId,
        Installed = (int)DeviceInstallState.Installed,
        Online = (int)DeviceHealthState.Online,
        Degraded = (int)DeviceHealthState.Degraded,
        Offline = (int)DeviceHealthState.Offline,
        Unknown = (int)DeviceHealthState.Unknown,
    };
}
