using System.Data.Common;
using Dapper;
using Portal.Core.Data;

namespace Portal.Core.Installation;

/// <summary>
/// The only code that writes the installation programme's tables: InstallationStep, InstallationHold, InstallationPhoto,
/// AcceptanceTest, InstallationProgramme and DistrictTarget. The services hold the rules (order of steps, who
/// may record what); methods taking a <see cref="DbTransaction"/> join the caller's transaction.
/// </summary>
public sealed class InstallationRepository(Db db)
{
    private const string SelectSteps = """
        SELECT Id, SchoolId, Step, DoneUtc, DoneBy, Notes, SerialNumber, CreatedUtc FROM InstallationStep
        WHERE SchoolId = @SchoolId ORDER BY Step
        """;

    private const string InsertStep = """
        INSERT INTO InstallationStep (SchoolId, Step, DoneUtc, DoneBy, Notes, SerialNumber, CreatedUtc)
        VALUES (@SchoolId, @Step, @DoneUtc, @DoneBy, @Notes, @SerialNumber, @CreatedUtc)
        """;

    private const string HoldColumns = """
        Id, SchoolId, Step, DeviceId, RegistrySerial, InstalledSerial, DoneUtc, DoneBy, Notes, CreatedUtc, State, ResolvedUtc, ResolvedBy
        """;

    private const string SelectWaitingHolds = "SELECT " + HoldColumns + " FROM InstallationHold WHERE SchoolId = @SchoolId AND State = @Waiting ORDER BY Step";

    private const string SelectHold = "SELECT " + HoldColumns + " FROM InstallationHold WHERE Id = @Id";

    private const string InsertHold = """
        INSERT INTO InstallationHold (SchoolId, Step, DeviceId, RegistrySerial, InstalledSerial, DoneUtc, DoneBy, Notes, CreatedUtc, State)
        VALUES (@SchoolId, @Step, @DeviceId, @RegistrySerial, @InstalledSerial, @DoneUtc, @DoneBy, @Notes, @CreatedUtc, @State)
        """;

    // Conditional: only a waiting hold is resolved, so two administrators cannot both confirm one.
    private const string ResolveHold = """
        UPDATE InstallationHold SET State = @State, ResolvedUtc = @Now, ResolvedBy = @By WHERE Id = @Id AND State = @Waiting
        """;

    private const string HoldListFrom = """
        FROM InstallationHold h JOIN School s ON s.Id = h.SchoolId
        WHERE h.State = @Waiting
        """;

    private const string HoldListColumns = """
        h.Id, h.SchoolId, s.Code AS SchoolCode, s.Name AS SchoolName, h.Step, h.DeviceId, h.RegistrySerial, h.InstalledSerial,
        h.DoneUtc, h.DoneBy, h.Notes
        """;

    private const string SelectPhotos = """
        SELECT Id, SchoolId, Step, StoredName, OriginalName, ContentType, SizeBytes, UploadedUtc, UploadedBy FROM InstallationPhoto
        WHERE SchoolId = @SchoolId ORDER BY Id
        """;

    private const string SelectPhoto = """
        SELECT Id, SchoolId, Step, StoredName, OriginalName, ContentType, SizeBytes, UploadedUtc, UploadedBy FROM InstallationPhoto WHERE Id = @Id
        """;

    private const string InsertPhotoSqlServer = """
        INSERT INTO InstallationPhoto (SchoolId, Step, StoredName, OriginalName, ContentType, SizeBytes, UploadedUtc, UploadedBy)
        OUTPUT INSERTED.Id
        VALUES (@SchoolId, @Step, @StoredName, @OriginalName, @ContentType, @SizeBytes, @UploadedUtc, @UploadedBy)
        """;

    private const string InsertPhotoSqlite = """
        INSERT INTO InstallationPhoto (SchoolId, Step, StoredName, OriginalName, ContentType, SizeBytes, UploadedUtc, UploadedBy)
        VALUES (@SchoolId, @Step, @StoredName, @OriginalName, @ContentType, @SizeBytes, @UploadedUtc, @UploadedBy)
        RETURNING Id
        """;

    private const string TestColumns = "Id, SchoolId, AlarmId, Outcome, RequestedUtc, RequestedBy, AudioOk, VideoOk, Notes, RecordedUtc, RecordedBy";

    private const string SelectTests = "SELECT " + TestColumns + " FROM AcceptanceTest WHERE SchoolId = @SchoolId ORDER BY Id DESC";

    private const string SelectTestByAlarm = "SELECT " + TestColumns + " FROM AcceptanceTest WHERE AlarmId = @AlarmId";

    private const string CountByOutcome = "SELECT COUNT(*) FROM AcceptanceTest WHERE SchoolId = @SchoolId AND Outcome = @Outcome";

    private const string InsertTestSqlServer = """
        INSERT INTO AcceptanceTest (SchoolId, AlarmId, Outcome, RequestedUtc, RequestedBy, AudioOk, VideoOk, Notes, RecordedUtc, RecordedBy)
        OUTPUT INSERTED.Id
        VALUES (@SchoolId, @AlarmId, @Outcome, @RequestedUtc, @RequestedBy, @AudioOk, @VideoOk, @Notes, @RecordedUtc, @RecordedBy)
        """;

    private const string InsertTestSqlite = """
        INSERT INTO AcceptanceTest (SchoolId, AlarmId, Outcome, RequestedUtc, RequestedBy, AudioOk, VideoOk, Notes, RecordedUtc, RecordedBy)
        VALUES (@SchoolId, @AlarmId, @Outcome, @RequestedUtc, @RequestedBy, @AudioOk, @VideoOk, @Notes, @RecordedUtc, @RecordedBy)
        RETURNING Id
        """;

    private const string UpdateTestAlarm = "UPDATE AcceptanceTest SET AlarmId = @AlarmId WHERE Id = @Id";

    private const string DeleteUnraisedTest = "DELETE FROM AcceptanceTest WHERE Id = @Id AND AlarmId IS NULL";

    // Conditional: only a test still waiting takes a verdict, so two operators cannot both record one.
    private const string UpdateTestResult = """
        UPDATE AcceptanceTest SET Outcome = @Outcome, AudioOk = @AudioOk, VideoOk = @VideoOk, Notes = @Notes,
            RecordedUtc = @RecordedUtc, RecordedBy = @RecordedBy
        WHERE Id = @Id AND Outcome = @Requested
        """;

    private const string SelectTarget = "SELECT DistrictId, TargetUtc, TargetPercent, ContactName, ContactPhone FROM DistrictTarget WHERE DistrictId = @DistrictId";

    private const string InsertSettings = "INSERT INTO InstallationProgramme (StartUtc, DeadlineUtc, UpdatedUtc, UpdatedBy) VALUES (@StartUtc, @DeadlineUtc, @Now, @By)";

    private const string UpdateTarget = """
        UPDATE DistrictTarget SET TargetUtc = @TargetUtc, TargetPercent = @TargetPercent, ContactName = @ContactName, ContactPhone = @ContactPhone, UpdatedUtc = @Now
        WHERE DistrictId = @DistrictId
        """;

    private const string InsertTarget = """
        INSERT INTO DistrictTarget (DistrictId, TargetUtc, TargetPercent, ContactName, ContactPhone, UpdatedUtc)
        VALUES (@DistrictId, @TargetUtc, @TargetPercent, @ContactName, @ContactPhone, @Now)
        """;

    public async Task<IReadOnlyList<InstallationStepRecord>> GetStepsAsync(int schoolId, CancellationToken ct = default)
    {
        await using var connection = db.Open();
        return [.. await connection.QueryAsync<InstallationStepRecord>(new CommandDefinition(SelectSteps, new { SchoolId = schoolId }, cancellationToken: ct)).ConfigureAwait(false)];
    }

    internal static async Task<IReadOnlyList<InstallationStepRecord>> GetStepsAsync(DbTransaction tx, int schoolId, CancellationToken ct) =>
        [.. await tx.Connection!.QueryAsync<InstallationStepRecord>(new CommandDefinition(SelectSteps, new { SchoolId = schoolId }, tx, cancellationToken: ct)).ConfigureAwait(false)];

    internal static Task AddStepAsync(DbTransaction tx, InstallationStepRecord step, CancellationToken ct) =>
        tx.Connection!.ExecuteAsync(new CommandDefinition(InsertStep, step, tx, cancellationToken: ct));

    /// <summary>A school's steps waiting for an administrator's confirmation of their serial (issue 13).</summary>
    public async Task<IReadOnlyList<InstallationHold>> GetWaitingHoldsAsync(int schoolId, CancellationToken ct = default)
    {
        await using var connection = db.Open();
        return [.. await connection.QueryAsync<InstallationHold>(new CommandDefinition(SelectWaitingHolds,
            new { SchoolId = schoolId, Waiting = (int)InstallationHoldState.Waiting }, cancellationToken: ct)).ConfigureAwait(false)];
    }

    internal static async Task<IReadOnlyList<InstallationHold>> GetWaitingHoldsAsync(DbTransaction tx, int schoolId, CancellationToken ct) =>
        [.. await tx.Connection!.QueryAsync<InstallationHold>(new CommandDefinition(SelectWaitingHolds,
            new { SchoolId = schoolId, Waiting = (int)InstallationHoldState.Waiting }, tx, cancellationToken: ct)).ConfigureAwait(false)];

    /// <summary>Every waiting hold with its school, oldest first, server-paged (the administrators' list).</summary>
    public async Task<Page<InstallationHoldItem>> GetWaitingHoldPageAsync(PageRequest page, CancellationToken ct = default)
    {
        page = page.Clamp();
        await using var connection = db.Open();
        await using var grid = await connection.QueryMultipleAsync(new CommandDefinition(HoldPageSql(db),
            new { Waiting = (int)InstallationHoldState.Waiting, page.Skip, page.Take }, cancellationToken: ct)).ConfigureAwait(false);
        var total = await grid.ReadSingleAsync<int>().ConfigureAwait(false);
        return new Page<InstallationHoldItem>([.. await grid.ReadAsync<InstallationHoldItem>().ConfigureAwait(false)], total);
    }

    internal static Task<InstallationHold?> GetHoldAsync(DbTransaction tx, int id, CancellationToken ct) =>
        tx.Connection!.QuerySingleOrDefaultAsync<InstallationHold>(new CommandDefinition(SelectHold, new { Id = id }, tx, cancellationToken: ct));

    internal static Task AddHoldAsync(DbTransaction tx, InstallationHold hold, CancellationToken ct) =>
        tx.Connection!.ExecuteAsync(new CommandDefinition(InsertHold, new
        {
            hold.SchoolId,
            Step = (int)hold.Step,
            hold.DeviceId,
            hold.RegistrySerial,
            hold.InstalledSerial,
            hold.DoneUtc,
            hold.DoneBy,
            hold.Notes,
            hold.CreatedUtc,
            State = (int)hold.State,
        }, tx, cancellationToken: ct));

    /// <summary>Confirms or rejects a waiting hold; false when it was no longer waiting.</summary>
    internal static async Task<bool> ResolveHoldAsync(DbTransaction tx, int id, InstallationHoldState state, DateTime now, string by, CancellationToken ct) =>
        await tx.Connection!.ExecuteAsync(new CommandDefinition(ResolveHold, new
        {
            Id = id,
            State = (int)state,
            Now = now,
            By = by,
            Waiting = (int)InstallationHoldState.Waiting,
        }, tx, cancellationToken: ct)).ConfigureAwait(false) == 1;

    public async Task<IReadOnlyList<InstallationPhoto>> GetPhotosAsync(int schoolId, CancellationToken ct = default)
    {
        await using var connection = db.Open();
        return [.. await connection.QueryAsync<InstallationPhoto>(new CommandDefinition(SelectPhotos, new { SchoolId = schoolId }, cancellationToken: ct)).ConfigureAwait(false)];
    }

    public async Task<InstallationPhoto?> GetPhotoAsync(int id, CancellationToken ct = default)
    {
        await using var connection = db.Open();
        return await connection.QuerySingleOrDefaultAsync<InstallationPhoto>(new CommandDefinition(SelectPhoto, new { Id = id }, cancellationToken: ct)).ConfigureAwait(false);
    }

    public async Task<int> AddPhotoAsync(InstallationPhoto photo, CancellationToken ct = default)
    {
        await using var connection = db.Open();
        return await connection.ExecuteScalarAsync<int>(new CommandDefinition(db.Pick(InsertPhotoSqlServer, InsertPhotoSqlite), photo, cancellationToken: ct)).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<AcceptanceTest>> GetTestsAsync(int schoolId, CancellationToken ct = default)
    {
        await using var connection = db.Open();
        return [.. await connection.QueryAsync<AcceptanceTest>(new CommandDefinition(SelectTests, new { SchoolId = schoolId }, cancellationToken: ct)).ConfigureAwait(false)];
    }

    public async Task<AcceptanceTest?> GetTestByAlarmIdAsync(int alarmId, CancellationToken ct = default)
    {
        await using var connection = db.Open();
        return await connection.QuerySingleOrDefaultAsync<AcceptanceTest>(new CommandDefinition(SelectTestByAlarm, new { AlarmId = alarmId }, cancellationToken: ct)).ConfigureAwait(false);
    }

    internal static Task<int> CountTestsAsync(DbTransaction tx, int schoolId, AcceptanceOutcome outcome, CancellationToken ct) =>
        tx.Connection!.ExecuteScalarAsync<int>(new CommandDefinition(CountByOutcome, new { SchoolId = schoolId, Outcome = (int)outcome }, tx, cancellationToken: ct));

    /// <summary>Adds a test as given (a new request has outcome Requested and no alarm yet); returns its id.</summary>
    internal Task<int> AddTestAsync(DbTransaction tx, AcceptanceTest test, CancellationToken ct) =>
        tx.Connection!.ExecuteScalarAsync<int>(new CommandDefinition(db.Pick(InsertTestSqlServer, InsertTestSqlite), test, tx, cancellationToken: ct));

    public async Task SetTestAlarmAsync(int testId, int alarmId, CancellationToken ct = default)
    {
        await using var connection = db.Open();
        await connection.ExecuteAsync(new CommandDefinition(UpdateTestAlarm, new { Id = testId, AlarmId = alarmId }, cancellationToken: ct)).ConfigureAwait(false);
    }

    /// <summary>Removes a request whose alarm could not be raised (it never reached a centre).</summary>
    public async Task DeleteUnraisedTestAsync(int testId, CancellationToken ct = default)
    {
        await using var connection = db.Open();
        await connection.ExecuteAsync(new CommandDefinition(DeleteUnraisedTest, new { Id = testId }, cancellationToken: ct)).ConfigureAwait(false);
    }

    /// <summary>Records the verdict on a test still waiting for one; false when it had one already.</summary>
    internal static async Task<bool> RecordTestResultAsync(DbTransaction tx, AcceptanceTest result, CancellationToken ct) =>
        await tx.Connection!.ExecuteAsync(new CommandDefinition(UpdateTestResult, new
        {
            result.Id,
            Outcome = (int)result.Outcome,
            result.AudioOk,
            result.VideoOk,
            result.Notes,
            result.RecordedUtc,
            result.RecordedBy,
            Requested = (int)AcceptanceOutcome.Requested,
        }, tx, cancellationToken: ct)).ConfigureAwait(false) == 1;

    public async Task<DistrictTarget?> GetDistrictTargetAsync(int districtId, CancellationToken ct = default)
    {
        await using var connection = db.Open();
        return await connection.QueryFirstOrDefaultAsync<DistrictTarget>(new CommandDefinition(SelectTarget, new { DistrictId = districtId }, cancellationToken: ct)).ConfigureAwait(false);
    }

    /// <summary>Appends the programme's dates (the history of the order stays in the table).</summary>
    public async Task AddSettingsAsync(ProgrammeSettings settings, DateTime now, string by, CancellationToken ct = default)
    {
        await using var connection = db.Open();
        await connection.ExecuteAsync(new CommandDefinition(InsertSettings, SettingsArgs(settings, now, by), cancellationToken: ct)).ConfigureAwait(false);
    }

    internal static Task AddSettingsAsync(DbTransaction tx, ProgrammeSettings settings, DateTime now, string by, CancellationToken ct) =>
        tx.Connection!.ExecuteAsync(new CommandDefinition(InsertSettings, SettingsArgs(settings, now, by), tx, cancellationToken: ct));

    /// <summary>Sets a district's target and contact, creating its row the first time.</summary>
    public async Task SaveDistrictTargetAsync(DistrictTarget target, DateTime now, CancellationToken ct = default)
    {
        await using var connection = await db.OpenAsync(ct).ConfigureAwait(false);
        await using var tx = await connection.BeginTransactionAsync(ct).ConfigureAwait(false);
        await SaveDistrictTargetAsync(tx, target, now, ct).ConfigureAwait(false);
        await tx.CommitAsync(ct).ConfigureAwait(false);
    }

    internal static async Task SaveDistrictTargetAsync(DbTransaction tx, DistrictTarget target, DateTime now, CancellationToken ct)
    {
        var args = new { target.DistrictId, target.TargetUtc, target.TargetPercent, target.ContactName, target.ContactPhone, Now = now };
        if (await tx.Connection!.ExecuteAsync(new CommandDefinition(UpdateTarget, args, tx, cancellationToken: ct)).ConfigureAwait(false) == 0)
        {
            await tx.Connection!.ExecuteAsync(new CommandDefinition(InsertTarget, args, tx, cancellationToken: ct)).ConfigureAwait(false);
        }
    }

    private static object SettingsArgs(ProgrammeSettings settings, DateTime now, string by) => new { settings.StartUtc, settings.DeadlineUtc, Now = now, By = by };

    internal static string HoldPageSql(Db db) =>
        "SELECT COUNT(*) " + HoldListFrom + ";\n"
        + "SELECT " + HoldListColumns + " " + HoldListFrom + " ORDER BY h.CreatedUtc, h.Id " + db.Paging + ";";
}
