using System.Data.Common;
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
public sealed class InstallationService(Db db, InstallationRepository installation, SchoolRepository schools, DistrictRepository districts,
    DeviceRepository devices, ProgrammeQueries queries, InstallationFiles files, TimeProvider time)
{
    /// <summary>Who the platform is in the step history.</summary>
    public const string PlatformName = "platform";

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
        var steps = await installation.GetStepsAsync(schoolId, ct).ConfigureAwait(false);
        var photos = await installation.GetPhotosAsync(schoolId, ct).ConfigureAwait(false);
        var tests = await installation.GetTestsAsync(schoolId, ct).ConfigureAwait(false);
        var target = await installation.GetDistrictTargetAsync(school.DistrictId, ct).ConfigureAwait(false);
        var centre = (await districts.GetCentresAsync(ct).ConfigureAwait(false)).FirstOrDefault(c => c.DistrictId == school.DistrictId)?.Name;
        var holds = await installation.GetWaitingHoldsAsync(schoolId, ct).ConfigureAwait(false);
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
        var done = (await InstallationRepository.GetStepsAsync(tx, schoolId, ct).ConfigureAwait(false)).ToDictionary(s => s.Step);
        if (done.ContainsKey(step))
        {
            return InstallationResult.Fail(InstallationErrors.AlreadyDone);
        }

        if (InstallationSteps.All.Where(s => s < step).Any(s => !done.ContainsKey(s)))
        {
            return InstallationResult.Fail(InstallationErrors.OutOfOrder);
        }

        if ((await InstallationRepository.GetWaitingHoldsAsync(tx, schoolId, ct).ConfigureAwait(false)).Any(h => h.Step == step))
        {
            return InstallationResult.Fail(InstallationErrors.HoldPending);
        }

        if (InstallationSteps.NeedsSerial(step))
        {
            var kind = step == InstallationStepKind.TerminalInstalled ? DeviceKind.AlarmTerminal : DeviceKind.GateCamera;
            var device = (await DeviceRepository.GetManyBySchoolIdAsync(tx, schoolId, ct).ConfigureAwait(false)).FirstOrDefault(d => d.Kind == kind);
            if (await DeviceRepository.GetBySerialNumberAsync(tx, serial!, ct).ConfigureAwait(false) is { } holder && holder.Id != device?.Id)
            {
                return InstallationResult.Fail(InstallationErrors.DuplicateSerial);
            }

            if (device is not null && !string.Equals(device.SerialNumber, serial, StringComparison.Ordinal))
            {
                // Issue 13: a different serial would rewrite the device's identity (a typo makes the real terminal an
                // unknown device). Hold the step, device untouched, until an administrator confirms the new serial.
                await InstallationRepository.AddHoldAsync(tx, new InstallationHold
                {
                    SchoolId = schoolId,
                    Step = step,
                    DeviceId = device.Id,
                    RegistrySerial = device.SerialNumber,
                    InstalledSerial = serial!,
                    DoneUtc = when,
                    DoneBy = scope.UserName,
                    Notes = string.IsNullOrWhiteSpace(notes) ? null : notes.Trim(),
                    CreatedUtc = now,
                    State = InstallationHoldState.Waiting,
                }, ct).ConfigureAwait(false);
                await tx.CommitAsync(ct).ConfigureAwait(false);
                return InstallationResult.HeldForConfirmation;
            }

            if (device is not null)
            {
                await DeviceRepository.SetInstalledAsync(tx, device.Id, now, ct).ConfigureAwait(false);
            }
            else
            {
                // Installed before the registry knew of it: register a bare device; the administrator completes it.
                await devices.CreateAsync(tx, new Device
                {
                    SchoolId = schoolId,
                    Kind = kind,
                    Model = "—",
                    SerialNumber = serial!,
                    InstallState = DeviceInstallState.Installed,
                    CreatedUtc = now,
                    UpdatedUtc = now,
                }, ct).ConfigureAwait(false);
            }
        }

        await InstallationRepository.AddStepAsync(tx, new InstallationStepRecord
        {
            SchoolId = schoolId,
            Step = step,
            DoneUtc = when,
            DoneBy = scope.UserName,
            Notes = string.IsNullOrWhiteSpace(notes) ? null : notes.Trim(),
            SerialNumber = InstallationSteps.NeedsSerial(step) ? serial : null,
            CreatedUtc = now,
        }, ct).ConfigureAwait(false);

        // The platform may have seen both devices before the installer got round to recording the camera.
        if (step == InstallationStepKind.CameraInstalled)
        {
            await TryMarkOnlineAsync(tx, schoolId, now, ct).ConfigureAwait(false);
        }

        await tx.CommitAsync(ct).ConfigureAwait(false);
        return InstallationResult.Ok;
    }

    /// <summary>
    /// Called by the device intake (SIP registration, first RTSP stream) whenever the platform sees a device:
    /// moves it to Connected the first time, and writes the school's "devices online" step once every device
    /// of the school has been seen and both installs are recorded. Returns true when it wrote that step.
    /// </summary>
    public async Task<bool> MarkDeviceSeenAsync(int deviceId, CancellationToken ct = default) =>
        await MarkDevicesSeenAsync([deviceId], ct).ConfigureAwait(false) > 0;

    /// <summary>
    /// <see cref="MarkDeviceSeenAsync"/> for several devices in one transaction (first sightings that arrive together,
    /// e.g. a SIP registration storm): each becomes Connected, then each of their schools is checked once for its
    /// "devices online" step. Returns how many schools got that step. It first gives way to the alarm writer
    /// (<see cref="Db.GiveWayAsync"/>), and its commit does not wait for its own sync (<see cref="Db.DeferSyncAsync"/>):
    /// a mark lost to a power cut is written again at the device's next sighting.
    /// </summary>
    public async Task<int> MarkDevicesSeenAsync(IReadOnlyCollection<int> deviceIds, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(deviceIds);
        if (deviceIds.Count == 0)
        {
            return 0;
        }

        await db.GiveWayAsync(ct).ConfigureAwait(false);
        var now = time.GetUtcNow().UtcDateTime;
        await using var connection = await db.OpenAsync(ct).ConfigureAwait(false);
        var sync = await db.DeferSyncAsync(connection, ct).ConfigureAwait(false);
        try
        {
            return await MarkSeenAsync(connection, deviceIds, now, ct).ConfigureAwait(false);
        }
        finally
        {
            await Db.RestoreSyncAsync(connection, sync).ConfigureAwait(false);
        }
    }

    private static async Task<int> MarkSeenAsync(DbConnection connection, IReadOnlyCollection<int> deviceIds, DateTime now, CancellationToken ct)
    {
        await using var tx = await connection.BeginTransactionAsync(ct).ConfigureAwait(false);
        var schools = new HashSet<int>();
        foreach (var deviceId in deviceIds)
        {
            if (await DeviceRepository.GetByIdAsync(tx, deviceId, ct).ConfigureAwait(false) is { } device)
            {
                await DeviceRepository.SetConnectedAsync(tx, deviceId, now, ct).ConfigureAwait(false);
                schools.Add(device.SchoolId);
            }
        }

        var written = 0;
        foreach (var schoolId in schools)
        {
            written += await TryMarkOnlineAsync(tx, schoolId, now, ct).ConfigureAwait(false) ? 1 : 0;
        }

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
            var id = await installation.AddPhotoAsync(new InstallationPhoto
            {
                SchoolId = schoolId,
                Step = step,
                StoredName = stored,
                OriginalName = Path.GetFileName(originalName.Length > 200 ? originalName[..200] : originalName),
                ContentType = contentType,
                SizeBytes = bytes!.Length,
                UploadedUtc = time.GetUtcNow().UtcDateTime,
                UploadedBy = scope.UserName,
            }, ct).ConfigureAwait(false);
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
        var photo = await installation.GetPhotoAsync(photoId, ct).ConfigureAwait(false);
        if (photo is null || await schools.GetByIdAsync(photo.SchoolId, ct).ConfigureAwait(false) is not { } school || !scope.CanSee(school.DistrictId, school.Id))
        {
            return null;
        }

        return (photo, files.PhotoPath(photo.SchoolId, photo.StoredName));
    }

    internal static async Task<bool> TryMarkOnlineAsync(DbTransaction tx, int schoolId, DateTime now, CancellationToken ct)
    {
        var done = (await InstallationRepository.GetStepsAsync(tx, schoolId, ct).ConfigureAwait(false)).Select(s => s.Step).ToHashSet();
        if (done.Contains(InstallationStepKind.DevicesOnline) || !done.Contains(InstallationStepKind.TerminalInstalled) || !done.Contains(InstallationStepKind.CameraInstalled)
            || !done.Contains(InstallationStepKind.SiteSurveyed))
        {
            return false;
        }

        var states = await DeviceRepository.GetManyBySchoolIdAsync(tx, schoolId, ct).ConfigureAwait(false);
        var allSeen = states.Any(s => s.Kind == DeviceKind.AlarmTerminal) && states.Any(s => s.Kind == DeviceKind.GateCamera)
            && states.All(s => s.InstallState >= DeviceInstallState.Connected);
        if (!allSeen)
        {
            return false;
        }

        await InstallationRepository.AddStepAsync(tx, new InstallationStepRecord
        {
            SchoolId = schoolId,
            Step = InstallationStepKind.DevicesOnline,
            DoneUtc = now,
            DoneBy = PlatformName,
            CreatedUtc = now,
        }, ct).ConfigureAwait(false);
        return true;
    }
}
