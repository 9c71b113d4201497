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

    public DeviceInstallState InstallState { get; init; }

    public bool Enabled { get; init; } = true;

    /// <summary>
    /// Answer an RTSP Basic challenge on plain RTSP (off by default: Basic sends the password in the clear, so a spoofed
    /// camera could harvest it; Digest is always used). Only for a camera that offers nothing else.
    /// </summary>
    public bool RtspAllowBasicAuth { get; init; }

    public DeviceHealthState HealthState { get; init; }

    public DateTime? LastSeenUtc { get; init; }

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

    public string? SipAccount { get; init; }

    public string? RtspUrl { get; init; }

    public DeviceInstallState InstallState { get; init; }

    public bool Enabled { get; init; }

    public DeviceHealthState HealthState { get; init; }

    public DateTime? LastSeenUtc { get; init; }
}
