namespace Portal.Core.Installation;

/// <summary>The programme's steps, in the order a school must pass them.</summary>
public enum InstallationStepKind
{
    SiteSurveyed = 0,
    TerminalInstalled = 1,
    CameraInstalled = 2,

    /// <summary>Set by the platform itself when it has seen every device of the school.</summary>
    DevicesOnline = 3,

    /// <summary>Set when the 110 operator records a passed joint acceptance test (联调验收).</summary>
    AcceptancePassed = 4,
    SignedOff = 5,
}

public static class InstallationSteps
{
    public static readonly IReadOnlyList<InstallationStepKind> All = Enum.GetValues<InstallationStepKind>();

    /// <summary>The Chinese names used in the reports (the UI takes its words from the resx files).</summary>
    public static readonly IReadOnlyDictionary<InstallationStepKind, string> Chinese = new Dictionary<InstallationStepKind, string>
    {
        [InstallationStepKind.SiteSurveyed] = "现场勘察",
        [InstallationStepKind.TerminalInstalled] = "报警终端安装",
        [InstallationStepKind.CameraInstalled] = "门口球机安装",
        [InstallationStepKind.DevicesOnline] = "设备接入平台",
        [InstallationStepKind.AcceptancePassed] = "联调验收",
        [InstallationStepKind.SignedOff] = "教育局确认",
    };

    /// <summary>Steps a person records by hand; the others come from the platform and the acceptance test.</summary>
    public static bool IsManual(InstallationStepKind step) =>
        step is InstallationStepKind.SiteSurveyed or InstallationStepKind.TerminalInstalled or InstallationStepKind.CameraInstalled or InstallationStepKind.SignedOff;

    public static bool NeedsSerial(InstallationStepKind step) =>
        step is InstallationStepKind.TerminalInstalled or InstallationStepKind.CameraInstalled;
}

/// <summary>One done step of one school: when, who, notes and (for installs) the device serial.</summary>
public sealed record InstallationStepRecord
{
    public int Id { get; init; }

    public int SchoolId { get; init; }

    public InstallationStepKind Step { get; init; }

    public DateTime DoneUtc { get; init; }

    public required string DoneBy { get; init; }

    public string? Notes { get; init; }

    public string? SerialNumber { get; init; }

    public DateTime CreatedUtc { get; init; }
}

public sealed record InstallationPhoto
{
    public int Id { get; init; }

    public int SchoolId { get; init; }

    public InstallationStepKind Step { get; init; }

    public required string StoredName { get; init; }

    public required string OriginalName { get; init; }

    public required string ContentType { get; init; }

    public long SizeBytes { get; init; }

    public DateTime UploadedUtc { get; init; }

    public required string UploadedBy { get; init; }
}

public enum AcceptanceOutcome
{
    Requested = 0,
    Passed = 1,
    Failed = 2,
}

public sealed record AcceptanceTest
{
    public int Id { get; init; }

    public int SchoolId { get; init; }

    public int? AlarmId { get; init; }

    public AcceptanceOutcome Outcome { get; init; }

    public DateTime RequestedUtc { get; init; }

    public required string RequestedBy { get; init; }

    public bool? AudioOk { get; init; }

    public bool? VideoOk { get; init; }

    public string? Notes { get; init; }

    public DateTime? RecordedUtc { get; init; }

    public string? RecordedBy { get; init; }
}

/// <summary>The programme's dates: the city's deadline (configurable by the city bureau).</summary>
public sealed record ProgrammeSettings(DateTime StartUtc, DateTime DeadlineUtc)
{
    /// <summary>The city's order: done by the end of November (Beijing time, UTC+8).</summary>
    public static readonly ProgrammeSettings Default = new(
        new DateTime(2026, 10, 11, 16, 0, 0, DateTimeKind.Utc),
        new DateTime(2026, 11, 30, 16, 0, 0, DateTimeKind.Utc));
}

/// <summary>A district's own target: a date, a share of schools, and whom principals call.</summary>
public sealed record DistrictTarget
{
    public int DistrictId { get; init; }

    public DateTime? TargetUtc { get; init; }

    public int TargetPercent { get; init; } = 100;

    public string ContactName { get; init; } = string.Empty;

    public string ContactPhone { get; init; } = string.Empty;
}

/// <summary>The outcome of a change: ok, or the stable code of why nothing was changed (the UI words it).</summary>
public sealed record InstallationResult(string? Error, int Id = 0)
{
    public static readonly InstallationResult Ok = new((string?)null);

    /// <summary>The step was accepted but waits for an administrator: its serial differs from the registry's (issue 13).</summary>
    public static readonly InstallationResult HeldForConfirmation = new((string?)null) { Held = true };

    public bool Succeeded => Error is null;

    public bool Held { get; init; }

    public static InstallationResult Fail(string code) => new(code);
}

/// <summary>The codes <see cref="InstallationResult.Error"/> carries; each has a resx key "Installation_Error_{code}".</summary>
public static class InstallationErrors
{
    public const string OutOfScope = "OutOfScope";
    public const string NotAllowed = "NotAllowed";
    public const string OutOfOrder = "OutOfOrder";
    public const string AlreadyDone = "AlreadyDone";
    public const string NotManual = "NotManual";
    public const string SerialRequired = "SerialRequired";
    public const string DuplicateSerial = "DuplicateSerial";
    public const string FutureDate = "FutureDate";
    public const string PhotoTooLarge = "PhotoTooLarge";
    public const string PhotoNotImage = "PhotoNotImage";
    public const string DevicesNotOnline = "DevicesNotOnline";
    public const string TestPending = "TestPending";
    public const string TestNotFound = "TestNotFound";
    public const string NotesRequired = "NotesRequired";
    public const string InvalidDates = "InvalidDates";
    public const string RateLimited = "RateLimited";
    public const string NoCentre = "NoCentre";
    public const string HoldPending = "HoldPending";
    public const string HoldNotFound = "HoldNotFound";
}

public enum InstallationHoldState
{
    Waiting = 0,
    Confirmed = 1,
    Rejected = 2,
}

/// <summary>
/// An install step held for an administrator because the serial installed differs from the registry's device
/// (issue 13): the serial is the device's identity, so only an administrator changes it.
/// </summary>
public sealed record InstallationHold
{
    public int Id { get; init; }

    public int SchoolId { get; init; }

    public InstallationStepKind Step { get; init; }

    public int DeviceId { get; init; }

    public required string RegistrySerial { get; init; }

    public required string InstalledSerial { get; init; }

    public DateTime DoneUtc { get; init; }

    public required string DoneBy { get; init; }

    public string? Notes { get; init; }

    public DateTime CreatedUtc { get; init; }

    public InstallationHoldState State { get; init; }

    public DateTime? ResolvedUtc { get; init; }

    public string? ResolvedBy { get; init; }
}

/// <summary>A waiting hold with its school, for the administrators' list.</summary>
public sealed record InstallationHoldItem
{
    public int Id { get; init; }

    public int SchoolId { get; init; }

    public required string SchoolCode { get; init; }

    public required string SchoolName { get; init; }

    public InstallationStepKind Step { get; init; }

    public int DeviceId { get; init; }

    public required string RegistrySerial { get; init; }

    public required string InstalledSerial { get; init; }

    public DateTime DoneUtc { get; init; }

    public required string DoneBy { get; init; }

    public string? Notes { get; init; }
}
