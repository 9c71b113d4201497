using System.Data.Common;
using System.Globalization;
using Portal.Core.Audit;
using Portal.Core.Data;
using Portal.Core.Schools;
using Portal.Core.Security;

namespace Portal.Core.Registry;

/// <summary>What a district import did (or would do): counts on success, every problem otherwise (then nothing was written).</summary>
public sealed record DistrictImportResult
{
    public bool Succeeded => Problems.Count == 0;

    public bool DryRun { get; init; }

    public string Format { get; init; } = "unknown";

    public string? Encoding { get; init; }

    public int Rows { get; init; }

    public RegistryImportCounts Districts { get; init; }

    public RegistryImportCounts Centres { get; init; }

    public IReadOnlyList<RegistryProblem> Problems { get; init; } = [];
}

/// <summary>
/// Imports districts and their 110 centres from CSV or XLSX (the same reader and the same all-or-nothing rule
/// as the school registry): one row per district, with its centre; a row whose code is 全市 (or CITY) is the
/// city 110 centre. Districts are matched by code, centres by district. Every row is checked against the file
/// and the database as they will be after the import; if anything is wrong nothing is written.
/// </summary>
public sealed class DistrictImporter(Db db, DistrictRepository districts, AuditRepository audit)
{
    public const string Code = "区市代码";
    public const string Name = "区市名称";
    public const string NameEn = "英文名称";
    public const string CentreName = "110指挥中心";
    public const string CentreNameEn = "指挥中心英文名称";
    public const string Deadline = "应答时限秒";
    public const string EscalatesTo = "超时升级至";

    /// <summary>The code cell of the city 110 centre's row.</summary>
    public static readonly IReadOnlyList<string> CityCodes = ["全市", "CITY"];

    /// <summary>Every header in the order the template uses; the first two are required.</summary>
    public static readonly IReadOnlyList<string> Columns = [Code, Name, NameEn, CentreName, CentreNameEn, Deadline, EscalatesTo];

    /// <summary>Deadlines a new centre gets when the file leaves the cell empty (the README's defaults).</summary>
    public const int DefaultDistrictDeadline = 15, DefaultCityDeadline = 30;

    public RegistryImportLimits Limits { get; init; } = new(MaxBytes: 2 * 1024 * 1024, MaxRows: 1000);

    public async Task<DistrictImportResult> ImportAsync(Stream content, string fileName, Actor actor, bool dryRun, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(content);
        ArgumentNullException.ThrowIfNull(actor);
        actor.Scope.Require(Roles.Admin);

        var sheet = await RegistryFileReader.ReadAsync(content, fileName ?? string.Empty, Limits, ct).ConfigureAwait(false);
        var result = new DistrictImportResult { DryRun = dryRun, Format = sheet.Format, Encoding = sheet.Encoding };
        if (sheet.Problem is { } refused)
        {
            return result with { Problems = [refused] };
        }

        var records = sheet.Records.Where(r => !RegistryRowParser.IsBlank(r)).ToList();
        if (records.Count == 0)
        {
            return result with { Problems = [RegistryProblemCodes.Make(0, null, RegistryProblemCodes.EmptyFile)] };
        }

        var problems = new List<RegistryProblem>();
        var columns = MapHeader(records[0], problems);
        if (columns is null)
        {
            return result with { Problems = problems };
        }

        var rows = records.Skip(1).Select(r => ParseRow(r, columns, problems)).ToList();
        if (rows.Count == 0)
        {
            return result with { Problems = [RegistryProblemCodes.Make(0, null, RegistryProblemCodes.NoDataRows)] };
        }

        if (rows.Count > Limits.MaxRows)
        {
            return result with { Problems = [RegistryProblemCodes.Make(0, null, RegistryProblemCodes.TooManyRows)] };
        }

        result = result with { Rows = rows.Count };
        await using var connection = await db.OpenAsync(ct).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(ct).ConfigureAwait(false);

        // Read inside the transaction too, so the checks and the writes see the same registry.
        var existingDistricts = await DistrictRepository.GetAllAsync(transaction, ct).ConfigureAwait(false);
        var existingCentres = await DistrictRepository.GetCentresAsync(transaction, ct).ConfigureAwait(false);
        var plan = Plan(rows, existingDistricts, existingCentres, problems);
        if (problems.Count > 0 || plan is null)
        {
            return result with { Problems = [.. problems.OrderBy(p => p.Line)] };
        }

        result = result with { Districts = plan.DistrictCounts, Centres = plan.CentreCounts };
        if (dryRun)
        {
            return result;
        }

        await WriteAsync(transaction, plan, ct).ConfigureAwait(false);
        await audit.WriteAsync(transaction, actor, AuditActions.DistrictsImported, Path.GetFileName(fileName),
            string.Create(CultureInfo.InvariantCulture,
                $"districts +{plan.DistrictCounts.Created} ~{plan.DistrictCounts.Updated}, centres +{plan.CentreCounts.Created} ~{plan.CentreCounts.Updated}"), ct).ConfigureAwait(false);
        await transaction.CommitAsync(ct).ConfigureAwait(false);
        return result;
    }

    private static Dictionary<string, int>? MapHeader(RawRecord header, List<RegistryProblem> problems)
    {
        var columns = new Dictionary<string, int>(StringComparer.Ordinal);
        var before = problems.Count;
        for (var i = 0; i < header.Cells.Count; i++)
        {
            var name = CellText.Normalize(header.Cells[i], CellKind.Identifier);
            if (name.Length == 0)
            {
                continue;
            }

            if (!Columns.Contains(name))
            {
                problems.Add(RegistryProblemCodes.Make(header.Line, name, RegistryProblemCodes.UnknownHeader, name));
            }
            else if (!columns.TryAdd(name, i))
            {
                problems.Add(RegistryProblemCodes.Make(header.Line, name, RegistryProblemCodes.DuplicateHeader, name));
            }
        }

        foreach (var name in (string[])[Code, Name])
        {
            if (!columns.ContainsKey(name))
            {
                problems.Add(RegistryProblemCodes.Make(header.Line, name, RegistryProblemCodes.MissingHeader, null, name, name));
            }
        }

        return problems.Count == before ? columns : null;
    }

    private static Row ParseRow(RawRecord record, Dictionary<string, int> columns, List<RegistryProblem> problems)
    {
        string Cell(string name, CellKind kind) =>
            columns.TryGetValue(name, out var i) && i < record.Cells.Count ? CellText.Normalize(record.Cells[i], kind) : string.Empty;

        if (record.UnterminatedQuote)
        {
            problems.Add(RegistryProblemCodes.Make(record.Line, null, RegistryProblemCodes.UnterminatedQuote));
        }

        var code = Cell(Code, CellKind.Identifier);
        var isCity = CityCodes.Any(c => string.Equals(c, code, StringComparison.OrdinalIgnoreCase));
        int? deadline = null;
        var deadlineText = Cell(Deadline, CellKind.Identifier);
        if (deadlineText.Length > 0)
        {
            if (int.TryParse(deadlineText, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
                && seconds is >= DistrictService.MinDeadlineSeconds and <= DistrictService.MaxDeadlineSeconds)
            {
                deadline = seconds;
            }
            else
            {
                problems.Add(Problem(record.Line, Deadline, "DeadlineRange", deadlineText));
            }
        }

        return new Row(record.Line, isCity, code, Cell(Name, CellKind.Text), Cell(NameEn, CellKind.Text),
            Cell(CentreName, CellKind.Text), Cell(CentreNameEn, CellKind.Text), deadline, Cell(EscalatesTo, CellKind.Identifier));
    }

    /// <summary>
    /// The registry as it will be after the import, checked as a whole: codes and names unique across the file
    /// and the districts it leaves alone, one centre per district and one for the city, escalation to a centre
    /// that will exist.
    /// </summary>
    private static ImportPlan? Plan(List<Row> rows, IReadOnlyList<District> existingDistricts, IReadOnlyList<PoliceCentre> existingCentres, List<RegistryProblem> problems)
    {
        var plan = new ImportPlan();
        var byCode = existingDistricts.ToDictionary(d => d.Code, StringComparer.OrdinalIgnoreCase);
        var finalDistricts = existingDistricts.ToDictionary(d => d.Code, StringComparer.OrdinalIgnoreCase);
        var seenCodes = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        var cityRows = rows.Where(r => r.IsCity).ToList();
        foreach (var extra in cityRows.Skip(1))
        {
            problems.Add(Problem(extra.Line, Code, "CityCentreExists", extra.Code));
        }

        // Districts: the file's rows override the database's; a fake id stands for a new district until it is written.
        var nextNewId = -1;
        foreach (var row in rows.Where(r => !r.IsCity))
        {
            if (row.Code.Length > 0 && !seenCodes.TryAdd(row.Code, row.Line))
            {
                problems.Add(Problem(row.Line, Code, "DuplicateDistrictCode", row.Code, seenCodes[row.Code]));
                continue;
            }

            byCode.TryGetValue(row.Code, out var existing);
            var wanted = DistrictService.Clean(new District
            {
                Id = existing?.Id ?? nextNewId--,
                Code = existing?.Code ?? row.Code,
                Name = row.Name,
                NameEn = row.NameEn.Length == 0 && existing is not null ? existing.NameEn : row.NameEn,
            });
            foreach (var error in DistrictService.ValidateDistrict(wanted, []))
            {
                problems.Add(Problem(row.Line, error.Field == nameof(District.Code) ? Code : error.Field == nameof(District.Name) ? Name : NameEn, error.Code, row.Code));
            }

            finalDistricts[wanted.Code] = wanted;
            plan.Districts.Add((row, existing, wanted));
        }

        foreach (var group in finalDistricts.Values.Where(d => d.Name.Length > 0).GroupBy(d => d.Name, StringComparer.Ordinal).Where(g => g.Count() > 1))
        {
            foreach (var (row, _, _) in plan.Districts.Where(p => group.Any(d => d.Id == p.Wanted.Id)))
            {
                problems.Add(Problem(row.Line, Name, "DuplicateDistrictName", row.Name));
            }
        }

        // Centres: one per row that names one; the escalation target is a district code whose centre will exist.
        var codeById = existingDistricts.ToDictionary(d => d.Id, d => d.Code);
        var centreByDistrictId = existingCentres.Where(c => c.DistrictId is not null).ToDictionary(c => c.DistrictId!.Value);
        var cityCentre = existingCentres.FirstOrDefault(c => c.DistrictId is null);
        var finalCentreCodes = new HashSet<string>(centreByDistrictId.Keys.Select(id => codeById[id]), StringComparer.OrdinalIgnoreCase);
        finalCentreCodes.UnionWith(plan.Districts.Where(p => p.Row.CentreName.Length > 0).Select(p => p.Wanted.Code));
        string? CodeOfCentre(int? centreId) =>
            centreId is { } id && existingCentres.FirstOrDefault(c => c.Id == id) is { DistrictId: { } d } ? codeById[d] : null;

        foreach (var row in rows.Where(r => r.CentreName.Length > 0 || r.IsCity))
        {
            if (row.IsCity && row.CentreName.Length == 0)
            {
                problems.Add(Problem(row.Line, CentreName, "Required", null));
                continue;
            }

            var district = row.IsCity ? null : plan.Districts.FirstOrDefault(p => p.Row == row).Wanted;
            if (!row.IsCity && district is null)
            {
                continue; // a duplicate row, reported above
            }

            var existing = row.IsCity ? cityCentre : district!.Id > 0 ? centreByDistrictId.GetValueOrDefault(district.Id) : null;
            var existingTarget = CodeOfCentre(existing?.EscalatesToCentreId);
            var target = existingTarget;
            if (row.EscalatesTo.Length > 0)
            {
                target = CityCodes.Contains(row.EscalatesTo, StringComparer.OrdinalIgnoreCase) ? null : row.EscalatesTo;
                if (row.IsCity && target is not null)
                {
                    problems.Add(Problem(row.Line, EscalatesTo, "CityCentreNoEscalation", row.EscalatesTo));
                }
                else if (target is not null && string.Equals(target, row.Code, StringComparison.OrdinalIgnoreCase))
                {
                    problems.Add(Problem(row.Line, EscalatesTo, "EscalatesToSelf", row.EscalatesTo));
                }
                else if (target is not null && !finalCentreCodes.Contains(target))
                {
                    problems.Add(Problem(row.Line, EscalatesTo, "UnknownCentre", row.EscalatesTo));
                }
            }

            var centre = DistrictService.Clean(new PoliceCentre
            {
                Id = existing?.Id ?? 0,
                Name = row.CentreName,
                NameEn = row.CentreNameEn.Length == 0 && existing is not null ? existing.NameEn : row.CentreNameEn,
                DistrictId = district?.Id,
                AnswerDeadlineSeconds = row.Deadline ?? existing?.AnswerDeadlineSeconds ?? (row.IsCity ? DefaultCityDeadline : DefaultDistrictDeadline),
            });
            if (centre.Name.Length > 128)
            {
                problems.Add(Problem(row.Line, CentreName, "TooLong", null));
            }

            var unchanged = existing is not null && existing.Name == centre.Name && existing.NameEn == centre.NameEn
                && existing.AnswerDeadlineSeconds == centre.AnswerDeadlineSeconds && string.Equals(existingTarget, target, StringComparison.OrdinalIgnoreCase);
            plan.Centres.Add(new PlannedCentre(existing, centre, district?.Code, target, unchanged));
        }

        plan.ExistingCentreIdsByCode = centreByDistrictId.ToDictionary(p => codeById[p.Key], p => p.Value.Id, StringComparer.OrdinalIgnoreCase);
        return problems.Count > 0 ? null : plan;
    }

    private async Task WriteAsync(DbTransaction transaction, ImportPlan plan, CancellationToken ct)
    {
        var districtIds = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        foreach (var (_, existing, wanted) in plan.Districts)
        {
            if (existing is null)
            {
                districtIds[wanted.Code] = await districts.CreateAsync(transaction, wanted with { Id = 0 }, ct).ConfigureAwait(false);
            }
            else
            {
                districtIds[wanted.Code] = existing.Id;
                if (existing != wanted)
                {
                    await DistrictRepository.UpdateAsync(transaction, wanted, ct).ConfigureAwait(false);
                }
            }
        }

        // Centres first without their targets (a target may be new too), then the targets once every id is known.
        var centreIds = new Dictionary<string, int>(plan.ExistingCentreIdsByCode, StringComparer.OrdinalIgnoreCase);
        var ids = new List<int>();
        foreach (var planned in plan.Centres)
        {
            var bound = planned.Centre with { DistrictId = planned.DistrictCode is null ? null : districtIds[planned.DistrictCode] };
            var id = planned.Existing?.Id ?? await districts.CreateCentreAsync(transaction, bound, ct).ConfigureAwait(false);
            ids.Add(id);
            if (planned.DistrictCode is { } code)
            {
                centreIds[code] = id;
            }
        }

        for (var i = 0; i < plan.Centres.Count; i++)
        {
            var planned = plan.Centres[i];
            if (planned.Unchanged)
            {
                continue;
            }

            await DistrictRepository.UpdateCentreAsync(transaction, planned.Centre with
            {
                Id = ids[i],
                DistrictId = planned.DistrictCode is null ? null : districtIds[planned.DistrictCode],
                EscalatesToCentreId = planned.TargetCode is null ? null : centreIds[planned.TargetCode],
            }, ct).ConfigureAwait(false);
        }
    }

    private static RegistryProblem Problem(int line, string? column, string code, string? value, int? firstLine = null)
    {
        var (zh, en) = Texts.TryGetValue(code, out var text) ? text : RegistryProblemCodes.Texts[code];
        if (firstLine is { } first)
        {
            var f = first.ToString(CultureInfo.InvariantCulture);
            (zh, en) = (zh + "（与第" + f + "行重复）", en + " (same as line " + f + ")");
        }

        return new RegistryProblem(line, column, code, zh, en, value);
    }

    /// <summary>The district import's own problem texts; shared ones (headers, file) come from <see cref="RegistryProblemCodes"/>.</summary>
    internal static readonly IReadOnlyDictionary<string, (string Zh, string En)> Texts = new Dictionary<string, (string, string)>
    {
        ["DistrictCodeFormat"] = ("区市代码应为2至16位字母或数字", "A district code has 2 to 16 letters or digits"),
        ["DuplicateDistrictCode"] = ("区市代码重复", "The district code appears more than once"),
        ["DuplicateDistrictName"] = ("区市名称重复", "Another district has this name"),
        ["Required"] = ("必填项为空", "A required value is empty"),
        ["TooLong"] = ("内容过长", "The value is too long"),
        ["DeadlineRange"] = ("应答时限应为5至600秒的整数", "The answer deadline is a whole number of seconds from 5 to 600"),
        ["CityCentreExists"] = ("全市110指挥中心只能有一行", "Only one row may describe the city 110 centre"),
        ["CityCentreNoEscalation"] = ("全市110指挥中心不再升级", "The city 110 centre does not escalate further"),
        ["EscalatesToSelf"] = ("不能升级到本中心", "A centre cannot escalate to itself"),
        ["UnknownCentre"] = ("升级目标区市没有110指挥中心", "The district to escalate to has no 110 centre"),
    };

    private sealed record Row(int Line, bool IsCity, string Code, string Name, string NameEn, string CentreName, string CentreNameEn, int? Deadline, string EscalatesTo);

    private sealed record PlannedCentre(PoliceCentre? Existing, PoliceCentre Centre, string? DistrictCode, string? TargetCode, bool Unchanged);

    private sealed class ImportPlan
    {
        public List<(Row Row, District? Existing, District Wanted)> Districts { get; } = [];

        public List<PlannedCentre> Centres { get; } = [];

        public Dictionary<string, int> ExistingCentreIdsByCode { get; set; } = [];

        public RegistryImportCounts DistrictCounts => new(
            Districts.Count(d => d.Existing is null), Districts.Count(d => d.Existing is not null && d.Existing != d.Wanted), Districts.Count(d => d.Existing == d.Wanted));

        public RegistryImportCounts CentreCounts => new(
            Centres.Count(c => c.Existing is null), Centres.Count(c => c.Existing is not null && !c.Unchanged), Centres.Count(c => c.Unchanged));
    }
}
