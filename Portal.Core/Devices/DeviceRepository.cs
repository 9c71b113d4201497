using System.Data.Common;
using Dapper;
using Portal.Core.Data;
using Portal.Core.Security;

namespace Portal.Core.Devices;

public sealed record DeviceQuery(
    string? Search = null,
    int? DistrictId = null,
    int? SchoolId = null,
    DeviceKind? Kind = null,
    DeviceInstallState? InstallState = null,
    DeviceHealthState? HealthState = null);

public sealed class DeviceRepository(Db db)
{
    private const string Columns = """
        Id, SchoolId, Kind, Model, SerialNumber, SipAccount, RtspUrl, OnvifUrl, Username, SecretProtected, ApiKeyProtected,
        InstallState, Enabled, HealthState, LastSeenUtc, CreatedUtc, UpdatedUtc
        """;

    private const string SelectById = "SELECT " + Columns + " FROM Device WHERE Id = @Id";

    private const string SelectBySerial = "SELECT " + Columns + " FROM Device WHERE SerialNumber = @SerialNumber";

    private const string SelectBySipAccount = "SELECT " + Columns + " FROM Device WHERE SipAccount = @SipAccount";

    private const string SelectBySchool = "SELECT " + Columns + " FROM Device WHERE SchoolId = @SchoolId ORDER BY Kind, SerialNumber";

    private const string ListFrom = """
        FROM Device d JOIN School s ON s.Id = d.SchoolId
        WHERE (@ScopeDistrictId IS NULL OR s.DistrictId = @ScopeDistrictId)
          AND (@ScopeSchoolId IS NULL OR s.Id = @ScopeSchoolId)
          AND (@DistrictId IS NULL OR s.DistrictId = @DistrictId)
          AND (@SchoolId IS NULL OR d.SchoolId = @SchoolId)
          AND (@Kind IS NULL OR d.Kind = @Kind)
          AND (@InstallState IS NULL OR d.InstallState = @InstallState)
          AND (@HealthState IS NULL OR d.HealthState = @HealthState)
          AND (@Search IS NULL OR d.SerialNumber LIKE @Search ESCAPE '\' OR s.Name LIKE @Search ESCAPE '\'
               OR s.Code LIKE @Search ESCAPE '\' OR d.SipAccount LIKE @Search ESCAPE '\' OR d.Model LIKE @Search ESCAPE '\')
        """;

    private const string ListColumns = """
        d.Id, d.SchoolId, s.Name AS SchoolName, s.Code AS SchoolCode, s.DistrictId, d.Kind, d.Model, d.SerialNumber,
        d.SipAccount, d.RtspUrl, d.InstallState, d.Enabled, d.HealthState, d.LastSeenUtc
        """;

    private const string InsertSqlite = """
        INSERT INTO Device (SchoolId, Kind, Model, SerialNumber, SipAccount, RtspUrl, OnvifUrl, Username, SecretProtected, ApiKeyProtected,
            InstallState, Enabled, HealthState, LastSeenUtc, CreatedUtc, UpdatedUtc)
        VALUES (@SchoolId, @Kind, @Model, @SerialNumber, @SipAccount, @RtspUrl, @OnvifUrl, @Username, @SecretProtected, @ApiKeyProtected,
            @InstallState, @Enabled, @HealthState, @LastSeenUtc, @CreatedUtc, @UpdatedUtc)
        RETURNING Id
        """;

    private const string InsertSqlServer = """
        INSERT INTO Device (SchoolId, Kind, Model, SerialNumber, SipAccount, RtspUrl, OnvifUrl, Username, SecretProtected, ApiKeyProtected,
            InstallState, Enabled, HealthState, LastSeenUtc, CreatedUtc, UpdatedUtc)
        OUTPUT INSERTED.Id
        VALUES (@SchoolId, @Kind, @Model, @SerialNumber, @SipAccount, @RtspUrl, @OnvifUrl, @Username, @SecretProtected, @ApiKeyProtected,
            @InstallState, @Enabled, @HealthState, @LastSeenUtc, @CreatedUtc, @UpdatedUtc)
        """;

    private const string Update = """
        UPDATE Device SET SchoolId = @SchoolId, Kind = @Kind, Model = @Model, SerialNumber = @SerialNumber, SipAccount = @SipAccount,
            RtspUrl = @RtspUrl, OnvifUrl = @OnvifUrl, Username = @Username, SecretProtected = @SecretProtected, ApiKeyProtected = @ApiKeyProtected,
            InstallState = @InstallState, Enabled = @Enabled, UpdatedUtc = @UpdatedUtc
        WHERE Id = @Id
        """;

    public async Task<Device?> GetByIdAsync(int id, CancellationToken ct = default)
    {
        await using var connection = db.Open();
        return await connection.QuerySingleOrDefaultAsync<Device>(new CommandDefinition(SelectById, new { Id = id }, cancellationToken: ct)).ConfigureAwait(false);
    }

    public async Task<Device?> GetBySerialNumberAsync(string serialNumber, CancellationToken ct = default)
    {
        await using var connection = db.Open();
        return await connection.QuerySingleOrDefaultAsync<Device>(new CommandDefinition(SelectBySerial, new { SerialNumber = serialNumber }, cancellationToken: ct)).ConfigureAwait(false);
    }

    public async Task<Device?> GetBySipAccountAsync(string sipAccount, CancellationToken ct = default)
    {
        await using var connection = db.Open();
        return await connection.QuerySingleOrDefaultAsync<Device>(new CommandDefinition(SelectBySipAccount, new { SipAccount = sipAccount }, cancellationToken: ct)).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<Device>> GetManyBySchoolIdAsync(int schoolId, CancellationToken ct = default)
    {
        await using var connection = db.Open();
        return [.. await connection.QueryAsync<Device>(new CommandDefinition(SelectBySchool, new { SchoolId = schoolId }, cancellationToken: ct)).ConfigureAwait(false)];
    }

    public async Task<Page<DeviceListItem>> GetPageAsync(UserScope scope, DeviceQuery query, PageRequest page, CancellationToken ct = default)
    {
        page = page.Clamp();
        var args = new
        {
            ScopeDistrictId = scope.DistrictId,
            ScopeSchoolId = scope.SchoolId,
            query.DistrictId,
            query.SchoolId,
            Kind = (int?)query.Kind,
            InstallState = (int?)query.InstallState,
            HealthState = (int?)query.HealthState,
            Search = string.IsNullOrWhiteSpace(query.Search) ? null : "%" + Schools.SchoolRepository.EscapeLike(query.Search.Trim()) + "%",
            page.Skip,
            page.Take,
        };
        await using var connection = db.Open();
        await using var grid = await connection.QueryMultipleAsync(new CommandDefinition(PageSql(db), args, cancellationToken: ct)).ConfigureAwait(false);
        var total = await grid.ReadSingleAsync<int>().ConfigureAwait(false);
        var items = (await grid.ReadAsync<DeviceListItem>().ConfigureAwait(false)).ToList();
        return new Page<DeviceListItem>(items, total);
    }

    public async Task<int> CreateAsync(Device device, CancellationToken ct = default)
    {
        await using var connection = db.Open();
        return await connection.ExecuteScalarAsync<int>(new CommandDefinition(db.Pick(InsertSqlServer, InsertSqlite), device, cancellationToken: ct)).ConfigureAwait(false);
    }

    public async Task UpdateAsync(Device device, CancellationToken ct = default)
    {
        await using var connection = db.Open();
        await connection.ExecuteAsync(new CommandDefinition(Update, device, cancellationToken: ct)).ConfigureAwait(false);
    }

    internal static string PageSql(Db db) =>
        "SELECT COUNT(*) " + ListFrom + ";\n"
        + "SELECT " + ListColumns + " " + ListFrom + " ORDER BY s.DistrictId, s.Code, d.Kind " + db.Paging + ";";

    internal static string InsertSql(Db db) => db.Pick(InsertSqlServer, InsertSqlite);

    internal const string UpdateSql = Update;

    // Health (issue 12): the health checks' transitions, in the transaction that writes their history.
    private const string UpdateHealthInTransaction = "UPDATE Device SET HealthState = @HealthState WHERE Id = @Id AND HealthState <> @HealthState";

    /// <summary>Records a device's health inside the caller's transaction; true when it changed (only changes are written).</summary>
    internal static async Task<bool> SetHealthAsync(DbTransaction tx, int id, DeviceHealthState state, CancellationToken ct) =>
        await tx.Connection!.ExecuteAsync(new CommandDefinition(UpdateHealthInTransaction, new { Id = id, HealthState = (int)state }, tx, cancellationToken: ct)).ConfigureAwait(false) == 1;
}
