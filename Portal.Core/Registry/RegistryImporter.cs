using Portal.Core.Data;
using Portal.Core.Devices;
using Portal.Core.Schools;
using Portal.Core.Security;
using static Portal.Core.Registry.RegistryProblemCodes;

namespace Portal.Core.Registry;

/// <summary>
/// Imports the education bureau's registry export (CSV in UTF-8 or GBK, or XLSX): one row per school with
/// its alarm terminal and gate camera. Every row is checked first; if any is wrong nothing is written and
/// the result lists every problem. Otherwise schools (by code) and devices (by serial) are inserted or
/// updated in one transaction, and rows already as the file says are left untouched.
/// </summary>
public sealed class RegistryImporter(Db db, TimeProvider time)
{
    // The repositories own the SQL; they are stateless wrappers over the same Db.
    private readonly SchoolRepository _schools = new(db);
    private readonly DeviceRepository _devices = new(db);

    public RegistryImportLimits Limits { get; init; } = RegistryImportLimits.Default;

    /// <summary>Checks and, unless <paramref name="dryRun"/>, writes the file.</summary>
    /// <param name="content">The uploaded bytes; read once, up to <see cref="RegistryImportLimits.MaxBytes"/>.</param>
    /// <param name="fileName">The name as uploaded, for messages only: the format is told from the bytes.</param>
    /// <param name="scope">Admin, or Bureau staff; district bureau staff may import only their district's schools.</param>
    /// <param name="dryRun">True to check and count without writing.</param>
    /// <param name="ct">Cancels the read and the transaction.</param>
    /// <exception cref="ScopeDeniedException">The role may not import the registry.</exception>
    public async Task<RegistryImportResult> ImportAsync(Stream content, string fileName, UserScope scope, bool dryRun, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(content);
        ArgumentNullException.ThrowIfNull(scope);
        scope.Require(Roles.Admin, Roles.Bureau);
        if (scope.SchoolId is not null)
        {
            throw new ScopeDeniedException("A school-scoped user may not import the registry.");
        }

        var sheet = await RegistryFileReader.ReadAsync(content, fileName ?? string.Empty, Limits, ct).ConfigureAwait(false);
        var result = new RegistryImportResult { DryRun = dryRun, Format = sheet.Format, Encoding = sheet.Encoding };
        if (sheet.Problem is { } refused)
        {
            return result with { Problems = [refused] };
        }

        var records = sheet.Records;
        var headerIndex = 0;
        while (headerIndex < records.Count && records[headerIndex].Cells.All(c => CellText.Normalize(c, CellKind.Identifier).Length == 0))
        {
            headerIndex++;
        }

        if (headerIndex == records.Count)
        {
            return result with { Problems = [Make(0, null, EmptyFile)] };
        }

        await using var connection = await db.OpenAsync(ct).ConfigureAwait(false);

        // Checked first on a read snapshot: a check-only import, or a file with problems, never takes SQLite's write
        // lock, which alarms would wait behind (issue #14). A file that passes is checked again inside the write
        // transaction (quick: it is parsed already), so nothing written in between slips through.
        RegistryImportResult checkedResult;
        await using (var read = await db.BeginReadTransactionAsync(connection, ct).ConfigureAwait(false))
        {
            (checkedResult, _, _) = await CheckAsync(read, records, headerIndex, scope, result, ct).ConfigureAwait(false);
        }

        if (dryRun || !checkedResult.Succeeded)
        {
            return checkedResult;
        }

        await using var transaction = await connection.BeginTransactionAsync(ct).ConfigureAwait(false);
        var (final, plan, snapshot) = await CheckAsync(transaction, records, headerIndex, scope, result, ct).ConfigureAwait(false);
        if (plan is null || snapshot is null)
        {
            return final;
        }

        var schoolIds = snapshot.SchoolsByCode.ToDictionary(p => p.Key, p => p.Value.Id, StringComparer.Ordinal);
        foreach (var (code, id) in await _schools.ImportAsync(transaction, plan.NewSchools, plan.ChangedSchools, ct).ConfigureAwait(false))
        {
            schoolIds[code] = id;
        }

        await _devices.ImportAsync(transaction, plan.SipAccountReleases,
            [.. plan.NewDevices.Select(p => p.Device with { SchoolId = schoolIds[p.SchoolCode] })],
            [.. plan.ChangedDevices.Select(p => p.Device with { SchoolId = schoolIds[p.SchoolCode] })], ct).ConfigureAwait(false);
        await transaction.CommitAsync(ct).ConfigureAwait(false);
        _devices.CredentialsChanged(); // SIP accounts may have moved between terminals: the registrar reads them afresh
        return final;
    }

    /// <summary>The snapshot, the checks and the plan, on <paramref name="transaction"/>; a plan only when there is no problem.</summary>
    private async Task<(RegistryImportResult Result, RegistryPlan? Plan, RegistrySnapshot? Snapshot)> CheckAsync(
        System.Data.Common.DbTransaction transaction, IReadOnlyList<RawRecord> records, int headerIndex,
        UserScope scope, RegistryImportResult result, CancellationToken ct)
    {
        var snapshot = await RegistrySnapshot.LoadAsync(transaction, ct).ConfigureAwait(false);

        var problems = new List<RegistryProblem>();
        var parser = RegistryRowParser.Create(records[headerIndex], snapshot.DistrictIdsByName, problems);
        if (parser is null)
        {
            return (result with { Problems = problems }, null, null);
        }

        var dataRecords = records.Skip(headerIndex + 1).Where(r => !RegistryRowParser.IsBlank(r)).ToList();
        if (dataRecords.Count == 0)
        {
            return (result with { Problems = [Make(0, null, NoDataRows)] }, null, null);
        }

        if (dataRecords.Count > Limits.MaxRows)
        {
            var limit = Limits.MaxRows.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return (result with { Problems = [Make(0, null, TooManyRows, null, "上限 " + limit + " 行", "limit " + limit + " rows")] }, null, null);
        }

        var rows = dataRecords.Select(r => parser.Parse(r, problems)).ToList();
        RegistryValidator.CheckDuplicates(rows, problems);
        RegistryValidator.CheckDatabase(rows, snapshot, scope, problems);
        result = result with { Rows = rows.Count };
        if (problems.Count > 0)
        {
            return (result with { Problems = Ordered(problems) }, null, null);
        }

        var plan = RegistryPlan.Build(rows, snapshot, time.GetUtcNow().UtcDateTime);
        return (result with { Schools = plan.SchoolCounts, Devices = plan.DeviceCounts, SerialChanges = plan.SerialChanges }, plan, snapshot);
    }

    private static List<RegistryProblem> Ordered(List<RegistryProblem> problems)
    {
        var columnOrder = RegistryColumns.All.Select((name, i) => (name, i)).ToDictionary(p => p.name, p => p.i, StringComparer.Ordinal);
        return [.. problems
            .Select((p, i) => (p, i))
            .OrderBy(x => x.p.Line)
            .ThenBy(x => x.p.Column is { } c && columnOrder.TryGetValue(c, out var order) ? order : -1)
            .ThenBy(x => x.i)
            .Select(x => x.p)];
    }
}
