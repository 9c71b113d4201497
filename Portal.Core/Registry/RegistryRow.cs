using System.Globalization;
using System.Text.RegularExpressions;
using Portal.Core.Schools;
using static Portal.Core.Registry.RegistryColumns;
using static Portal.Core.Registry.RegistryProblemCodes;

namespace Portal.Core.Registry;

/// <summary>One school row after normalisation and the checks that need only the row itself.</summary>
internal sealed record RegistryRow
{
    public int Line { get; init; }

    /// <summary>True when a check on the row alone failed; such a row is still used to find duplicates.</summary>
    public bool HasProblems { get; init; }

    public required string Code { get; init; }

    public required string Name { get; init; }

    public SchoolType SchoolType { get; init; }

    public int DistrictId { get; init; }

    public required string Address { get; init; }

    public double? Longitude { get; init; }

    public double? Latitude { get; init; }

    public required string Principal { get; init; }

    public required string Phone { get; init; }

    public required string TerminalModel { get; init; }

    public required string TerminalSerial { get; init; }

    public required string SipAccount { get; init; }

    public required string CameraModel { get; init; }

    public required string CameraSerial { get; init; }

    public required string RtspUrl { get; init; }

    public required string OnvifUrl { get; init; }
}

/// <summary>
/// Finds the columns by header and turns each data record into a <see cref="RegistryRow"/>, collecting
/// every problem instead of stopping at the first, so the user can fix the whole file in one go.
/// </summary>
internal sealed partial class RegistryRowParser
{
    // China's extent, so a swapped pair (36, 120) or a zero (0, 0) from an empty numeric cell is caught.
    private const double MinLongitude = 73, MaxLongitude = 136, MinLatitude = 3, MaxLatitude = 54;

    private static readonly string[] RequiredColumns =
    [
        SchoolCode, SchoolName, TypeName, DistrictName, TerminalModel, TerminalSerial, TerminalSip,
        CameraModel, CameraSerial, CameraRtsp, CameraOnvif,
    ];

    // Columns where Excel turns a long digit string into a number and may show it as 3.37E+09.
    private static readonly string[] NumericLooking = [SchoolCode, Phone, TerminalSerial, CameraSerial, TerminalSip];

    private readonly Dictionary<string, int> _columns;
    private readonly int _width;
    private readonly IReadOnlyDictionary<string, int> _districtIds;

    private RegistryRowParser(Dictionary<string, int> columns, int width, IReadOnlyDictionary<string, int> districtIds)
    {
        _columns = columns;
        _width = width;
        _districtIds = districtIds;
    }

    /// <summary>Maps the header record; returns null and adds problems when a header is missing, unknown or doubled.</summary>
    public static RegistryRowParser? Create(RawRecord header, IReadOnlyDictionary<string, int> districtIds, List<RegistryProblem> problems)
    {
        var columns = new Dictionary<string, int>(StringComparer.Ordinal);
        var width = 0;
        var before = problems.Count;
        for (var i = 0; i < header.Cells.Count; i++)
        {
            var name = CellText.Normalize(header.Cells[i], CellKind.Identifier);
            if (name.Length == 0)
            {
                continue; // Excel exports trailing empty columns; an empty header is not a column.
            }

            width = i + 1;
            if (!All.Contains(name))
            {
                problems.Add(Make(header.Line, name, UnknownHeader, name));
            }
            else if (!columns.TryAdd(name, i))
            {
                problems.Add(Make(header.Line, name, DuplicateHeader, name));
            }
        }

        foreach (var name in All.Where(n => !columns.ContainsKey(n)))
        {
            problems.Add(Make(header.Line, name, MissingHeader, null, name, name));
        }

        return problems.Count == before ? new RegistryRowParser(columns, width, districtIds) : null;
    }

    public static bool IsBlank(RawRecord record) =>
        record.Cells.All(c => CellText.Normalize(c, CellKind.Identifier).Length == 0);

    /// <summary>Always returns the row, so in-file duplicates are found even on rows with other problems.</summary>
    public RegistryRow Parse(RawRecord record, List<RegistryProblem> problems)
    {
        var line = record.Line;
        var before = problems.Count;
        if (record.UnterminatedQuote)
        {
            problems.Add(Make(line, null, UnterminatedQuote));
        }

        for (var i = _width; i < record.Cells.Count; i++)
        {
            var extra = CellText.Normalize(record.Cells[i], CellKind.Text);
            if (extra.Length > 0)
            {
                problems.Add(Make(line, null, ExtraValue, extra, $"第{i + 1}列", $"column {i + 1}"));
            }
        }

        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, index) in _columns)
        {
            var value = index < record.Cells.Count ? CellText.Normalize(record.Cells[index], Kind(name)) : string.Empty;
            values[name] = value;
            if (value.Length > MaxLength(name))
            {
                problems.Add(Make(line, name, TooLong, value, $"最多 {MaxLength(name)} 个字符", $"at most {MaxLength(name)} characters"));
            }
        }

        foreach (var name in RequiredColumns.Where(n => values[n].Length == 0))
        {
            problems.Add(Make(line, name, Required));
        }

        var scientific = NumericLooking.Where(n => CellText.IsScientific(values[n])).ToHashSet();
        foreach (var name in scientific)
        {
            problems.Add(Make(line, name, PrecisionLost, values[name]));
        }

        var code = values[SchoolCode];
        if (code.Length > 0 && !scientific.Contains(SchoolCode) && !SchoolCodePattern().IsMatch(code))
        {
            problems.Add(Make(line, SchoolCode, InvalidSchoolCode, code));
        }

        var districtId = 0;
        if (values[DistrictName] is { Length: > 0 } district && !_districtIds.TryGetValue(district, out districtId))
        {
            problems.Add(Make(line, DistrictName, UnknownDistrict, district));
        }

        var schoolType = default(SchoolType);
        if (values[TypeName] is { Length: > 0 } typeText && !SchoolTypeNames.TryParseChinese(typeText, out schoolType))
        {
            problems.Add(Make(line, TypeName, UnknownSchoolType, typeText, "可选：" + string.Join("、", SchoolTypeNames.Chinese.Values), "one of " + string.Join(", ", SchoolTypeNames.Chinese.Values)));
        }

        var longitude = ParseCoordinate(line, Longitude, values[Longitude], MinLongitude, MaxLongitude, problems);
        var latitude = ParseCoordinate(line, Latitude, values[Latitude], MinLatitude, MaxLatitude, problems);
        if ((values[Longitude].Length == 0) != (values[Latitude].Length == 0))
        {
            problems.Add(Make(line, values[Longitude].Length == 0 ? Longitude : Latitude, CoordinatePairIncomplete));
        }

        foreach (var name in (string[])[TerminalSerial, CameraSerial])
        {
            if (values[name] is { Length: > 0 } serial && !scientific.Contains(name) && !SerialPattern().IsMatch(serial))
            {
                problems.Add(Make(line, name, InvalidSerial, serial));
            }
        }

        if (values[TerminalSip] is { Length: > 0 } sip && !scientific.Contains(TerminalSip) && !SipPattern().IsMatch(sip))
        {
            problems.Add(Make(line, TerminalSip, InvalidSipAccount, sip));
        }

        if (values[CameraRtsp] is { Length: > 0 } rtsp && !IsUrl(rtsp, "rtsp"))
        {
            problems.Add(Make(line, CameraRtsp, InvalidRtspUrl, rtsp));
        }

        if (values[CameraOnvif] is { Length: > 0 } onvif && !IsUrl(onvif, Uri.UriSchemeHttp) && !IsUrl(onvif, Uri.UriSchemeHttps))
        {
            problems.Add(Make(line, CameraOnvif, InvalidOnvifUrl, onvif));
        }

        return new RegistryRow
        {
            Line = line,
            HasProblems = problems.Count > before,
            Code = code,
            Name = values[SchoolName],
            SchoolType = schoolType,
            DistrictId = districtId,
            Address = values[Address],
            Longitude = longitude,
            Latitude = latitude,
            Principal = values[Principal],
            Phone = values[Phone],
            TerminalModel = values[TerminalModel],
            TerminalSerial = values[TerminalSerial],
            SipAccount = values[TerminalSip],
            CameraModel = values[CameraModel],
            CameraSerial = values[CameraSerial],
            RtspUrl = values[CameraRtsp],
            OnvifUrl = values[CameraOnvif],
        };
    }

    private static double? ParseCoordinate(int line, string column, string text, double min, double max, List<RegistryProblem> problems)
    {
        if (text.Length == 0)
        {
            return null;
        }

        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !double.IsFinite(value))
        {
            problems.Add(Make(line, column, InvalidCoordinate, text));
            return null;
        }

        if (value < min || value > max)
        {
            var range = string.Create(CultureInfo.InvariantCulture, $"{min}–{max}");
            problems.Add(Make(line, column, CoordinateOutOfRange, text, range, range));
            return null;
        }

        return value;
    }

    private static bool IsUrl(string text, string scheme) =>
        text.StartsWith(scheme + "://", StringComparison.OrdinalIgnoreCase)
        && Uri.TryCreate(text, UriKind.Absolute, out var uri)
        && string.Equals(uri.Scheme, scheme, StringComparison.OrdinalIgnoreCase)
        && uri.Host.Length > 0;

    [GeneratedRegex("^[0-9]{10}$")]
    private static partial Regex SchoolCodePattern();

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._/-]*$")]
    private static partial Regex SerialPattern();

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._+-]*$")]
    private static partial Regex SipPattern();
}
