namespace Portal.Core.Registry;

/// <summary>
/// The bureau's export layout: one row per school with its alarm terminal and gate camera. Columns are
/// found by header text, so a sheet with the columns reordered still imports.
/// </summary>
public static class RegistryColumns
{
    public const string SchoolCode = "学校标识码";
    public const string SchoolName = "学校名称";
    public const string TypeName = "学校类型";
    public const string DistrictName = "所属区市";
    public const string Address = "地址";
    public const string Longitude = "经度";
    public const string Latitude = "纬度";
    public const string Principal = "校长";
    public const string Phone = "联系电话";
    public const string TerminalModel = "报警终端型号";
    public const string TerminalSerial = "报警终端序列号";
    public const string TerminalSip = "报警终端SIP账号";
    public const string CameraModel = "球机型号";
    public const string CameraSerial = "球机序列号";
    public const string CameraRtsp = "球机RTSP地址";
    public const string CameraOnvif = "球机ONVIF地址";

    /// <summary>All headers in the bureau's order; the benchmark and the tests write files with it.</summary>
    public static readonly IReadOnlyList<string> All =
    [
        SchoolCode, SchoolName, TypeName, DistrictName, Address, Longitude, Latitude, Principal, Phone,
        TerminalModel, TerminalSerial, TerminalSip, CameraModel, CameraSerial, CameraRtsp, CameraOnvif,
    ];

    /// <summary>How a column's cells are cleaned up; see <see cref="CellText.Normalize"/>.</summary>
    internal static CellKind Kind(string header) => header switch
    {
        SchoolCode or Longitude or Latitude or TerminalSerial or CameraSerial or TerminalSip => CellKind.Identifier,
        Phone or TerminalModel or CameraModel or CameraRtsp or CameraOnvif => CellKind.Code,
        _ => CellKind.Text,
    };

    /// <summary>Maximum lengths, from the SQL Server schema (NVARCHAR sizes), so both engines refuse alike.</summary>
    internal static int MaxLength(string header) => header switch
    {
        SchoolName => 128,
        Address => 256,
        Principal => 64,
        Phone => 32,
        TerminalModel or CameraModel or TerminalSerial or CameraSerial or TerminalSip => 64,
        CameraRtsp or CameraOnvif => 512,
        _ => 64,
    };
}
