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
        d.SipAccount, d.RtspUrl, d.InstallState, d.Enabled, d.HealthState, d.LastSeenUtc, d.RekeyRequired
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

    // Credentials (issue 13): each change is one statement on the columns it owns, so a rotation can never
    // lose a key written meanwhile, and nothing else in the row is rewritten. On the right-hand side of SET both
    // engines read the row as it was, so the current key becomes the previous one in the same statement.
    private const string SelectCredentials = """
        SELECT Id, Kind, SerialNumber, Username, SecretProtected, ApiKeyProtected, ApiKeyPreviousProtected, ApiKeyPreviousUntilUtc,
            ApiKeyIssuedUtc, RekeyRequired
        FROM Device WHERE Id = @Id
        """;

    private const string SelectPreviousApiKey = "SELECT ApiKeyPreviousProtected, ApiKeyPreviousUntilUtc FROM Device WHERE Id = @Id";

    private const string RotateApiKey = """
        UPDATE Device SET ApiKeyPreviousProtected = ApiKeyProtected,
            ApiKeyPreviousUntilUtc = CASE WHEN ApiKeyProtected IS NULL THEN NULL ELSE @PreviousUntilUtc END,
            ApiKeyProtected = @ApiKeyProtected, ApiKeyIssuedUtc = @Now, RekeyRequired = 0, UpdatedUtc = @Now
        WHERE Id = @Id
        """;

    private const string RevokeApiKey = """
        UPDATE Device SET ApiKeyProtected = NULL, ApiKeyPreviousProtected = NULL, ApiKeyPreviousUntilUtc = NULL, ApiKeyIssuedUtc = NULL,
            UpdatedUtc = @Now
        WHERE Id = @Id
        """;

    private const string SetSecret = "UPDATE Device SET SecretProtected = @SecretProtected, UpdatedUtc = @Now WHERE Id = @Id";

    private const string SetLogin = "UPDATE Device SET Username = @Username, SecretProtected = @SecretProtected, UpdatedUtc = @Now WHERE Id = @Id";

    // A confirmed change of identity (issue 13): new hardware under the same registry entry. Its secrets stay, and a
    // terminal is flagged for a new key, since the key belonged to the hardware it replaces.
    private const string ChangeSerial = """
        UPDATE Device SET SerialNumber = @SerialNumber, InstallState = CASE WHEN InstallState < 1 THEN 1 ELSE InstallState END,
            RekeyRequired = CASE WHEN Kind = @Terminal THEN 1 ELSE RekeyRequired END, UpdatedUtc = @Now
        WHERE Id = @Id
        """;

    internal static async Task<bool> ChangeSerialAsync(DbTransaction tx, int id, string serialNumber, DateTime now, CancellationToken ct) =>
        await tx.Connection!.ExecuteAsync(new CommandDefinition(ChangeSerial,
            new { Id = id, SerialNumber = serialNumber, Terminal = (int)DeviceKind.AlarmTerminal, Now = now }, tx, cancellationToken: ct)).ConfigureAwait(false) == 1;

    public async Task<DeviceCredentials?> GetCredentialsAsync(int id, CancellationToken ct = default)
    {
        await using var connection = db.Open();
        return await connection.QuerySingleOrDefaultAsync<DeviceCredentials>(new CommandDefinition(SelectCredentials, new { Id = id }, cancellationToken: ct)).ConfigureAwait(false);
    }

    /// <summary>The key a rotation replaced and until when it is still accepted (both null when there is none).</summary>
    public async Task<(string? Protected, DateTime? UntilUtc)> GetPreviousApiKeyAsync(int id, CancellationToken ct = default)
    {
        await using var connection = db.Open();
        var row = await connection.QuerySingleOrDefaultAsync<PreviousApiKey>(
            new CommandDefinition(SelectPreviousApiKey, new { Id = id }, cancellationToken: ct)).ConfigureAwait(false);
        return (row?.ApiKeyPreviousProtected, row?.ApiKeyPreviousUntilUtc);
    }

    /// <summary>Stores a new API key; the current one (if any) stays valid until <paramref name="previousUntilUtc"/>. Clears the re-key flag.</summary>
    public async Task<bool> RotateApiKeyAsync(int id, string apiKeyProtected, DateTime previousUntilUtc, DateTime now, CancellationToken ct = default)
    {
        await using var connection = db.Open();
        return await connection.ExecuteAsync(new CommandDefinition(RotateApiKey,
            new { Id = id, ApiKeyProtected = apiKeyProtected, PreviousUntilUtc = previousUntilUtc, Now = now }, cancellationToken: ct)).ConfigureAwait(false) == 1;
    }

    /// <summary>Removes the API key and any previous one at once: the device's next signed request is refused.</summary>
    public async Task<bool> RevokeApiKeyAsync(int id, DateTime now, CancellationToken ct = default)
    {
        await using var connection = db.Open();
        return await connection.ExecuteAsync(new CommandDefinition(RevokeApiKey, new { Id = id, Now = now }, cancellationToken: ct)).ConfigureAwait(false) == 1;
    }

    /// <summary>Sets (or clears, with null) the device's password: a terminal's SIP digest password.</summary>
    public async Task<bool> SetSecretAsync(int id, string? secretProtected, DateTime now, CancellationToken ct = default)
    {
        await using var connection = db.Open();
        return await connection.ExecuteAsync(new CommandDefinition(SetSecret, new { Id = id, SecretProtected = secretProtected, Now = now }, cancellationToken: ct)).ConfigureAwait(false) == 1;
    }

    /// <summary>Sets a camera's user name and password (RTSP and ONVIF) together.</summary>
    public async Task<bool> SetLoginAsync(int id, string? username, string? secretProtected, DateTime now, CancellationToken ct = default)
    {
        await using var connection = db.Open();
        return await connection.ExecuteAsync(new CommandDefinition(SetLogin,
            new { Id = id, Username = username, SecretProtected = secretProtected, Now = now }, cancellationToken: ct)).ConfigureAwait(false) == 1;
    }

    internal static string PageSql(Db db) =>
        "SELECT COUNT(*) " + ListFrom + ";\n"
        + "SELECT " + ListColumns + " " + ListFrom + " ORDER BY s.DistrictId, s.Code, d.Kind " + db.Paging + ";";

    internal static string InsertSql(Db db) => db.Pick(InsertSqlServer, InsertSqlite);

    internal const string UpdateSql = Update;

    /// <summary>A registry import changed the terminal's serial: new hardware, which needs a new key (issue 13).</summary>
    internal const string FlagRekeySql = "UPDATE Device SET RekeyRequired = 1 WHERE Id = @Id";

    private sealed record PreviousApiKey
    {
        public string? ApiKeyPreviousProtected { get; init; }

        public DateTime? ApiKeyPreviousUntilUtc { get; init; }
    }
}
