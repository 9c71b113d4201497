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

    public RegistryImportCounts SchoolCounts => new(NewSchools.Count, ChangedSchools.Count, UnchangedSchools);

    public RegistryImportCounts DeviceCounts => new(NewDevices.Count, ChangedDevices.Count, UnchangedDevices);

    public static RegistryPlan Build(IReadOnlyList<RegistryRow> rows, RegistrySnapshot snapshot, DateTime nowUtc)
    {
        var plan = new RegistryPlan();
        foreach (var row in rows)
        {
            snapshot.SchoolsByCode.TryGetValue(row.Code, out var existing);
            plan.AddSchool(row, existing, nowUtc);
            var schoolId = existing?.Id ?? 0;

            var terminal = snapshot.DevicesBySerial.GetValueOrDefault(row.TerminalSerial);
            plan.AddDevice(row.Code, schoolId, terminal, nowUtc, new Device
            {
                Kind = DeviceKind.AlarmTerminal,
                Model = row.TerminalModel,
                SerialNumber = row.TerminalSerial,
                SipAccount = row.SipAccount,
            });

            var camera = snapshot.DevicesBySerial.GetValueOrDefault(row.CameraSerial);
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
            ? existing with { SchoolId = schoolId, Model = fromFile.Model, SipAccount = fromFile.SipAccount }
            : existing with { SchoolId = schoolId, Model = fromFile.Model, RtspUrl = fromFile.RtspUrl, OnvifUrl = fromFile.OnvifUrl };

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
