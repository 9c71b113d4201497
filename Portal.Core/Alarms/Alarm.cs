namespace Portal.Core.Alarms;

public enum AlarmSource
{
    Sip = 0,
    DeviceApi = 1,
    PortalTest = 2,
}

public enum AlarmState
{
    /// <summary>Ringing at the district centre, inside its answer deadline.</summary>
    Ringing = 0,

    /// <summary>Unanswered past the deadline: ringing louder, and the city centre's to take.</summary>
    Escalated = 1,
    Answered = 2,
    Closed = 3,
}

public enum AlarmDisposition
{
    RealEmergency = 0,
    FalseAlarm = 1,
    Test = 2,
    Malfunction = 3,
}

public enum AlarmEventKind
{
    Raised = 0,
    SignalJoined = 1,
    Escalated = 2,
    Answered = 3,
    Note = 4,
    Dispatch = 5,
    Transferred = 6,
    Closed = 7,
    Camera = 8,
    AcceptanceResult = 9,
}

/// <summary>A camera action in an alarm's timeline (<see cref="AlarmEvent.Code"/> of a <see cref="AlarmEventKind.Camera"/> event).</summary>
public enum AlarmCameraAction
{
    /// <summary>A continuous PTZ move; the event's text is the direction (up, down, left, right, zoomin, zoomout).</summary>
    PtzMove = 0,

    /// <summary>The camera went to a preset; the event's text is the preset's name.</summary>
    PtzPreset = 1,
    WarningLightOn = 2,
    WarningLightOff = 3,
}

/// <summary>An alarm with what a console shows beside it: the school, its principal, the device, the centre.</summary>
public sealed record AlarmView
{
    public int Id { get; init; }

    public int SchoolId { get; init; }

    public int DistrictId { get; init; }

    public int? DeviceId { get; init; }

    public int CentreId { get; init; }

    /// <summary>The district of the centre that must answer now (null: the city centre).</summary>
    public int? CentreDistrictId { get; init; }

    public AlarmSource Source { get; init; }

    public bool IsTest { get; init; }

    public bool IsAcceptance { get; init; }

    public AlarmState State { get; init; }

    public DateTime RaisedUtc { get; init; }

    public DateTime LastSignalUtc { get; init; }

    public int SignalCount { get; init; }

    public DateTime? AnswerDeadlineUtc { get; init; }

    public DateTime? EscalatedUtc { get; init; }

    public DateTime? AnsweredUtc { get; init; }

    public int? AnsweredByUserId { get; init; }

    public string? AnsweredByName { get; init; }

    public DateTime? ClosedUtc { get; init; }

    public AlarmDisposition? Disposition { get; init; }

    public string SchoolName { get; init; } = string.Empty;

    public string SchoolCode { get; init; } = string.Empty;

    public string Address { get; init; } = string.Empty;

    public string PrincipalName { get; init; } = string.Empty;

    public string Phone { get; init; } = string.Empty;

    public double? Longitude { get; init; }

    public double? Latitude { get; init; }

    public string DistrictName { get; init; } = string.Empty;

    public string DistrictNameEn { get; init; } = string.Empty;

    public string? DeviceSerial { get; init; }

    public string? DeviceModel { get; init; }

    public string CentreName { get; init; } = string.Empty;

    public string CentreNameEn { get; init; } = string.Empty;

    public bool IsOpen => State != AlarmState.Closed;

    public bool IsRinging => State is AlarmState.Ringing or AlarmState.Escalated;
}

/// <summary>
/// One step of an alarm's timeline, stored as a kind and its data so that each reader sees it in their own language:
/// <see cref="Code"/> and <see cref="CentreId"/> carry what the kind needs, <see cref="Text"/> only what a person typed.
/// </summary>
public sealed record AlarmEvent
{
    public int Id { get; init; }

    public int AlarmId { get; init; }

    public AlarmEventKind Kind { get; init; }

    public DateTime AtUtc { get; init; }

    public int? UserId { get; init; }

    public string? UserName { get; init; }

    public string? RemoteAddress { get; init; }

    /// <summary>What a person typed (note, dispatch, the note of a transfer or a close), or a camera preset's name or PTZ direction.</summary>
    public string? Text { get; init; }

    /// <summary>The kind's code: the source of <see cref="AlarmEventKind.Raised"/> and <see cref="AlarmEventKind.SignalJoined"/>,
    /// the disposition of <see cref="AlarmEventKind.Closed"/>, the action of <see cref="AlarmEventKind.Camera"/>.</summary>
    public int? Code { get; init; }

    /// <summary>The centre that holds the alarm after a <see cref="AlarmEventKind.Transferred"/> or <see cref="AlarmEventKind.Escalated"/> event.</summary>
    public int? CentreId { get; init; }

    /// <summary>Read only (joined from PoliceCentre): the name of <see cref="CentreId"/>.</summary>
    public string? CentreName { get; init; }

    public string? CentreNameEn { get; init; }

    public AlarmSource? Source => Kind is AlarmEventKind.Raised or AlarmEventKind.SignalJoined && Code is { } c ? (AlarmSource)c : null;

    public AlarmDisposition? Disposition => Kind == AlarmEventKind.Closed && Code is { } c ? (AlarmDisposition)c : null;

    public AlarmCameraAction? CameraAction => Kind == AlarmEventKind.Camera && Code is { } c ? (AlarmCameraAction)c : null;

    /// <summary>True for what only the police read: notes, dispatch, and what an operator typed on a transfer or close.</summary>
    public bool IsPoliceOnly => Kind is AlarmEventKind.Note or AlarmEventKind.Dispatch;
}

/// <summary>
/// What changed, pushed to every console whose scope covers the alarm, and to the police of the centre that held it
/// before a transfer or an escalation (<paramref name="FormerCentreDistrictId"/>; null: no such centre, or the city's).
/// </summary>
public sealed record AlarmChange(AlarmView Alarm, AlarmEventKind Kind, int? FormerCentreDistrictId = null);
