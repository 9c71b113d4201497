using Portal.Core.Devices;

namespace Portal.Core.Health;

/// <summary>One device as a check cycle sees it: the registry's fields it needs, its signal freshness and its health row.</summary>
public sealed record HealthTarget
{
    public int DeviceId { get; init; }

    public int SchoolId { get; init; }

    public int DistrictId { get; init; }

    public required string SchoolName { get; init; }

    public DeviceKind Kind { get; init; }

    public required string SerialNumber { get; init; }

    public string? SipAccount { get; init; }

    public string? RtspUrl { get; init; }

    public string? OnvifUrl { get; init; }

    public string? Username { get; init; }

    public string? SecretProtected { get; init; }

    public DeviceInstallState InstallState { get; init; }

    /// <summary>When the device last pushed a signal (heartbeat, registration, alarm), as the device intake records it.</summary>
    public DateTime? LastSeenUtc { get; init; }

    /// <summary>Device.HealthState: the state everyone reads, which the health row's state must match.</summary>
    public DeviceHealthState PublishedState { get; init; }

    /// <summary>The device's health row; a device checked for the first time gets a blank one.</summary>
    public DeviceHealthRecord Health { get; init; } = new();
}

/// <summary>A DeviceHealth row: what the checks keep per device between cycles.</summary>
public sealed record DeviceHealthRecord
{
    public DeviceHealthState State { get; init; }

    public DateTime? StateSinceUtc { get; init; }

    public int Misses { get; init; }

    public DateTime? LastOkUtc { get; init; }

    public string? Detail { get; init; }

    public DeviceHealthState NotifiedState { get; init; }

    public bool IsFlapping { get; init; }

    public DateTime? FlappingSinceUtc { get; init; }
}

/// <summary>What one check found.</summary>
public enum ObservationKind
{
    /// <summary>Nothing to say this cycle (a device never seen and not answering stays unknown).</summary>
    None,

    /// <summary>Alive and fully working.</summary>
    Ok,

    /// <summary>Alive but impaired: a camera answers RTSP but not ONVIF, refuses the credentials, or offers no video.</summary>
    Degraded,

    /// <summary>No sign of life this interval (no answer, refused connection, time-out, garbage that broke the connection).</summary>
    Missed,

    /// <summary>A pushing device silent for the whole offline window: offline at once, its missed intervals already counted by time.</summary>
    Silent,
}

public sealed record Observation(ObservationKind Kind, string? Detail = null)
{
    public static readonly Observation Nothing = new(ObservationKind.None);

    public static Observation Ok(string? detail = null) => new(ObservationKind.Ok, detail);
}
