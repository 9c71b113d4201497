using Portal.Core.Data;
using Portal.Core.Schools;
using Portal.Core.Security;

namespace Portal.Core.Devices;

/// <summary>Devices as a user may see and change them: every call takes the caller's scope.</summary>
public sealed class DeviceService(DeviceRepository devices, SchoolRepository schools, DeviceSecrets secrets, TimeProvider time)
{
    /// <summary>The list in the caller's scope; SIP accounts and camera addresses only for administrators (need to know).</summary>
    public async Task<Page<DeviceListItem>> GetPageAsync(UserScope scope, DeviceQuery query, PageRequest page, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(scope);
        var result = await devices.GetPageAsync(scope, query, page, ct).ConfigureAwait(false);
        return scope.IsAdmin ? result : result with { Items = [.. result.Items.Select(d => d with { SipAccount = null, RtspUrl = null, RekeyRequired = false })] };
    }

    /// <summary>A device as the caller may see it (<see cref="DeviceView.For"/>), or null when missing or outside the scope.</summary>
    public async Task<DeviceView?> GetViewAsync(UserScope scope, int id, CancellationToken ct = default) =>
        await GetAsync(scope, id, ct).ConfigureAwait(false) is { } device ? DeviceView.For(scope, device) : null;

    /// <summary>A school's devices as the caller may see them; empty when the school is outside the scope.</summary>
    public async Task<IReadOnlyList<DeviceView>> GetViewsBySchoolAsync(UserScope scope, int schoolId, CancellationToken ct = default) =>
        [.. (await GetBySchoolAsync(scope, schoolId, ct).ConfigureAwait(false)).Select(d => DeviceView.For(scope, d))];

    /// <summary>Null when the device does not exist or its school is outside the scope (404 either way).</summary>
    public async Task<Device?> GetAsync(UserScope scope, int id, CancellationToken ct = default)
    {
        var device = await devices.GetByIdAsync(id, ct).ConfigureAwait(false);
        if (device is null)
        {
            return null;
        }

        var school = await schools.GetByIdAsync(device.SchoolId, ct).ConfigureAwait(false);
        return school is not null && scope.CanSee(school.DistrictId, school.Id) ? device : null;
    }

    /// <summary>
    /// A school's devices with every field, for the platform's own use in the caller's scope (the media plane opens
    /// the gate camera with its address and login); never hand these to a person as they are: see <see cref="GetViewsBySchoolAsync"/>.
    /// </summary>
    public async Task<IReadOnlyList<Device>> GetBySchoolAsync(UserScope scope, int schoolId, CancellationToken ct = default)
    {
        var school = await schools.GetByIdAsync(schoolId, ct).ConfigureAwait(false);
        if (school is null || !scope.CanSee(school.DistrictId, school.Id))
        {
            return [];
        }

        return await devices.GetManyBySchoolIdAsync(schoolId, ct).ConfigureAwait(false);
    }

    /// <summary>
    /// Validates and saves a device. <paramref name="newSecret"/> replaces the stored password or key when
    /// given (it is encrypted before it is stored); null keeps the current one.
    /// </summary>
    public async Task<SaveResult> SaveAsync(UserScope scope, Device device, string? newSecret, CancellationToken ct = default)
    {
        scope.Require(Roles.Admin);
        var errors = new List<FieldError>();
        var serial = device.SerialNumber?.Trim() ?? string.Empty;
        if (serial.Length is 0 or > 64)
        {
            errors.Add(new FieldError(nameof(Device.SerialNumber), "Required"));
        }

        if (string.IsNullOrWhiteSpace(device.Model))
        {
            errors.Add(new FieldError(nameof(Device.Model), "Required"));
        }

        if (await schools.GetByIdAsync(device.SchoolId, ct).ConfigureAwait(false) is null)
        {
            errors.Add(new FieldError(nameof(Device.SchoolId), "UnknownSchool"));
        }

        if (device.Kind == DeviceKind.AlarmTerminal && string.IsNullOrWhiteSpace(device.SipAccount))
        {
            errors.Add(new FieldError(nameof(Device.SipAccount), "Required"));
        }

        if (device.Kind == DeviceKind.GateCamera && !IsUrl(device.RtspUrl, "rtsp"))
        {
            errors.Add(new FieldError(nameof(Device.RtspUrl), "RtspUrl"));
        }

        if (!string.IsNullOrWhiteSpace(device.RtspSubStreamUrl) && (device.Kind != DeviceKind.GateCamera || !IsUrl(device.RtspSubStreamUrl, "rtsp")))
        {
            errors.Add(new FieldError(nameof(Device.RtspSubStreamUrl), "RtspUrl"));
        }

        if (!string.IsNullOrWhiteSpace(device.OnvifUrl) && !IsUrl(device.OnvifUrl, "http") && !IsUrl(device.OnvifUrl, "https"))
        {
            errors.Add(new FieldError(nameof(Device.OnvifUrl), "HttpUrl"));
        }

        if (serial.Length > 0 && await devices.GetBySerialNumberAsync(serial, ct).ConfigureAwait(false) is { } other && other.Id != device.Id)
        {
            errors.Add(new FieldError(nameof(Device.SerialNumber), "DuplicateSerial"));
        }

        if (!string.IsNullOrWhiteSpace(device.SipAccount)
            && await devices.GetBySipAccountAsync(device.SipAccount.Trim(), ct).ConfigureAwait(false) is { } sipOther && sipOther.Id != device.Id)
        {
            errors.Add(new FieldError(nameof(Device.SipAccount), "DuplicateSipAccount"));
        }

        Device? existing = null;
        if (device.Id != 0)
        {
            existing = await devices.GetByIdAsync(device.Id, ct).ConfigureAwait(false);
            if (existing is null)
            {
                errors.Add(new FieldError(nameof(Device.Id), "NotFound"));
            }
        }

        if (errors.Count > 0)
        {
            return new SaveResult(0, errors);
        }

        var now = time.GetUtcNow().UtcDateTime;
        var clean = device with
        {
            SerialNumber = serial,
            Model = device.Model.Trim(),
            SipAccount = string.IsNullOrWhiteSpace(device.SipAccount) ? null : device.SipAccount.Trim(),
            RtspUrl = string.IsNullOrWhiteSpace(device.RtspUrl) ? null : device.RtspUrl.Trim(),
            RtspSubStreamUrl = string.IsNullOrWhiteSpace(device.RtspSubStreamUrl) ? null : device.RtspSubStreamUrl.Trim(),
            OnvifUrl = string.IsNullOrWhiteSpace(device.OnvifUrl) ? null : device.OnvifUrl.Trim(),
            Username = string.IsNullOrWhiteSpace(device.Username) ? null : device.Username.Trim(),
            SecretProtected = newSecret is null ? existing?.SecretProtected : secrets.Protect(newSecret),
            UpdatedUtc = now,
        };
        if (existing is null)
        {
            return new SaveResult(await devices.CreateAsync(clean with { CreatedUtc = now }, ct).ConfigureAwait(false), []);
        }

        await devices.UpdateAsync(clean, ct).ConfigureAwait(false);
        return new SaveResult(device.Id, []);
    }

    private static bool IsUrl(string? text, string scheme) =>
        Uri.TryCreate(text?.Trim(), UriKind.Absolute, out var uri) && uri.Scheme == scheme && !string.IsNullOrEmpty(uri.Host);
}
