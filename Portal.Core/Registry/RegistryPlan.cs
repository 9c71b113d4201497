using Portal.Core.Devices;
using Portal.Core.Schools;

namespace Portal.Core.Registry;

/// <summary>A device to insert, named by its school's code because a new school has no id yet.</summary>
internal sealed record PlannedDevice(string SchoolCode, Device Device);

/// <summary>
/// The difference between a valid file and the database: what to insert, what to update, and what is
/// already as the file says. An unchanged record is left alone entirely, UpdatedUtc included, so
/// importing the same file twice writes nothing the second time.
/// </summary>
internal sealed class RegistryPlan
{
    public List<School> NewSchools { get; } = [];

    public List<School> ChangedSchools { get; } = [];

    public List<PlannedDevice> NewDevices { get; } = [];

    public List<PlannedDevice> ChangedDevices { get; } = [];

    /// <summary>Terminals whose SIP account changes: cleared first so that accounts can swap between them.</summary>
    public List<int> SipAccountReleases { get; } = [];

    public int UnchangedSchools { get; private set; }

    public int UnchangedDevices { get; private set; }

    /// <summary>Devices whose serial the file changed (new hardware in the same place): listed in the result, terminals flagged for a new key.</summary>
    public List<RegistrySerialChange> SerialChanges { get; } = [];

    public RegistryImportCounts SchoolCounts => new(NewSchools.Count, ChangedSchools.Count, UnchangedSchools);

    public RegistryImportCounts DeviceCounts => new(NewDevices.Count, ChangedDevices.Count, UnchangedDevices);

    public static RegistryPlan Build(IReadOnlyList<RegistryRow> rows, RegistrySnapshot snapshot, DateTime nowUtc)
    {
        var plan = new RegistryPlan();
        var fileSerials = FileSerials(rows);
        foreach (var row in rows)
        {
            snapshot.SchoolsByCode.TryGetValue(row.Code, out var existing);
            plan.AddSchool(row, existing, nowUtc);
            var schoolId = existing?.Id ?? 0;

            var terminal = snapshot.DevicesBySerial.GetValueOrDefault(row.TerminalSerial)
                ?? plan.Replacement(row, existing, row.TerminalSerial, DeviceKind.AlarmTerminal, snapshot, fileSerials);
            plan.AddDevice(row.Code, schoolId, terminal, nowUtc, new Device
            {
                Kind = DeviceKind.AlarmTerminal,
                Model = row.TerminalModel,
                SerialNumber = row.TerminalSerial,
                SipAccount = row.SipAccount,
            });

            var camera = snapshot.DevicesBySerial.GetValueOrDefault(row.CameraSerial)
                ?? plan.Replacement(row, existing, row.CameraSerial, DeviceKind.GateCamera, snapshot, fileSerials);
            plan.AddDevice(row.Code, schoolId, camera, nowUtc, new Device
            {
                Kind = DeviceKind.GateCamera,
                Model = row.CameraModel,
                SerialNumber = row.CameraSerial,
                RtspUrl = row.RtspUrl,
                OnvifUrl = row.OnvifUrl,
            });
        }

        return plan;
    }

    /// <summary>Every device serial the file names, terminals and cameras alike.</summary>
    internal static HashSet<string> FileSerials(IReadOnlyList<RegistryRow> rows) =>
        new(rows.SelectMany(r => (string[])[r.TerminalSerial, r.CameraSerial]).Where(s => s.Length > 0), StringComparer.Ordinal);

    /// <summary>
    /// Issue 13: the device a row's unknown serial replaces. When a school already in the registry has exactly one
    /// device of the kind, and the file names neither its serial nor the new one anywhere else, the row describes new
    /// hardware in the same place: the device keeps its row, history and credentials and takes the new serial, rather
    /// than a second device appearing beside one that can no longer sign anything.
    /// </summary>
    internal static Device? ReplacedDevice(RegistryRow row, string serial, DeviceKind kind, RegistrySnapshot snapshot, HashSet<string> fileSerials)
    {
        if (serial.Length == 0 || snapshot.DevicesBySerial.ContainsKey(serial) || !snapshot.SchoolsByCode.TryGetValue(row.Code, out var school))
        {
            return null;
        }

        var ofKind = snapshot.DevicesBySchoolId[school.Id].Where(d => d.Kind == kind).Take(2).ToList();
        return ofKind.Count == 1 && !fileSerials.Contains(ofKind[0].SerialNumber) ? ofKind[0] : null;
    }

    private Device? Replacement(RegistryRow row, School? school, string serial, DeviceKind kind, RegistrySnapshot snapshot, HashSet<string> fileSerials)
    {
        if (ReplacedDevice(row, serial, kind, snapshot, fileSerials) is not { } replaced)
        {
            return null;
        }

        // DeviceRepository.ImportAsync writes the new serial and flags a terminal for a new key.
        SerialChanges.Add(new RegistrySerialChange(row.Line, row.Code, school?.Name ?? row.Name, kind, replaced.SerialNumber, serial));
        return replaced;
    }

    private void AddSchool(RegistryRow row, School? existing, DateTime nowUtc)
    {
        var wanted = new School
        {
            Id = existing?.Id ?? 0,
            Code = row.Code,
            Name = row.Name,
            SchoolType = row.SchoolType,
            DistrictId = row.DistrictId,
            Address = row.Address,
            Longitude = row.Longitude,
            Latitude = row.Latitude,
            PrincipalName = row.Principal,
            Phone = row.Phone,
            CreatedUtc = existing?.CreatedUtc ?? nowUtc,
            UpdatedUtc = existing?.UpdatedUtc ?? nowUtc,
        };

        if (existing is null)
        {
            NewSchools.Add(wanted);
        }
        else if (wanted != existing)
        {
            ChangedSchools.Add(wanted with { UpdatedUtc = nowUtc });
        }
        else
        {
            UnchangedSchools++;
        }
    }

    /// <summary>
    /// The file owns a terminal's model and SIP account and a camera's model, RTSP and ONVIF addresses.
    /// Everything else (credentials, install and health state, enabled) belongs to the programme and the
    /// probes, so an update keeps it (and <see cref="DeviceRepository.ImportAsync"/> writes only the file's
    /// columns); a new device starts Planned, enabled and without a secret.
    /// </summary>
    private void AddDevice(string schoolCode, int schoolId, Device? existing, DateTime nowUtc, Device fromFile)
    {
        if (existing is null)
        {
            NewDevices.Add(new PlannedDevice(schoolCode, fromFile with
            {
                InstallState = DeviceInstallState.Planned,
                Enabled = true,
                HealthState = DeviceHealthState.Unknown,
                CreatedUtc = nowUtc,
                UpdatedUtc = nowUtc,
            }));
            return;
        }

        var wanted = fromFile.Kind == DeviceKind.AlarmTerminal
            ? existing with { SchoolId = schoolId, SerialNumber = fromFile.SerialNumber, Model = fromFile.Model, SipAccount = fromFile.SipAccount }
            : existing with { SchoolId = schoolId, SerialNumber = fromFile.SerialNumber, Model = fromFile.Model, RtspUrl = fromFile.RtspUrl, OnvifUrl = fromFile.OnvifUrl };

        if (wanted == existing)
        {
            UnchangedDevices++;
            return;
        }

        if (existing.SipAccount is not null && existing.SipAccount != wanted.SipAccount)
        {
            SipAccountReleases.Add(existing.Id);
        }

        ChangedDevices.Add(new PlannedDevice(schoolCode, wanted with { UpdatedUtc = nowUtc }));
    }
}
