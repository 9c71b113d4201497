using System.Data.Common;
using System.Runtime.CompilerServices;
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

/// <summary>
/// The only code that writes the Device table. Each write names what it is for (an administrator's edit, a
/// registry import, an installation step, the platform seeing the device) and touches only the columns that
/// purpose owns, so no caller can write back a stale whole row: an import never reaches a secret, a sighting
/// never reaches the registry's fields. Methods taking a <see cref="DbTransaction"/> join the caller's
/// transaction (a service that changes several tables at once).
/// </summary>
public sealed class DeviceRepository(Db db)
{
    // What a SIP account authenticates as (account, password, enabled, kind) changes only through the writes that call
    // CredentialsChanged (issue 11): DeviceIntake caches the registrar's lookups and drops them when this moves. One counter
    // per database, shared by every repository instance on it (the registry importer holds its own).
    private static readonly ConditionalWeakTable<Db, StrongBox<long>> Generations = new();

    private readonly StrongBox<long> _generation = Generations.GetValue(db, _ => new StrongBox<long>());

    /// <summary>
    /// Grows after every write that may change a device's SIP account, password, enabled flag or kind (for a transaction
    /// the caller commits, after the commit: <see cref="CredentialsChanged"/>). A cache entry read under an older value is stale.
    /// </summary>
    public long CredentialGeneration => Interlocked.Read(ref _generation.Value);

    /// <summary>Marks every cached SIP credential of this database stale; call it after committing a transaction that changed devices.</summary>
    public void CredentialsChanged() => Interlocked.Increment(ref _generation.Value);

    private const string Columns = """
        Id, SchoolId, Kind, Model, SerialNumber, SipAccount, RtspUrl, OnvifUrl, Username, SecretProtected, ApiKeyProtected,
        ApiKeyPreviousProtected, ApiKeyPreviousUntilUtc, InstallState, Enabled, HealthState, LastSeenUtc, LastHeartbeatUtc, CreatedUtc, UpdatedUtc, RtspAllowBasicAuth,
        RtspSubStreamUrl
        """;

    private const string SelectById = "SELECT " + Columns + " FROM Device WHERE Id = @Id";

    private const string SelectBySerial = "SELECT " + Columns + " FROM Device WHERE SerialNumber = @SerialNumber";

    private const string SelectBySipAccount = "SELECT " + Columns + " FROM Device WHERE SipAccount = @SipAccount";

    private const string SelectBySchool = "SELECT " + Columns + " FROM Device WHERE SchoolId = @SchoolId ORDER BY Kind, SerialNumber";

    private const string SelectAll = "SELECT " + Columns + " FROM Device";

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
            InstallState, Enabled, HealthState, LastSeenUtc, CreatedUtc, UpdatedUtc, RtspAllowBasicAuth, RtspSubStreamUrl)
        VALUES (@SchoolId, @Kind, @Model, @SerialNumber, @SipAccount, @RtspUrl, @OnvifUrl, @Username, @SecretProtected, @ApiKeyProtected,
            @InstallState, @Enabled, @HealthState, @LastSeenUtc, @CreatedUtc, @UpdatedUtc, @RtspAllowBasicAuth, @RtspSubStreamUrl)
        RETURNING Id
        """;

    private const string InsertSqlServer = """
        INSERT INTO Device (SchoolId, Kind, Model, SerialNumber, SipAccount, RtspUrl, OnvifUrl, Username, SecretProtected, ApiKeyProtected,
            InstallState, Enabled, HealthState, LastSeenUtc, CreatedUtc, UpdatedUtc, RtspAllowBasicAuth, RtspSubStreamUrl)
        OUTPUT INSERTED.Id
        VALUES (@SchoolId, @Kind, @Model, @SerialNumber, @SipAccount, @RtspUrl, @OnvifUrl, @Username, @SecretProtected, @ApiKeyProtected,
            @InstallState, @Enabled, @HealthState, @LastSeenUtc, @CreatedUtc, @UpdatedUtc, @RtspAllowBasicAuth, @RtspSubStreamUrl)
        """;

    // The administrator's edit: what the device dialog holds. Not the API key, health or sightings.
    private const string UpdateAdministered = """
        UPDATE Device SET SchoolId = @SchoolId, Kind = @Kind, Model = @Model, SerialNumber = @SerialNumber, SipAccount = @SipAccount,
            RtspUrl = @RtspUrl, OnvifUrl = @OnvifUrl, Username = @Username, SecretProtected = @SecretProtected,
            InstallState = @InstallState, Enabled = @Enabled, UpdatedUtc = @UpdatedUtc, RtspAllowBasicAuth = @RtspAllowBasicAuth,
            RtspSubStreamUrl = @RtspSubStreamUrl
        WHERE Id = @Id
        """;

    // A registry import carries a terminal's school, model and SIP account, and a camera's school, model and
    // addresses (issue 13: an import that wrote the whole row back had dropped the terminals' API keys).
    // The serial too, when a row names new hardware for a school's only terminal or camera (RegistryPlan.ReplacedDevice):
    // a terminal whose serial changes is flagged for a new key (the right-hand side reads the row as it was).
    private const string UpdateTerminalFromRegistry = """
        UPDATE Device SET SchoolId = @SchoolId, Model = @Model, SipAccount = @SipAccount, UpdatedUtc = @UpdatedUtc,
            SerialNumber = @SerialNumber, RekeyRequired = CASE WHEN SerialNumber <> @SerialNumber THEN 1 ELSE RekeyRequired END
        WHERE Id = @Id
        """;

    private const string UpdateCameraFromRegistry = """
        UPDATE Device SET SchoolId = @SchoolId, Model = @Model, RtspUrl = @RtspUrl, OnvifUrl = @OnvifUrl, UpdatedUtc = @UpdatedUtc,
            SerialNumber = @SerialNumber
        WHERE Id = @Id
        """;

    private const string ReleaseSipAccount = "UPDATE Device SET SipAccount = NULL WHERE Id = @Id";

    // The serial is the device's identity: a step never changes it (a different one is held, see InstallationHold).
    private const string UpdateInstalled = """
        UPDATE Device SET InstallState = CASE WHEN InstallState < @Installed THEN @Installed ELSE InstallState END, UpdatedUtc = @Now
        WHERE Id = @Id
        """;

    private const string UpdateConnected = """
        UPDATE Device SET InstallState = CASE WHEN InstallState < @Connected THEN @Connected ELSE InstallState END,
            HealthState = @Online, LastSeenUtc = @Now, UpdatedUtc = @Now
        WHERE Id = @Id
        """;

    private const string UpdateAccepted = """
        UPDATE Device SET InstallState = @Accepted, UpdatedUtc = @Now
        WHERE SchoolId = @SchoolId AND InstallState >= @Connected
        """;

    private const string UpdateInstallStateOfSchool = """
        UPDATE Device SET InstallState = @InstallState, HealthState = @HealthState
        WHERE SchoolId = @SchoolId AND Kind = @Kind
        """;

    // Never backwards: another instance may have written a newer sighting meanwhile.
    private const string UpdateLastSeen = """
        UPDATE Device SET
            LastSeenUtc = CASE WHEN LastSeenUtc IS NULL OR LastSeenUtc < @LastSeenUtc THEN @LastSeenUtc ELSE LastSeenUtc END,
            LastHeartbeatUtc = CASE WHEN @LastHeartbeatUtc IS NOT NULL AND (LastHeartbeatUtc IS NULL OR LastHeartbeatUtc < @LastHeartbeatUtc)
                THEN @LastHeartbeatUtc ELSE LastHeartbeatUtc END
        WHERE Id = @Id
        """;

    private const string UpdateHealth = "UPDATE Device SET HealthState = @HealthState WHERE Id = @Id AND HealthState <> @HealthState";

    public async Task<Device?> GetByIdAsync(int id, CancellationToken ct = default)
    {
        await using var connection = db.Open();
        return await connection.QuerySingleOrDefaultAsync<Device>(new CommandDefinition(SelectById, new { Id = id }, cancellationToken: ct)).ConfigureAwait(false);
    }

    internal static Task<Device?> GetByIdAsync(DbTransaction tx, int id, CancellationToken ct) =>
        tx.Connection!.QuerySingleOrDefaultAsync<Device>(new CommandDefinition(SelectById, new { Id = id }, tx, cancellationToken: ct));

    public async Task<Device?> GetBySerialNumberAsync(string serialNumber, CancellationToken ct = default)
    {
        await using var connection = db.Open();
        return await connection.QuerySingleOrDefaultAsync<Device>(new CommandDefinition(SelectBySerial, new { SerialNumber = serialNumber }, cancellationToken: ct)).ConfigureAwait(false);
    }

    internal static Task<Device?> GetBySerialNumberAsync(DbTransaction tx, string serialNumber, CancellationToken ct) =>
        tx.Connection!.QuerySingleOrDefaultAsync<Device>(new CommandDefinition(SelectBySerial, new { SerialNumber = serialNumber }, tx, cancellationToken: ct));

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

    internal static async Task<IReadOnlyList<Device>> GetManyBySchoolIdAsync(DbTransaction tx, int schoolId, CancellationToken ct) =>
        [.. await tx.Connection!.QueryAsync<Device>(new CommandDefinition(SelectBySchool, new { SchoolId = schoolId }, tx, cancellationToken: ct)).ConfigureAwait(false)];

    /// <summary>Every device, for the registry import's snapshot and the demo seeding (inside their transaction).</summary>
    internal static async Task<IReadOnlyList<Device>> GetAllAsync(DbTransaction tx, CancellationToken ct) =>
        [.. await tx.Connection!.QueryAsync<Device>(new CommandDefinition(SelectAll, transaction: tx, cancellationToken: ct)).ConfigureAwait(false)];

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

    /// <summary>Adds a device with every column as given (an administrator's new device, the demo city).</summary>
    public async Task<int> CreateAsync(Device device, CancellationToken ct = default)
    {
        await using var connection = db.Open();
        var id = await connection.ExecuteScalarAsync<int>(new CommandDefinition(db.Pick(InsertSqlServer, InsertSqlite), device, cancellationToken: ct)).ConfigureAwait(false);
        CredentialsChanged();
        return id;
    }

    /// <summary>Adds a device in the caller's transaction; a cached "no such SIP account" may be re-read until the next credential change or the cache's age.</summary>
    internal async Task<int> CreateAsync(DbTransaction tx, Device device, CancellationToken ct)
    {
        var id = await tx.Connection!.ExecuteScalarAsync<int>(new CommandDefinition(db.Pick(InsertSqlServer, InsertSqlite), device, tx, cancellationToken: ct)).ConfigureAwait(false);
        CredentialsChanged();
        return id;
    }

    /// <summary>
    /// The administrator's edit: identity, addresses, user name, password (as the caller passes it: keep it by
    /// passing the stored value), install state and enabled. The API key, health and sightings are left alone.
    /// </summary>
    public async Task UpdateAsync(Device device, CancellationToken ct = default)
    {
        await using var connection = db.Open();
        await connection.ExecuteAsync(new CommandDefinition(UpdateAdministered, device, cancellationToken: ct)).ConfigureAwait(false);
        CredentialsChanged();
    }

    /// <summary>
    /// Writes a registry import (issue 13, "import never loses a secret"): new devices whole, as planned; for a
    /// changed device only the columns the file carries (<see cref="UpdateTerminalFromRegistry"/>,
    /// <see cref="UpdateCameraFromRegistry"/>); and first, SIP accounts released by terminals that change theirs,
    /// so accounts can swap between terminals. Prepared statements, re-bound per row. The caller calls
    /// <see cref="CredentialsChanged"/> after its commit.
    /// </summary>
    internal async Task ImportAsync(DbTransaction tx, IReadOnlyList<int> sipAccountReleases, IReadOnlyList<Device> added, IReadOnlyList<Device> changed, CancellationToken ct)
    {
        using (var release = new PreparedCommand(db, tx, ReleaseSipAccount))
        {
            foreach (var id in sipAccountReleases)
            {
                await release.Set("Id", id).ExecuteAsync(ct).ConfigureAwait(false);
            }
        }

        using (var insert = new PreparedCommand(db, tx, db.Pick(InsertSqlServer, InsertSqlite)))
        {
            foreach (var device in added)
            {
                await insert.BindAll(name => ValueOf(device, name)).ScalarAsync(ct).ConfigureAwait(false);
            }
        }

        using var terminal = new PreparedCommand(db, tx, UpdateTerminalFromRegistry);
        using var camera = new PreparedCommand(db, tx, UpdateCameraFromRegistry);
        foreach (var device in changed)
        {
            var command = device.Kind == DeviceKind.AlarmTerminal ? terminal : camera;
            await command.BindAll(name => ValueOf(device, name)).ExecuteAsync(ct).ConfigureAwait(false);
        }
    }

    /// <summary>An installer recorded the device as installed (with the registry's serial); the state never goes back.</summary>
    internal static Task SetInstalledAsync(DbTransaction tx, int id, DateTime now, CancellationToken ct) =>
        tx.Connection!.ExecuteAsync(new CommandDefinition(UpdateInstalled,
            new { Id = id, Installed = (int)DeviceInstallState.Installed, Now = now }, tx, cancellationToken: ct));

    /// <summary>The platform has seen the device (registered, signed request, stream): Connected at least, online, seen now.</summary>
    internal static Task SetConnectedAsync(DbTransaction tx, int id, DateTime now, CancellationToken ct) =>
        tx.Connection!.ExecuteAsync(new CommandDefinition(UpdateConnected,
            new { Id = id, Connected = (int)DeviceInstallState.Connected, Online = (int)DeviceHealthState.Online, Now = now }, tx, cancellationToken: ct));

    /// <summary>The school passed its acceptance test: every device the platform has seen becomes Accepted.</summary>
    internal static Task SetAcceptedAsync(DbTransaction tx, int schoolId, DateTime now, CancellationToken ct) =>
        tx.Connection!.ExecuteAsync(new CommandDefinition(UpdateAccepted,
            new { SchoolId = schoolId, Accepted = (int)DeviceInstallState.Accepted, Connected = (int)DeviceInstallState.Connected, Now = now }, tx, cancellationToken: ct));

    /// <summary>Sets the install and health state of a school's devices of one kind (the demo programme's seeding).</summary>
    internal static Task SetInstallStateAsync(DbTransaction tx, int schoolId, DeviceKind kind, DeviceInstallState state, DeviceHealthState health, CancellationToken ct) =>
        tx.Connection!.ExecuteAsync(new CommandDefinition(UpdateInstallStateOfSchool,
            new { SchoolId = schoolId, Kind = (int)kind, InstallState = (int)state, HealthState = (int)health }, tx, cancellationToken: ct));

    /// <summary>
    /// The most sightings one transaction of <see cref="SetLastSeenAsync"/> holds. Issue 15: the flush was one
    /// transaction however many, and nearly every sighting dirties a page of its own (devices are spread over the
    /// table). Under the alarm benchmark a flush carries hundreds of devices, and one transaction of 64 took 10-40 ms
    /// with its sync; the whole flush as one held the write lock for all of that while presses waited.
    /// </summary>
    internal const int MaxSightingsPerTransaction = 64;

    /// <summary>
    /// Writes a batch of sightings (<see cref="DevicePresence"/>'s flush) with one prepared statement, in transactions
    /// of at most <see cref="MaxSightingsPerTransaction"/> that give way to a waiting alarm writer between them
    /// (<see cref="Db.GiveWayAsync"/>). A sighting never moves a device's times back, so one written twice (a flush that
    /// failed part way is tried again whole) does no harm.
    /// </summary>
    internal async Task SetLastSeenAsync(IReadOnlyCollection<(int Id, DateTime LastSeenUtc, DateTime? LastHeartbeatUtc)> sightings, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(sightings);
        await using var connection = await db.OpenAsync(ct).ConfigureAwait(false);
        foreach (var chunk in sightings.Chunk(MaxSightingsPerTransaction))
        {
            await db.GiveWayAsync(ct).ConfigureAwait(false);
            await using var tx = await connection.BeginTransactionAsync(ct).ConfigureAwait(false);
            using (var update = new PreparedCommand(db, tx, UpdateLastSeen))
            {
                foreach (var (id, seen, heartbeat) in chunk)
                {
                    await update.Set("Id", id).Set("LastSeenUtc", seen).Set("LastHeartbeatUtc", heartbeat).ExecuteAsync(ct).ConfigureAwait(false);
                }
            }

            await tx.CommitAsync(ct).ConfigureAwait(false);
        }
    }

    /// <summary>Records a device's health; true when it changed (only changes are written).</summary>
    public async Task<bool> SetHealthAsync(int id, DeviceHealthState state, CancellationToken ct = default)
    {
        await using var connection = db.Open();
        return await connection.ExecuteAsync(new CommandDefinition(UpdateHealth, new { Id = id, HealthState = (int)state }, cancellationToken: ct)).ConfigureAwait(false) == 1;
    }

    /// <summary>Records a device's health inside the caller's transaction (the health checks write the transition's history with it).</summary>
    internal static async Task<bool> SetHealthAsync(DbTransaction tx, int id, DeviceHealthState state, CancellationToken ct) =>
        await tx.Connection!.ExecuteAsync(new CommandDefinition(UpdateHealth, new { Id = id, HealthState = (int)state }, tx, cancellationToken: ct)).ConfigureAwait(false) == 1;
    // Credentials (issue 13): each change is one statement on the columns it owns, so a rotation can never
    // lose a key written meanwhile, and nothing else in the row is rewritten. On the right-hand side of SET both
    // engines read the row as it was, so the current key becomes the previous one in the same statement.
    private const string SelectCredentials = """
        SELECT Id, Kind, SerialNumber, Username, SecretProtected, ApiKeyProtected, ApiKeyPreviousProtected, ApiKeyPreviousUntilUtc,
            ApiKeyIssuedUtc, RekeyRequired
        FROM Device WHERE Id = @Id
        """;


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
        var changed = await connection.ExecuteAsync(new CommandDefinition(SetSecret, new { Id = id, SecretProtected = secretProtected, Now = now }, cancellationToken: ct)).ConfigureAwait(false) == 1;
        CredentialsChanged();
        return changed;
    }

    /// <summary>Sets a camera's user name and password (RTSP and ONVIF) together.</summary>
    public async Task<bool> SetLoginAsync(int id, string? username, string? secretProtected, DateTime now, CancellationToken ct = default)
    {
        await using var connection = db.Open();
        var changed = await connection.ExecuteAsync(new CommandDefinition(SetLogin,
            new { Id = id, Username = username, SecretProtected = secretProtected, Now = now }, cancellationToken: ct)).ConfigureAwait(false) == 1;
        CredentialsChanged();
        return changed;
    }

    internal static string PageSql(Db db) =>
        "SELECT COUNT(*) " + ListFrom + ";\n"
        + "SELECT " + ListColumns + " " + ListFrom + " ORDER BY s.DistrictId, s.Code, d.Kind " + db.Paging + ";";

    private static object? ValueOf(Device d, string name) => name switch
    {
        "Id" => d.Id,
        "SchoolId" => d.SchoolId,
        "Kind" => d.Kind,
        "Model" => d.Model,
        "SerialNumber" => d.SerialNumber,
        "SipAccount" => d.SipAccount,
        "RtspUrl" => d.RtspUrl,
        "OnvifUrl" => d.OnvifUrl,
        "Username" => d.Username,
        "SecretProtected" => d.SecretProtected,
        "ApiKeyProtected" => d.ApiKeyProtected,
        "InstallState" => d.InstallState,
        "Enabled" => d.Enabled,
        "HealthState" => d.HealthState,
        "LastSeenUtc" => d.LastSeenUtc,
        "LastHeartbeatUtc" => d.LastHeartbeatUtc,
        "CreatedUtc" => d.CreatedUtc,
        "UpdatedUtc" => d.UpdatedUtc,
        "RtspAllowBasicAuth" => d.RtspAllowBasicAuth,
        "RtspSubStreamUrl" => d.RtspSubStreamUrl,
        _ => throw new InvalidOperationException($"Device SQL names an unknown parameter @{name}."),
    };
}
