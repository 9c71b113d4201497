namespace Portal.Core.Registry;

/// <summary>
/// One reason a registry file or row was refused. <see cref="Code"/> is stable (the UI and tests key on it);
/// <see cref="Zh"/> and <see cref="En"/> are for people and may name the other line or the value.
/// </summary>
/// <param name="Line">The row as Excel or an editor shows it: the header is line 1; 0 for the file as a whole.</param>
/// <param name="Column">The header of the offending column (Chinese, as in the file), or null for the whole row or file.</param>
/// <param name="Code">A stable identifier from <see cref="RegistryProblemCodes"/>.</param>
/// <param name="Zh">The reason in Chinese.</param>
/// <param name="En">The reason in English.</param>
/// <param name="Value">The offending value after normalisation, when there is one.</param>
public sealed record RegistryProblem(int Line, string? Column, string Code, string Zh, string En, string? Value = null);

/// <summary>The stable problem codes, with their Chinese and English texts in one place.</summary>
public static class RegistryProblemCodes
{
    // File-level.
    public const string EmptyFile = "EmptyFile";
    public const string FileTooLarge = "FileTooLarge";
    public const string NotSpreadsheet = "NotSpreadsheet";
    public const string UnsupportedFormat = "UnsupportedFormat";
    public const string MissingHeader = "MissingHeader";
    public const string UnknownHeader = "UnknownHeader";
    public const string DuplicateHeader = "DuplicateHeader";
    public const string NoDataRows = "NoDataRows";
    public const string TooManyRows = "TooManyRows";

    // Row-level.
    public const string Required = "Required";
    public const string TooLong = "TooLong";
    public const string ExtraValue = "ExtraValue";
    public const string UnterminatedQuote = "UnterminatedQuote";
    public const string PrecisionLost = "PrecisionLost";
    public const string InvalidSchoolCode = "InvalidSchoolCode";
    public const string UnknownDistrict = "UnknownDistrict";
    public const string UnknownSchoolType = "UnknownSchoolType";
    public const string InvalidCoordinate = "InvalidCoordinate";
    public const string CoordinateOutOfRange = "CoordinateOutOfRange";
    public const string CoordinatePairIncomplete = "CoordinatePairIncomplete";
    public const string InvalidSerial = "InvalidSerial";
    public const string InvalidSipAccount = "InvalidSipAccount";
    public const string InvalidRtspUrl = "InvalidRtspUrl";
    public const string InvalidOnvifUrl = "InvalidOnvifUrl";
    public const string DuplicateSchoolCode = "DuplicateSchoolCode";
    public const string DuplicateSerial = "DuplicateSerial";
    public const string DuplicateSipAccount = "DuplicateSipAccount";
    public const string SerialUsedByOtherSchool = "SerialUsedByOtherSchool";
    public const string SipAccountInUse = "SipAccountInUse";
    public const string DeviceKindMismatch = "DeviceKindMismatch";
    public const string OutOfScope = "OutOfScope";

    /// <summary>The base text of each code; a problem may append a detail (the other line, the limit).</summary>
    public static readonly IReadOnlyDictionary<string, (string Zh, string En)> Texts = new Dictionary<string, (string Zh, string En)>
    {
        [EmptyFile] = ("文件为空", "The file is empty"),
        [FileTooLarge] = ("文件过大", "The file is too large"),
        [NotSpreadsheet] = ("不是CSV或XLSX文件", "Not a CSV or XLSX file"),
        [UnsupportedFormat] = ("不支持的文件格式，请另存为CSV或XLSX", "Unsupported file format; save it as CSV or XLSX"),
        [MissingHeader] = ("缺少表头列", "A header column is missing"),
        [UnknownHeader] = ("无法识别的表头列", "Unknown header column"),
        [DuplicateHeader] = ("表头列重复", "Duplicate header column"),
        [NoDataRows] = ("文件中没有数据行", "The file has no data rows"),
        [TooManyRows] = ("数据行过多", "Too many data rows"),
        [Required] = ("必填项为空", "A required value is empty"),
        [TooLong] = ("内容过长", "The value is too long"),
        [ExtraValue] = ("表头以外的列中有内容", "A value lies outside the header's columns"),
        [UnterminatedQuote] = ("引号未闭合", "A quoted field is not closed"),
        [PrecisionLost] = ("数字以科学计数法显示，可能已丢失精度；请将该列设为文本格式后重新导出", "The number is in scientific notation and may have lost digits; format the column as text and export again"),
        [InvalidSchoolCode] = ("学校标识码应为10位数字", "The school code must be 10 digits"),
        [UnknownDistrict] = ("未知的区市", "Unknown district"),
        [UnknownSchoolType] = ("未知的学校类型", "Unknown school type"),
        [InvalidCoordinate] = ("坐标不是数字", "The coordinate is not a number"),
        [CoordinateOutOfRange] = ("坐标超出范围", "The coordinate is out of range"),
        [CoordinatePairIncomplete] = ("经度和纬度应同时填写或同时为空", "Longitude and latitude must both be given or both be empty"),
        [InvalidSerial] = ("序列号只能包含字母、数字和 . _ - /", "A serial number may hold only letters, digits and . _ - /"),
        [InvalidSipAccount] = ("SIP账号只能包含字母、数字和 . _ - +", "A SIP account may hold only letters, digits and . _ - +"),
        [InvalidRtspUrl] = ("RTSP地址应以 rtsp:// 开头", "The RTSP URL must start with rtsp://"),
        [InvalidOnvifUrl] = ("ONVIF地址应以 http:// 或 https:// 开头", "The ONVIF URL must start with http:// or https://"),
        [DuplicateSchoolCode] = ("学校标识码在文件中重复", "The school code appears more than once in the file"),
        [DuplicateSerial] = ("序列号在文件中重复", "The serial number appears more than once in the file"),
        [DuplicateSipAccount] = ("SIP账号在文件中重复", "The SIP account appears more than once in the file"),
        [SerialUsedByOtherSchool] = ("序列号已被另一所学校的设备使用", "The serial number belongs to a device of another school"),
        [SipAccountInUse] = ("SIP账号已被另一台设备使用", "The SIP account is used by another device"),
        [DeviceKindMismatch] = ("该序列号在系统中属于另一类设备", "This serial number belongs to a device of another kind"),
        [OutOfScope] = ("无权导入其他区市的学校", "You may not import schools of another district"),
    };

    internal static RegistryProblem Make(int line, string? column, string code, string? value = null, string? zhDetail = null, string? enDetail = null)
    {
        var (zh, en) = Texts[code];
        return new RegistryProblem(
            line,
            column,
            code,
            zhDetail is null ? zh : zh + "（" + zhDetail + "）",
            enDetail is null ? en : en + " (" + enDetail + ")",
            value);
    }
}
