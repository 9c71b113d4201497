using System.Text;
using Portal.Core.Audit;
using Portal.Core.Data;
using Portal.Core.Registry;
using Portal.Core.Schools;
using Portal.Core.Security;
using Portal.Tests.Data;
using Xunit;
using static Portal.Core.Registry.DistrictImporter;

namespace Portal.Tests.Core.Registry;

/// <summary>Districts and their 110 centres from CSV and XLSX, all-or-nothing, into a fresh SQLite file per test.</summary>
public sealed class DistrictImporterTests : IDisposable
{
    private static readonly Actor Admin = new(new UserScope(1, "admin", Roles.Admin, null, null), "192.0.2.5");

    private readonly SqliteDb _database = new();
    private readonly DistrictRepository _districts;
    private readonly AuditRepository _audit;

    public DistrictImporterTests()
    {
        _districts = new DistrictRepository(_database.Db);
        _audit = new AuditRepository(_database.Db, TimeProvider.System);
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => _database.Dispose();

    private DistrictImporter Importer => new(_database.Db, _districts, _audit);

    private static MemoryStream Csv(params string[][] rows) =>
        new(new UTF8Encoding(false).GetBytes(RegistryFiles.CsvText(rows, Columns)));

    private static readonly string[][] City =
    [
        ["全市", "", "", "青岛市110指挥中心", "Qingdao 110", "30", ""],
        ["370202", "市南区", "Shinan", "市南分局110指挥中心", "Shinan 110", "15", ""],
        ["370203", "市北区", "Shibei", "市北分局110指挥中心", "Shibei 110", "", "370202"],
        ["370211", "黄岛区", "Huangdao", "", "", "", ""],
    ];

    [Fact]
    public async Task ImportAsync_CityFile_CreatesDistrictsCentresAndEscalationThenIsIdempotent()
    {
        var result = await Importer.ImportAsync(Csv(City), "districts.csv", Admin, dryRun: false, Ct);
        Assert.True(result.Succeeded, string.Join("\n", result.Problems));
        Assert.Equal((4, new RegistryImportCounts(3, 0, 0), new RegistryImportCounts(3, 0, 0)), (result.Rows, result.Districts, result.Centres));

        var centres = await _districts.GetCentresAsync(Ct);
        var districts = await _districts.GetAllAsync(Ct);
        var city = centres.Single(c => c.IsCityCentre);
        var shinan = centres.Single(c => c.DistrictId == districts.Single(d => d.Code == "370202").Id);
        var shibei = centres.Single(c => c.DistrictId == districts.Single(d => d.Code == "370203").Id);
        Assert.Equal((30, (int?)null), (city.AnswerDeadlineSeconds, city.EscalatesToCentreId));
        Assert.Equal((15, (int?)null), (shinan.AnswerDeadlineSeconds, shinan.EscalatesToCentreId));
        Assert.Equal((DefaultDistrictDeadline, (int?)shinan.Id), (shibei.AnswerDeadlineSeconds, shibei.EscalatesToCentreId));
        Assert.DoesNotContain(centres, c => c.DistrictId == districts.Single(d => d.Code == "370211").Id);
        Assert.Equal(1, (await _audit.GetPageAsync(new AuditQuery(Action: AuditActions.DistrictsImported), new PageRequest(0, 5), Ct)).Total);

        var again = await Importer.ImportAsync(Csv(City), "districts.csv", Admin, dryRun: false, Ct);
        Assert.Equal((new RegistryImportCounts(0, 0, 3), new RegistryImportCounts(0, 0, 3)), (again.Districts, again.Centres));
    }

    [Fact]
    public async Task ImportAsync_ChangedRows_UpdatesNamesDeadlinesAndTargets()
    {
        Assert.True((await Importer.ImportAsync(Csv(City), "districts.csv", Admin, dryRun: false, Ct)).Succeeded);
        var result = await Importer.ImportAsync(Csv(
            ["370202", "市南区", "Shinan", "市南分局110指挥中心", "Shinan 110", "25", "全市"],
            ["370203", "市北区", "Shibei", "市北分局110指挥中心", "Shibei 110", "", "全市"]), "districts.csv", Admin, dryRun: false, Ct);
        Assert.True(result.Succeeded, string.Join("\n", result.Problems));
        Assert.Equal(new RegistryImportCounts(0, 2, 0), result.Centres);
        var centres = await _districts.GetCentresAsync(Ct);
        Assert.All(centres, c => Assert.Null(c.EscalatesToCentreId));
        Assert.Contains(centres, c => c.AnswerDeadlineSeconds == 25);
    }

    [Fact]
    public async Task ImportAsync_AnyBadRow_NothingWrittenAndEveryProblemListed()
    {
        var result = await Importer.ImportAsync(Csv(
            ["370202", "市南区", "Shinan", "市南分局110指挥中心", "", "15", ""],
            ["370202", "市南区二", "", "", "", "", ""],
            ["3702-03", "", "", "市北分局", "", "3", "999999"],
            ["370211", "市南区", "", "", "", "", ""]), "districts.csv", Admin, dryRun: false, Ct);

        Assert.False(result.Succeeded);
        var codes = result.Problems.Select(p => (p.Line, p.Code)).ToList();
        Assert.Contains((3, "DuplicateDistrictCode"), codes);
        Assert.Contains((4, "DistrictCodeFormat"), codes);
        Assert.Contains((4, "Required"), codes);
        Assert.Contains((4, "DeadlineRange"), codes);
        Assert.Contains((4, "UnknownCentre"), codes);
        Assert.Contains((5, "DuplicateDistrictName"), codes);
        Assert.All(result.Problems, p => Assert.False(string.IsNullOrEmpty(p.Zh) || string.IsNullOrEmpty(p.En)));
        Assert.Empty(await _districts.GetAllAsync(Ct));
        Assert.Empty(await _districts.GetCentresAsync(Ct));
    }

    [Fact]
    public async Task ImportAsync_Xlsx_ReadsTheSameLayout()
    {
        var result = await Importer.ImportAsync(RegistryFiles.Xlsx(Columns, City), "districts.xlsx", Admin, dryRun: true, Ct);
        Assert.True(result.Succeeded, string.Join("\n", result.Problems));
        Assert.Equal(("xlsx", new RegistryImportCounts(3, 0, 0)), (result.Format, result.Districts));
        Assert.Empty(await _districts.GetAllAsync(Ct)); // a dry run writes nothing
    }

    [Fact]
    public async Task ImportAsync_UnknownHeaderOrNotAdmin_Refused()
    {
        var header = await Importer.ImportAsync(new MemoryStream("区市代码,区市名称,校长\n370202,市南区,张三\n"u8.ToArray()), "d.csv", Admin, dryRun: false, Ct);
        Assert.Equal("UnknownHeader", Assert.Single(header.Problems).Code);
        await Assert.ThrowsAsync<ScopeDeniedException>(() => Importer.ImportAsync(Csv(City), "d.csv", new Actor(new UserScope(3, "b", Roles.Bureau, null, null), null), false, Ct));
    }
}
