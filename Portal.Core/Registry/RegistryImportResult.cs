namespace Portal.Core.Registry;

/// <summary>The guards an upload must pass before any row is looked at.</summary>
/// <param name="MaxBytes">Largest file accepted; a city's registry is about 1 MB as CSV.</param>
/// <param name="MaxRows">Most data rows accepted; a city has about 4,000 schools.</param>
/// <param name="MaxPartBytes">One part of an XLSX package once unpacked (a sheet, the shared strings): a zip bomb stops here.</param>
/// <param name="MaxUnpackedBytes">All parts of an XLSX package together once unpacked.</param>
public sealed record RegistryImportLimits(long MaxBytes = 20 * 1024 * 1024, int MaxRows = 20_000, long MaxPartBytes = 64 * 1024 * 1024, long MaxUnpackedBytes = 256 * 1024 * 1024)
{
    public static readonly RegistryImportLimits Default = new();
}

/// <summary>How many records a run created, changed, or found already as the file says.</summary>
public readonly record struct RegistryImportCounts(int Created, int Updated, int Unchanged);

/// <summary>
/// A device whose serial a registry row changed (issue 13): new hardware in the same place. The device keeps its
/// history and credentials; a terminal is flagged for re-keying, since its key belonged to the old hardware.
/// </summary>
/// <param name="Line">The file's line that changed it.</param>
/// <param name="SchoolCode">The school's code.</param>
/// <param name="SchoolName">The school's name.</param>
/// <param name="Kind">Terminal or camera.</param>
/// <param name="OldSerial">The serial the registry had.</param>
/// <param name="NewSerial">The serial the file gives.</param>
public sealed record RegistrySerialChange(int Line, string SchoolCode, string SchoolName, Devices.DeviceKind Kind, string OldSerial, string NewSerial)
{
    public bool NeedsNewKey => Kind == Devices.DeviceKind.AlarmTerminal;
}

/// <summary>
/// What an import did (or, for a dry run or a refused file, would have done). When <see cref="Problems"/>
/// is not empty nothing was written and the counts are zero.
/// </summary>
public sealed record RegistryImportResult
{
    public bool Succeeded => Problems.Count == 0;

    /// <summary>True when the file was checked and the counts computed, but nothing was written.</summary>
    public bool DryRun { get; init; }

    /// <summary>"csv" or "xlsx", from the file's bytes; "unknown" when it was refused before reading.</summary>
    public string Format { get; init; } = "unknown";

    /// <summary>For CSV: "utf-8", "utf-8-bom" or "gb18030".</summary>
    public string? Encoding { get; init; }

    /// <summary>Data rows read (blank rows are not counted).</summary>
    public int Rows { get; init; }

    public RegistryImportCounts Schools { get; init; }

    public RegistryImportCounts Devices { get; init; }

    /// <summary>Devices whose serial changed (terminals among them need a new key); empty when none did.</summary>
    public IReadOnlyList<RegistrySerialChange> SerialChanges { get; init; } = [];

    /// <summary>Every problem found, ordered by line then column; empty on success.</summary>
    public IReadOnlyList<RegistryProblem> Problems { get; init; } = [];
}
