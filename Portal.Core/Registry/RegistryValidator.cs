using System.Globalization;
using Portal.Core.Devices;
using Portal.Core.Security;
using static Portal.Core.Registry.RegistryColumns;
using static Portal.Core.Registry.RegistryProblemCodes;

namespace Portal.Core.Registry;

/// <summary>
/// The checks that look across rows (duplicates within the file) and against the database (serials and
/// SIP accounts held by other schools, the importer's district). Every problem is collected.
/// </summary>
internal static class RegistryValidator
{
    public static void CheckDuplicates(IReadOnlyList<RegistryRow> rows, List<RegistryProblem> problems)
    {
        var codes = new Dictionary<string, int>(StringComparer.Ordinal);
        var serials = new Dictionary<string, (int Line, string Column)>(StringComparer.Ordinal);
        var sipAccounts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var row in rows)
        {
            if (row.Code.Length > 0 && !codes.TryAdd(row.Code, row.Line))
            {
                problems.Add(Duplicate(row.Line, SchoolCode, DuplicateSchoolCode, row.Code, codes[row.Code], SchoolCode));
            }

            foreach (var (serial, column) in (ReadOnlySpan<(string, string)>)[(row.TerminalSerial, TerminalSerial), (row.CameraSerial, CameraSerial)])
            {
                if (serial.Length > 0 && !serials.TryAdd(serial, (row.Line, column)))
                {
                    var first = serials[serial];
                    problems.Add(Duplicate(row.Line, column, DuplicateSerial, serial, first.Line, first.Column));
                }
            }

            if (row.SipAccount.Length > 0 && !sipAccounts.TryAdd(row.SipAccount, row.Line))
            {
                problems.Add(Duplicate(row.Line, TerminalSip, DuplicateSipAccount, row.SipAccount, sipAccounts[row.SipAccount], TerminalSip));
            }
        }
    }

    public static void CheckDatabase(IReadOnlyList<RegistryRow> rows, RegistrySnapshot snapshot, UserScope scope, List<RegistryProblem> problems)
    {
        var rowsByCode = new Dictionary<string, RegistryRow>(StringComparer.Ordinal);
        var fileSerials = RegistryPlan.FileSerials(rows);
        var terminalSerials = new HashSet<string>(StringComparer.Ordinal);
        foreach (var row in rows)
        {
            rowsByCode.TryAdd(row.Code, row);
            terminalSerials.Add(row.TerminalSerial);
        }

        foreach (var row in rows)
        {
            CheckScope(row, snapshot, scope, problems);
            CheckDevice(row, row.TerminalSerial, DeviceKind.AlarmTerminal, TerminalSerial, snapshot, scope, rowsByCode, problems);
            CheckDevice(row, row.CameraSerial, DeviceKind.GateCamera, CameraSerial, snapshot, scope, rowsByCode, problems);

            // The account may pass from one terminal to another only when the file also rewrites the
            // holder's account; the writer frees changed accounts first, so the unique index never trips.
            // The terminal a new serial replaces (issue 13) keeps its account: it is the same registry entry.
            if (row.SipAccount.Length > 0
                && snapshot.DevicesBySipAccount.TryGetValue(row.SipAccount, out var holder)
                && holder.SerialNumber != row.TerminalSerial
                && !(holder.Kind == DeviceKind.AlarmTerminal && terminalSerials.Contains(holder.SerialNumber))
                && RegistryPlan.ReplacedDevice(row, row.TerminalSerial, DeviceKind.AlarmTerminal, snapshot, fileSerials)?.Id != holder.Id)
            {
                problems.Add(Make(row.Line, TerminalSip, SipAccountInUse, row.SipAccount,
                    "设备序列号 " + holder.SerialNumber, "device serial " + holder.SerialNumber));
            }
        }
    }

    private static void CheckScope(RegistryRow row, RegistrySnapshot snapshot, UserScope scope, List<RegistryProblem> problems)
    {
        if (scope.DistrictId is not { } own)
        {
            return;
        }

        if (row.DistrictId != 0 && row.DistrictId != own)
        {
            problems.Add(Make(row.Line, DistrictName, OutOfScope, DistrictLabel(snapshot, row.DistrictId)));
        }
        else if (snapshot.SchoolsByCode.TryGetValue(row.Code, out var existing) && existing.DistrictId != own)
        {
            problems.Add(Make(row.Line, SchoolCode, OutOfScope, row.Code,
                "该学校目前属于" + DistrictLabel(snapshot, existing.DistrictId), "the school now belongs to " + DistrictLabel(snapshot, existing.DistrictId)));
        }
    }

    /// <summary>
    /// A serial already in the database must belong to this row's school, or move here from a school whose
    /// own row in the same file no longer names it: a device changes school only through the rows of both.
    /// </summary>
    private static void CheckDevice(
        RegistryRow row,
        string serial,
        DeviceKind kind,
        string column,
        RegistrySnapshot snapshot,
        UserScope scope,
        Dictionary<string, RegistryRow> rowsByCode,
        List<RegistryProblem> problems)
    {
        if (serial.Length == 0 || !snapshot.DevicesBySerial.TryGetValue(serial, out var device))
        {
            return;
        }

        if (device.Kind != kind)
        {
            problems.Add(Make(row.Line, column, DeviceKindMismatch, serial));
            return;
        }

        var owner = snapshot.SchoolsById[device.SchoolId];
        if (owner.Code == row.Code)
        {
            return;
        }

        if (rowsByCode.TryGetValue(owner.Code, out var ownerRow))
        {
            if (ownerRow.TerminalSerial == serial || ownerRow.CameraSerial == serial)
            {
                return; // Both rows name it: already reported as a duplicate within the file.
            }

            if (scope.DistrictId is { } own && owner.DistrictId != own)
            {
                problems.Add(Make(row.Line, column, OutOfScope, serial,
                    "设备目前属于" + DistrictLabel(snapshot, owner.DistrictId) + "的学校", "the device now belongs to a school in " + DistrictLabel(snapshot, owner.DistrictId)));
            }

            return;
        }

        problems.Add(Make(row.Line, column, SerialUsedByOtherSchool, serial, owner.Code + " " + owner.Name, owner.Code + " " + owner.Name));
    }

    private static string DistrictLabel(RegistrySnapshot snapshot, int districtId) =>
        snapshot.DistrictIdsByName.FirstOrDefault(d => d.Value == districtId).Key ?? districtId.ToString(CultureInfo.InvariantCulture);

    private static RegistryProblem Duplicate(int line, string column, string code, string value, int firstLine, string firstColumn)
    {
        var first = firstLine.ToString(CultureInfo.InvariantCulture);
        return Make(line, column, code, value, $"与第{first}行“{firstColumn}”重复", $"same as line {first}, {firstColumn}");
    }
}
