using System.Data.Common;
using Dapper;
using Portal.Core.Data;
using Portal.Core.Devices;
using Portal.Core.Schools;
using Portal.Core.Security;

namespace Portal.Core.Installation;

/// <summary>A school's checklist as its principal (or the bureau) sees it.</summary>
public sealed record SchoolChecklist(
    School School,
    SchoolProgress Progress,
    IReadOnlyList<InstallationStepRecord> Steps,
    IReadOnlyList<InstallationPhoto> Photos,
    IReadOnlyList<AcceptanceTest> Tests,
    DistrictTarget? Contact,
    string? PoliceCentreName)
{
    public InstallationStepRecord? Step(InstallationStepKind kind) => Steps.FirstOrDefault(s => s.Step == kind);

    public AcceptanceTest? PendingTest => Tests.FirstOrDefault(t => t.Outcome == AcceptanceOutcome.Requested);

    /// <summary>Steps waiting for an administrator's confirmation of their serial (issue 13).</summary>
    public IReadOnlyList<InstallationHold> Holds { get; init; } = [];
}

/// <summary>
/// Records a school's steps in order, with the rules the issue names: out-of-order steps, serials used by
/// another device, the platform's own "devices online" step. Every call takes the caller's scope.
/// </summary>
public sealed class InstallationService(Db db, SchoolRepository schools, ProgrammeQueries queries, InstallationFiles files, TimeProvider time)
{
    /// <summary>Who the platform is in the step history.</summary>
    public const string PlatformName = "platform";

    private const string SelectSteps = """
        SELECT Id, SchoolId, Step, DoneUtc, DoneBy, Notes, SerialNumber, CreatedUtc FROM InstallationStep
        WHERE SchoolId = @SchoolId ORDER BY Step
        """;

    private const string SelectPhotos = """
        SELECT Id, SchoolId, Step, StoredName, OriginalName, ContentType, SizeBytes, UploadedUtc, UploadedBy FROM InstallationPhoto
        WHERE SchoolId = @SchoolId ORDER BY Id
        """;

    private const string SelectTests = """
        SELECT Id, SchoolId, AlarmId, Outcome, RequestedUtc, RequestedBy, AudioOk, VideoOk, Notes, RecordedUtc, RecordedBy FROM AcceptanceTest
        WHERE SchoolId = @SchoolId ORDER BY Id DESC
        """;

    private const string SelectTarget = "SELECT DistrictId, TargetUtc, TargetPercent, ContactName, ContactPhone FROM DistrictTarget WHERE DistrictId = @DistrictId";

    private const string SelectCentre = "SELECT Name FROM PoliceCentre WHERE DistrictId = @DistrictId";

    internal const string InsertStep = """
        INSERT INTO InstallationStep (SchoolId, Step, DoneUtc, DoneBy, Notes, SerialNumber, CreatedUtc)
        VALUES (@SchoolId, @Step, @DoneUtc, @DoneBy, @Notes, @SerialNumber, @CreatedUtc)
        """;

    private const string SelectDevicesOfSchool = "SELECT Id, Kind, SerialNumber, InstallState FROM Device WHERE SchoolId = @SchoolId";

    private const string SelectOtherSerial = "SELECT COUNT(*) FROM Device WHERE SerialNumber = @SerialNumber AND Id <> @DeviceId";

    // The serial is the device's identity: a step never changes it (a different one is held, see InstallationHold).
    private const string UpdateDeviceInstalled = """
        UPDATE Device SET InstallState = CASE WHEN InstallState < 1 THEN 1 ELSE InstallState END, UpdatedUtc = @Now
        WHERE Id = @Id
        """;

    private const string SelectWaitingHolds = """
        SELECT Id, SchoolId, Step, DeviceId, RegistrySerial, InstalledSerial, DoneUtc, DoneBy, Notes, CreatedUtc, State, ResolvedUtc, ResolvedBy
        FROM InstallationHold WHERE SchoolId = @SchoolId AND State = @Waiting ORDER BY Step
        """;

    internal const string InsertHold = """
        INSERT INTO InstallationHold (SchoolId, Step, DeviceId, RegistrySerial, InstalledSerial, DoneUtc, DoneBy, Notes, CreatedUtc, State)
        VALUES (@SchoolId, @Step, @DeviceId, @RegistrySerial, @InstalledSerial, @DoneUtc, @DoneBy, @Notes, @CreatedUtc, @Waiting)
        """;

    private const string UpdateDeviceSeen = """
        UPDATE Device SET InstallState = CASE WHEN InstallState < 2 THEN 2 ELSE InstallState END,
            HealthState = 1, LastSeenUtc = @Now, UpdatedUtc = @Now
        WHERE Id = @Id
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

    private const string SelectPhoto = """
        SELECT Id, SchoolId, Step, StoredName, OriginalName, ContentType, SizeBytes, UploadedUtc, UploadedBy FROM InstallationPhoto WHERE Id = @Id
        """;

    /// <summary>The checklist, or null when the school does not exist or is outside the scope.</summary>
    public async Task<SchoolChecklist?> GetChecklistAsync(UserScope scope, int schoolId, CancellationToken ct = default)
    {
        var school = await schools.GetByIdAsync(schoolId, ct).ConfigureAwait(false);
        if (school is null || !scope.CanSee(school.DistrictId, school.Id))
        {
            return null;
        }

        // The progress line comes from the same query as the dashboards and reports.
        var snapshot = await queries.GetSnapshotAsync(scope with { SchoolId = schoolId, DistrictId = school.DistrictId }, null, ct).ConfigureAwait(false);
        await using var connection = await db.OpenAsync(ct).ConfigureAwait(false);
        var args = new { SchoolId = schoolId, school.DistrictId };
        var steps = (await connection.QueryAsync<InstallationStepRecord>(new CommandDefinition(SelectSteps, args, cancellationToken: ct)).ConfigureAwait(false)).ToList();
        var photos = (await connection.QueryAsync<InstallationPhoto>(new CommandDefinition(SelectPhotos, args, cancellationToken: ct)).ConfigureAwait(false)).ToList();
        var tests = (await connection.QueryAsync<AcceptanceTest>(new CommandDefinition(SelectTests, args, cancellationToken: ct)).ConfigureAwait(false)).ToList();
        var target = await connection.QueryFirstOrDefaultAsync<DistrictTarget>(new CommandDefinition(SelectTarget, args, cancellationToken: ct)).ConfigureAwait(false);
        var centre = await connection.QueryFirstOrDefaultAsync<string>(new CommandDefinition(SelectCentre, args, cancellationToken: ct)).ConfigureAwait(false);
        var holds = (await connection.QueryAsync<InstallationHold>(new CommandDefinition(SelectWaitingHolds,
            new { SchoolId = schoolId, Waiting = (int)InstallationHoldState.Waiting }, cancellationToken: ct)).ConfigureAwait(false)).ToList();
        return new SchoolChecklist(school, snapshot.Schools.Single(), steps, photos, tests, target, centre) { Holds = holds };
    }

    /// <summary>
    /// Records a manual step. Refused, with nothing changed, when the step is out of order or already done, a
    /// serial is missing or belongs to another device, or the caller may not record it for this school.
    /// </summary>
    public async Task<InstallationResult> RecordStepAsync(UserScope scope, int schoolId, InstallationStepKind step, DateTime? doneUtc,
        string? notes, string? serialNumber, CancellationToken ct = default)
    {
        var school = await schools.GetByIdAsync(schoolId, ct).ConfigureAwait(false);
        if (school is null || !scope.CanSee(school.DistrictId, school.Id))
        {
            return InstallationResult.Fail(InstallationErrors.OutOfScope);
        }

        if (!InstallationSteps.IsManual(step))
        {
            return InstallationResult.Fail(InstallationErrors.NotManual);
        }

        var allowed = step == InstallationStepKind.SignedOff
            ? scope.Role is Roles.Bureau or Roles.Admin
            : scope.Role is Roles.Principal or Roles.Bureau or Roles.Admin;
        if (!allowed)
        {
            return InstallationResult.Fail(InstallationErrors.NotAllowed);
        }

        var now = time.GetUtcNow().UtcDateTime;
        var when = doneUtc?.ToUniversalTime() ?? now;
        if (when > now.AddMinutes(5))
        {
            return InstallationResult.Fail(InstallationErrors.FutureDate);
        }

        var serial = serialNumber?.Trim();
        if (InstallationSteps.NeedsSerial(step) && (string.IsNullOrEmpty(serial) || serial.Length > 64))
        {
            return InstallationResult.Fail(InstallationErrors.SerialRequired);
        }

        await using var connection = await db.OpenAsync(ct).ConfigureAwait(false);
        await using var tx = await connection.BeginTransactionAsync(ct).ConfigureAwait(false);
        var done = (await connection.QueryAsync<InstallationStepRecord>(new CommandDefinition(SelectSteps, new { SchoolId = schoolId }, tx, cancellationToken: ct)).ConfigureAwait(false))
            .ToDictionary(s => s.Step);
        if (done.ContainsKey(step))
        {
            return InstallationResult.Fail(InstallationErrors.AlreadyDone);
        }

        if (InstallationSteps.All.Where(s => s < step).Any(s => !done.ContainsKey(s)))
        {
            return InstallationResult.Fail(InstallationErrors.OutOfOrder);
        }

        if ((await connection.QueryAsync<InstallationHold>(new CommandDefinition(SelectWaitingHolds,
            new { SchoolId = schoolId, Waiting = (int)InstallationHoldState.Waiting }, tx, cancellationToken: ct)).ConfigureAwait(false)).Any(h => h.Step == step))
        {
            return InstallationResult.Fail(InstallationErrors.HoldPending);
        }

        var devices = (await connection.QueryAsync<(int Id, DeviceKind Kind, string SerialNumber, DeviceInstallState InstallState)>(
            new CommandDefinition(SelectDevicesOfSchool, new { SchoolId = schoolId }, tx, cancellationToken: ct)).ConfigureAwait(false)).ToList();
        if (InstallationSteps.NeedsSerial(step))
        {
            var kind = step == InstallationStepKind.TerminalInstalled ? DeviceKind.AlarmTerminal : DeviceKind.GateCamera;
            var device = devices.FirstOrDefault(d => d.Kind == kind);
            if (await connection.ExecuteScalarAsync<int>(new CommandDefinition(SelectOtherSerial, new { SerialNumber = serial, DeviceId = device.Id }, tx, cancellationToken: ct)).ConfigureAwait(false) > 0)
            {
                return InstallationResult.Fail(InstallationErrors.DuplicateSerial);
            }

            if (device.Id != 0 && !string.Equals(device.SerialNumber, serial, StringComparison.Ordinal))
            {
                // Issue 13: a different serial would rewrite the device's identity (a typo makes the real terminal an
                // unknown device). Hold the step, device untouched, until an administrator confirms the new serial.
                await connection.ExecuteAsync(new CommandDefinition(InsertHold, new
                {
                    SchoolId = schoolId,
                    Step = (int)step,
                    DeviceId = device.Id,
                    RegistrySerial = device.SerialNumber,
                    InstalledSerial = serial,
                    DoneUtc = when,
                    DoneBy = scope.UserName,
                    Notes = string.IsNullOrWhiteSpace(notes) ? null : notes.Trim(),
                    CreatedUtc = now,
                    Waiting = (int)InstallationHoldState.Waiting,
                }, tx, cancellationToken: ct)).ConfigureAwait(false);
                await tx.CommitAsync(ct).ConfigureAwait(false);
                return InstallationResult.HeldForConfirmation;
            }

            if (device.Id != 0)
            {
                await connection.ExecuteAsync(new CommandDefinition(UpdateDeviceInstalled, new { device.Id, Now = now }, tx, cancellationToken: ct)).ConfigureAwait(false);
            }
            else
            {
                // Installed before the registry knew of it: register a bare device; the administrator completes it.
                await connection.ExecuteAsync(new CommandDefinition(DeviceRepository.InsertSql(db), new Device
                {
                    SchoolId = schoolId,
                    Kind = kind,
                    Model = "—",
                    SerialNumber = serial!,
                    InstallState = DeviceInstallState.Installed,
                    CreatedUtc = now,
                    UpdatedUtc = now,
                }, tx, cancellationToken: ct)).ConfigureAwait(false);
            }
        }

        await connection.ExecuteAsync(new CommandDefinition(InsertStep, new
        {
            SchoolId = schoolId,
            Step = (int)step,
            DoneUtc = when,
            DoneBy = scope.UserName,
            Notes = string.IsNullOrWhiteSpace(notes) ? null : notes.Trim(),
            SerialNumber = InstallationSteps.NeedsSerial(step) ? serial : null,
            CreatedUtc = now,
        }, tx, cancellationToken: ct)).ConfigureAwait(false);

        // The platform may have seen both devices before the installer got round to recording the camera.
        if (step == InstallationStepKind.CameraInstalled)
        {
            await TryMarkOnlineAsync(connection, tx, schoolId, now, ct).ConfigureAwait(false);
        }

        await tx.CommitAsync(ct).ConfigureAwait(false);
        return InstallationResult.Ok;
    }

    /// <summary>
    /// Called by the device intake (SIP registration, first RTSP stream) whenever the platform sees a device:
    /// moves it to Connected the first time, and writes the school's "devices online" step once every device
    /// of the school has been seen and both installs are recorded. Returns true when it wrote that step.
    /// </summary>
    public async Task<bool> MarkDeviceSeenAsync(int deviceId, CancellationToken ct = default)
    {
        var now = time.GetUtcNow().UtcDateTime;
        await using var connection = await db.OpenAsync(ct).ConfigureAwait(false);
        await using var tx = await connection.BeginTransactionAsync(ct).ConfigureAwait(false);
        var schoolId = await connection.ExecuteScalarAsync<int?>(new CommandDefinition("SELECT SchoolId FROM Device WHERE Id = @Id", new { Id = deviceId }, tx, cancellationToken: ct)).ConfigureAwait(false);
        if (schoolId is null)
        {
            return false;
        }

        await connection.ExecuteAsync(new CommandDefinition(UpdateDeviceSeen, new { Id = deviceId, Now = now }, tx, cancellationToken: ct)).ConfigureAwait(false);
        var written = await TryMarkOnlineAsync(connection, tx, schoolId.Value, now, ct).ConfigureAwait(false);
        await tx.CommitAsync(ct).ConfigureAwait(false);
        return written;
    }

    /// <summary>Stores a photo for a step after checking its size and that it really is an image.</summary>
    public async Task<InstallationResult> AddPhotoAsync(UserScope scope, int schoolId, InstallationStepKind step, Stream content,
        string originalName, CancellationToken ct = default)
    {
        var school = await schools.GetByIdAsync(schoolId, ct).ConfigureAwait(false);
        if (school is null || !scope.CanSee(school.DistrictId, school.Id) || scope.Role is not (Roles.Principal or Roles.Bureau or Roles.Admin))
        {
            return InstallationResult.Fail(InstallationErrors.OutOfScope);
        }

        var (bytes, error) = await PhotoCheck.ReadAsync(content, ct).ConfigureAwait(false);
        if (error is not null)
        {
            return InstallationResult.Fail(error);
        }

        var (contentType, extension) = PhotoCheck.Sniff(bytes!)!.Value;
        var stored = InstallationFiles.NewName(extension);
        var path = files.PhotoPath(schoolId, stored);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await File.WriteAllBytesAsync(path, bytes!, ct).ConfigureAwait(false);
        try
        {
            await using var connection = await db.OpenAsync(ct).ConfigureAwait(false);
            var id = await connection.ExecuteScalarAsync<int>(new CommandDefinition(db.Pick(InsertPhotoSqlServer, InsertPhotoSqlite), new
            {
                SchoolId = schoolId,
                Step = (int)step,
                StoredName = stored,
                OriginalName = Path.GetFileName(originalName.Length > 200 ? originalName[..200] : originalName),
                ContentType = contentType,
                SizeBytes = (long)bytes!.Length,
                UploadedUtc = time.GetUtcNow().UtcDateTime,
                UploadedBy = scope.UserName,
            }, cancellationToken: ct)).ConfigureAwait(false);
            return new InstallationResult(null, id);
        }
        catch
        {
            File.Delete(path);
            throw;
        }
    }

    /// <summary>The photo and its file path, or null when it does not exist or its school is outside the scope.</summary>
    public async Task<(InstallationPhoto Photo, string Path)?> GetPhotoAsync(UserScope scope, int photoId, CancellationToken ct = default)
    {
        await using var connection = await db.OpenAsync(ct).ConfigureAwait(false);
        var photo = await connection.QuerySingleOrDefaultAsync<InstallationPhoto>(new CommandDefinition(SelectPhoto, new { Id = photoId }, cancellationToken: ct)).ConfigureAwait(false);
        if (photo is null || await schools.GetByIdAsync(photo.SchoolId, ct).ConfigureAwait(false) is not { } school || !scope.CanSee(school.DistrictId, school.Id))
        {
            return null;
        }

        return (photo, files.PhotoPath(photo.SchoolId, photo.StoredName));
    }

    internal static async Task<bool> TryMarkOnlineAsync(DbConnection connection, DbTransaction tx, int schoolId, DateTime now, CancellationToken ct)
    {
        var done = (await connection.QueryAsync<int>(new CommandDefinition("SELECT Step FROM InstallationStep WHERE SchoolId = @SchoolId", new { SchoolId = schoolId }, tx, cancellationToken: ct)).ConfigureAwait(false)).ToHashSet();
        if (done.Contains((int)InstallationStepKind.DevicesOnline) || !done.Contains((int)InstallationStepKind.TerminalInstalled) || !done.Contains((int)InstallationStepKind.CameraInstalled)
            || !done.Contains((int)InstallationStepKind.SiteSurveyed))
        {
            return false;
        }

        var states = (await connection.QueryAsync<(DeviceKind Kind, DeviceInstallState State)>(new CommandDefinition(
            "SELECT Kind, InstallState FROM Device WHERE SchoolId = @SchoolId", new { SchoolId = schoolId }, tx, cancellationToken: ct)).ConfigureAwait(false)).ToList();
        var allSeen = states.Any(s => s.Kind == DeviceKind.AlarmTerminal) && states.Any(s => s.Kind == DeviceKind.GateCamera)
            && states.All(s => s.State >= DeviceInstallState.Connected);
        if (!allSeen)
        {
            return false;
        }

        await connection.ExecuteAsync(new CommandDefinition(InsertStep, new
        {
            SchoolId = schoolId,
            Step = (int)InstallationStepKind.DevicesOnline,
            DoneUtc = now,
            DoneBy = PlatformName,
            Notes = (string?)null,
            SerialNumber = (string?)null,
            CreatedUtc = now,
        }, tx, cancellationToken: ct)).ConfigureAwait(false);
        return true;
    }
}
