using System.Text.Json.Serialization;

namespace Portal.Core.Devices;

public enum DeviceKind
{
    /// <summary>一键报警 terminal in the guard room: SIP audio/video intercom.</summary>
    AlarmTerminal = 0,

    /// <summary>球机 PTZ dome camera at the school gate: RTSP video, ONVIF control.</summary>
    GateCamera = 1,
}

public enum DeviceInstallState
{
    Planned = 0,
    Installed = 1,

    /// <summary>Seen by the platform (registered or streamed) at least once.</summary>
    Connected = 2,

    /// <summary>Passed the joint acceptance test (联调验收).</summary>
    Accepted = 3,
}

public enum DeviceHealthState
{
    Unknown = 0,
    Online = 1,
    Degraded = 2,
    Offline = 3,
}

public sealed record Device
{
    public int Id { get; init; }

    public int SchoolId { get; init; }

    public DeviceKind Kind { get; init; }

    public required string Model { get; init; }

    public required string SerialNumber { get; init; }

    public string? SipAccount { get; init; }

    public string? RtspUrl { get; init; }

    public string? OnvifUrl { get; init; }

    public string? Username { get; init; }

    /// <summary>
    /// The device's own login password as Data Protection ciphertext (<see cref="DeviceSecrets"/>): a camera's RTSP and
    /// ONVIF password, a terminal's SIP digest password (its SIP account is <see cref="SipAccount"/>).
    /// </summary>
    public string? SecretProtected { get; init; }

    /// <summary>The HMAC key of the signed HTTP device API as Data Protection ciphertext.</summary>
    public string? ApiKeyProtected { get; init; }

    /// <summary>The key a rotation replaced (ciphertext), accepted until <see cref="ApiKeyPreviousUntilUtc"/>.</summary>
    public string? ApiKeyPreviousProtected { get; init; }

    public DateTime? ApiKeyPreviousUntilUtc { get; init; }

    public DeviceInstallState InstallState { get; init; }

    public bool Enabled { get; init; } = true;

    /// <summary>
    /// Answer an RTSP Basic challenge on plain RTSP (off by default: Basic sends the password in the clear, so a spoofed
    /// camera could harvest it; Digest is always used). Only for a camera that offers nothing else.
    /// </summary>
    public bool RtspAllowBasicAuth { get; init; }

    /// <summary>
    /// A camera's low-rate sub-stream (e.g. Hikvision's <c>/Streaming/Channels/102</c>), same login as the main stream; kept
    /// pulled when its school or district pre-warms gate cameras (issue #15). Only as an administrator sets it: nothing is derived.
    /// </summary>
    public string? RtspSubStreamUrl { get; init; }

    public DeviceHealthState HealthState { get; init; }

    /// <summary>When the platform last saw the device (any signed request, SIP registration or call), server time.</summary>
    public DateTime? LastSeenUtc { get; init; }

    /// <summary>The device's own signed timestamp of its newest accepted HTTP heartbeat (a replay is no newer).</summary>
    public DateTime? LastHeartbeatUtc { get; init; }

    public DateTime CreatedUtc { get; init; }

    public DateTime UpdatedUtc { get; init; }
}

/// <summary>A device row with its school's name and district, for lists.</summary>
public sealed record DeviceListItem
{
    public int Id { get; init; }

    public int SchoolId { get; init; }

    public required string SchoolName { get; init; }

    public required string SchoolCode { get; init; }

    public int DistrictId { get; init; }

    public DeviceKind Kind { get; init; }

    public required string Model { get; init; }

    public required string SerialNumber { get; init; }

    /// <summary>For administrators only (need to know): null, and left out of API answers, for everyone else.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? SipAccount { get; init; }

    /// <summary>For administrators only (need to know): null, and left out of API answers, for everyone else.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? RtspUrl { get; init; }

    public DeviceInstallState InstallState { get; init; }

    public bool Enabled { get; init; }

    public DeviceHealthState HealthState { get; init; }

    public DateTime? LastSeenUtc { get; init; }

    /// <summary>The terminal's serial changed and it needs a new key (issue 13); shown to administrators.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool RekeyRequired { get; init; }
}

/// <summary>A device's credentials as stored (protected), for the credential administration and nothing else.</summary>
public sealed record DeviceCredentials
{
    public int Id { get; init; }

    public DeviceKind Kind { get; init; }

    public required string SerialNumber { get; init; }

    public string? Username { get; init; }

    public string? SecretProtected { get; init; }

    public string? ApiKeyProtected { get; init; }

    public string? ApiKeyPreviousProtected { get; init; }

    public DateTime? ApiKeyPreviousUntilUtc { get; init; }

    public DateTime? ApiKeyIssuedUtc { get; init; }

    /// <summary>Set by a registry import that changed the device's serial: new hardware that needs a new key.</summary>
    public bool RekeyRequired { get; init; }
}

/// <summary>
/// A device as a person sees it (issue 13, need to know): everyone in scope sees model, serial, state and last
/// seen; addresses, user names and whether secrets are set are filled in for administrators only, and left out
/// of API answers for everyone else. The media plane reads <see cref="Device"/> itself, never this.
/// </summary>
public sealed record DeviceView
{
    public int Id { get; init; }

    public int SchoolId { get; init; }

    public DeviceKind Kind { get; init; }

    public required string Model { get; init; }

    public required string SerialNumber { get; init; }

    public DeviceInstallState InstallState { get; init; }

    public bool Enabled { get; init; }

    public DeviceHealthState HealthState { get; init; }

    public DateTime? LastSeenUtc { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? SipAccount { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? RtspUrl { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? OnvifUrl { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Username { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public bool? HasSecret { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public bool? HasApiKey { get; init; }

    /// <summary>The view of <paramref name="d"/> that <paramref name="scope"/> may have.</summary>
    public static DeviceView For(Security.UserScope scope, Device d)
    {
        ArgumentNullException.ThrowIfNull(scope);
        ArgumentNullException.ThrowIfNull(d);
        var view = new DeviceView
        {
            Id = d.Id,
            SchoolId = d.SchoolId,
            Kind = d.Kind,
            Model = d.Model,
            SerialNumber = d.SerialNumber,
            InstallState = d.InstallState,
            Enabled = d.Enabled,
            HealthState = d.HealthState,
            LastSeenUtc = d.LastSeenUtc,
        };
        return scope.IsAdmin
            ? view with
            {
                SipAccount = d.SipAccount,
                RtspUrl = d.RtspUrl,
                OnvifUrl = d.OnvifUrl,
                Username = d.Username,
                HasSecret = d.SecretProtected is not null,
                HasApiKey = d.ApiKeyProtected is not null,
            }
            : view;
    }
}
