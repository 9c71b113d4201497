namespace Portal.Core.Audit;

/// <summary>What was done with a gate camera. Stored as int: 0 video view, 1 PTZ move, 2 PTZ stop, 3 preset, 4 light on, 5 light off.</summary>
public enum CameraAction
{
    View = 0,
    PtzMove = 1,
    PtzStop = 2,
    Preset = 3,
    WarningLightOn = 4,
    WarningLightOff = 5,
}

/// <summary>Where in the portal it was done: 0 an alarm's pop-up, 1 the school page, 2 the camera wall.</summary>
public enum CameraOrigin
{
    AlarmPopup = 0,
    SchoolPage = 1,
    CameraWall = 2,
}

/// <summary>One row of the camera audit: who, which school (and camera, and alarm), when, from where, what.</summary>
public sealed record CameraAuditEntry
{
    public long Id { get; init; }

    public DateTime AtUtc { get; init; }

    public int UserId { get; init; }

    public string UserName { get; init; } = string.Empty;

    public string Role { get; init; } = string.Empty;

    public int SchoolId { get; init; }

    /// <summary>The school's code and name at reading time (joined; the audit row keeps only the id).</summary>
    public string? SchoolCode { get; init; }

    public string? SchoolName { get; init; }

    public int? DeviceId { get; init; }

    public int? AlarmId { get; init; }

    public CameraOrigin Origin { get; init; }

    public CameraAction Action { get; init; }

    /// <summary>Which move or preset; at most 256 characters.</summary>
    public string? Detail { get; init; }

    public string? RemoteAddress { get; init; }
}

/// <summary>The administrators' filters on the audit page; null means any.</summary>
public sealed record CameraAuditQuery
{
    public DateTime? FromUtc { get; init; }

    public DateTime? ToUtc { get; init; }

    /// <summary>Matches the start of the user name.</summary>
    public string? UserName { get; init; }

    /// <summary>Matches the school's code exactly or the start of its name.</summary>
    public string? School { get; init; }

    public CameraAction? Action { get; init; }

    public CameraOrigin? Origin { get; init; }
}

/// <summary>How long the camera audit is kept; never less than six months (China's Cybersecurity Law, article 21).</summary>
public sealed record CameraAuditSettings(int RetentionDays)
{
    public const int MinimumRetentionDays = 180;

    public TimeSpan Retention => TimeSpan.FromDays(Math.Max(MinimumRetentionDays, RetentionDays));
}
