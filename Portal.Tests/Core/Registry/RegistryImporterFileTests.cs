using System.Text;
using Microsoft.Extensions.Time.Testing;
using Portal.Core.Demo;
using Portal.Core.Devices;
using Portal.Core.Registry;
using Portal.Core.Schools;
using Portal.Core.Security;
using Portal.Tests.Data;
using Xunit;
using static Portal.Core.Registry.RegistryColumns;
using static Portal.Tests.Core.Registry.RegistryFiles;

namespace Portal.Tests.Core.Registry;

/// <summary>What the bureau's files look like in practice: encodings, Excel quirks, XLSX, wrong files, scope.</summary>
public sealed class RegistryImporterFileTests : IAsyncLifetime
{
    private readonly SqliteDb _database = new();
    private readonly Dictionary<string, int> _districts = new(StringComparer.Ordinal);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        var repository = new DistrictRepository(_database.Db);
        foreach (var (code, name, nameEn) in DemoCity.Districts)
        {
            _districts[name] = await repository.CreateAsync(new District(0, code, name, nameEn), Ct);
        }
    }

    public ValueTask DisposeAsync()
    {
        _database.Dispose();
        return ValueTask.CompletedTask;
    }

    private Task<RegistryImportResult> ImportAsync(Stream file, string name = "registry.csv", UserScope? scope = null, RegistryImportLimits? limits = null) =>
        new RegistryImporter(_database.Db, new FakeTimeProvider()) { Limits = limits ?? RegistryImportLimits.Default }
            .ImportAsync(file, name, scope ?? UserScope.System, false, Ct);

    private Task<School?> SchoolAsync(string code) => new SchoolRepository(_database.Db).GetByCodeAsync(code, Ct);

    [Fact]
    public async Task ImportAsync_GbkCsv_DecodesChinese()
    {
        var result = await ImportAsync(Csv([Row(0, "胶州市", "九年一贯制学校")], Gbk));

        Assert.True(result.Succeeded, string.Join("\n", result.Problems));
        Assert.Equal("gb18030", result.Encoding);
        var school = await SchoolAsync("3370000000");
        Assert.Equal(("青岛市胶州市第0小学", SchoolType.NineYear, _districts["胶州市"]), (school!.Name, school.SchoolType, school.DistrictId));
    }

    [Fact]
    public async Task ImportAsync_Utf8BomCsv_ReadsFirstHeader()
    {
        var result = await ImportAsync(Csv([Row(0)], bom: true));

        Assert.True(result.Succeeded, string.Join("\n", result.Problems));
        Assert.Equal("utf-8-bom", result.Encoding);
    }

    [Fact]
    public async Task ImportAsync_QuotedCommasQuotesAndNewlines_KeepsTextAndExcelLineNumbers()
    {
        var rows = new[]
        {
            Row(0).With(Address, "市南区香港中路1号,A座\"东门\""),
            Row(1).With(SchoolName, "青岛市\n第一小学"),
            Row(2).With(DistrictName, "月球区"),
        };

        var result = await ImportAsync(Bytes(CsvText(rows, newline: "\n")));

        Assert.Equal([(4, DistrictName)], result.Problems.Select(p => (p.Line, p.Column!)));
        rows[2] = Row(2);
        Assert.True((await ImportAsync(Bytes(CsvText(rows)))).Succeeded);
        Assert.Equal("市南区香港中路1号,A座\"东门\"", (await SchoolAsync("3370000000"))!.Address);
        Assert.Equal("青岛市 第一小学", (await SchoolAsync("3370000001"))!.Name);
    }

    [Fact]
    public async Task ImportAsync_FullWidthAndStraySpaces_AreNormalised()
    {
        var row = Row(0)
            .With(SchoolCode, " ３３７００００００７\u00A0")
            .With(SchoolName, "\u3000青岛市实验小学（西校区）  ")
            .With(Longitude, "１２０．１９５３２１")
            .With(Phone, "０５３２－６７０７８４１７")
            .With(TerminalSerial, "ＡＴＳ ０００７")
            .With(DistrictName, " 市南区 ");

        var result = await ImportAsync(Csv([row]));

        Assert.True(result.Succeeded, string.Join("\n", result.Problems));
        var school = await SchoolAsync("3370000007");
        Assert.Equal(("青岛市实验小学（西校区）", 120.195321, "0532-67078417"), (school!.Name, school.Longitude!.Value, school.Phone));
        Assert.NotNull(await new DeviceRepository(_database.Db).GetBySerialNumberAsync("ATS0007", Ct));
    }

    [Fact]
    public async Task ImportAsync_TrailingEmptyRowsAndColumns_AreIgnored()
    {
        var header = RegistryColumns.All.Concat(["", ""]).ToArray();
        var text = CsvText([[.. Row(0), "", ""], ["", "", ""], [.. Row(1), ""]], header) + ",,,,\r\n\r\n";

        var result = await ImportAsync(Bytes(text));

        Assert.True(result.Succeeded, string.Join("\n", result.Problems));
        Assert.Equal(2, result.Rows);
    }

    [Fact]
    public async Task ImportAsync_XlsxWithNumericCells_Imports()
    {
        var rows = new[] { Row(0).With(Phone, "13800138000"), Row(1, "崂山区", "幼儿园") };

        var result = await ImportAsync(Xlsx(rows, SchoolCode, Longitude, Latitude, Phone), "学校.xlsx");

        Assert.True(result.Succeeded, string.Join("\n", result.Problems));
        Assert.Equal(("xlsx", 2), (result.Format, result.Rows));
        var school = await SchoolAsync("3370000000");
        Assert.Equal(("13800138000", 120.195321, 36.010281), (school!.Phone, school.Longitude!.Value, school.Latitude!.Value));
        Assert.Equal(SchoolType.Kindergarten, (await SchoolAsync("3370000001"))!.SchoolType);
    }

    [Fact]
    public async Task ImportAsync_XlsxSerialStoredAsLongNumber_ReportsPrecisionLost()
    {
        var rows = new[] { Row(0).With(CameraSerial, "123456789012345678") };

        var result = await ImportAsync(Xlsx(rows, CameraSerial), "学校.xlsx");

        Assert.Equal([(2, CameraSerial, RegistryProblemCodes.PrecisionLost)], result.Problems.Select(p => (p.Line, p.Column, p.Code)));
    }

    [Fact]
    public async Task ImportAsync_HeadersWrong_ReportsEachOnLineOne()
    {
        var header = RegistryColumns.All.Where(h => h != Phone).Select(h => h == Address ? "详细地址" : h).Append(SchoolName).ToArray();

        var result = await ImportAsync(Bytes(CsvText([], header)));

        Assert.Equal(
            [(RegistryProblemCodes.DuplicateHeader, SchoolName), (RegistryProblemCodes.MissingHeader, Address), (RegistryProblemCodes.MissingHeader, Phone), (RegistryProblemCodes.UnknownHeader, "详细地址")],
            result.Problems.Select(p => (p.Code, p.Column!)).Order().ToArray());
        Assert.All(result.Problems, p => Assert.Equal(1, p.Line));
    }

    [Theory]
    [InlineData("")]
    [InlineData("\uFEFF")]
    [InlineData("\r\n\r\n")]
    public async Task ImportAsync_EmptyFile_ReportsEmptyFile(string text)
    {
        var result = await ImportAsync(Bytes(text));

        Assert.Equal([RegistryProblemCodes.EmptyFile], result.Problems.Select(p => p.Code));
    }

    [Fact]
    public async Task ImportAsync_HeaderOnly_ReportsNoDataRows()
    {
        var result = await ImportAsync(Bytes(CsvText([])));

        Assert.Equal([RegistryProblemCodes.NoDataRows], result.Problems.Select(p => p.Code));
    }

    [Fact]
    public async Task ImportAsync_MoreRowsThanLimit_ReportsTooManyRows()
    {
        var result = await ImportAsync(Csv([Row(0), Row(1), Row(2)]), limits: new RegistryImportLimits(MaxRows: 2));

        Assert.Equal([RegistryProblemCodes.TooManyRows], result.Problems.Select(p => p.Code));
    }

    [Fact]
    public async Task ImportAsync_FileOverSizeLimit_ReportsFileTooLarge()
    {
        var result = await ImportAsync(Csv([Row(0), Row(1)]), limits: new RegistryImportLimits(MaxBytes: 300));

        Assert.Equal([RegistryProblemCodes.FileTooLarge], result.Problems.Select(p => p.Code));
    }

    [Theory]
    [InlineData("png", RegistryProblemCodes.NotSpreadsheet)]
    [InlineData("doc", RegistryProblemCodes.UnsupportedFormat)]
    [InlineData("zip", RegistryProblemCodes.NotSpreadsheet)]
    public async Task ImportAsync_NotCsvOrXlsx_IsRefused(string kind, string code)
    {
        byte[] bytes = kind switch
        {
            "png" => [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D, (byte)'I', (byte)'H', (byte)'D', (byte)'R'],
            "doc" => [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, 0, 0, 0, 0],
            _ => ZipWithoutWorkbook(),
        };

        var result = await ImportAsync(new MemoryStream(bytes), "registry.xlsx");

        Assert.Equal([code], result.Problems.Select(p => p.Code));
    }

    [Fact]
    public async Task ImportAsync_UnclosedQuote_ReportsLine()
    {
        var text = CsvText([Row(0)]) + "\"3370000001,青岛市";

        var result = await ImportAsync(Bytes(text));

        Assert.Contains(result.Problems, p => (p.Line, p.Code) == (3, RegistryProblemCodes.UnterminatedQuote));
    }

    [Theory]
    [InlineData(Roles.Principal)]
    [InlineData(Roles.DistrictOperator)]
    [InlineData(Roles.CityOperator)]
    public async Task ImportAsync_RoleOtherThanAdminOrBureau_Throws(string role)
    {
        var scope = new UserScope(7, "someone", role, role == Roles.CityOperator ? null : 1, role == Roles.Principal ? 1 : null);

        await Assert.ThrowsAsync<ScopeDeniedException>(() => ImportAsync(Csv([Row(0)]), scope: scope));
    }

    [Fact]
    public async Task ImportAsync_DistrictBureauWithOtherDistrictsRow_RefusesThatRow()
    {
        var scope = new UserScope(7, "shinan-bureau", Roles.Bureau, _districts["市南区"], null);
        var rows = new[] { Row(0, "市南区"), Row(1, "崂山区") };

        var refused = await ImportAsync(Csv(rows), scope: scope);
        var accepted = await ImportAsync(Csv(rows.Take(1)), scope: scope);

        Assert.Equal([(3, DistrictName, RegistryProblemCodes.OutOfScope)], refused.Problems.Select(p => (p.Line, p.Column, p.Code)));
        Assert.True(accepted.Succeeded);
    }

    [Fact]
    public async Task ImportAsync_CityBureau_ImportsEveryDistrict()
    {
        var scope = new UserScope(7, "city-bureau", Roles.Bureau, null, null);

        var result = await ImportAsync(Csv([Row(0, "市南区"), Row(1, "崂山区")]), scope: scope);

        Assert.True(result.Succeeded);
    }

    private static byte[] ZipWithoutWorkbook()
    {
        using var stream = new MemoryStream();
        using (var zip = new System.IO.Compression.ZipArchive(stream, System.IO.Compression.ZipArchiveMode.Create, leaveOpen: true))
        {
            using var entry = new StreamWriter(zip.CreateEntry("readme.txt").Open(), Encoding.UTF8);
            entry.Write("not a workbook");
        }

        return stream.ToArray();
    }

    /// <summary>Issue #14: an XLSX whose shared strings unpack far past the part limit (a zip bomb) is refused, not inflated.</summary>
    [Fact]
    public void XlsxReader_PartLargerThanTheLimit_IsRefusedAsTooLarge()
    {
        using var file = RegistryFiles.Xlsx([RegistryFiles.Row(0).With(RegistryColumns.SchoolName, new string('校', 200_000))]);
        var small = RegistryImportLimits.Default with { MaxPartBytes = 100_000 };
        Assert.Null(XlsxReader.Read(file, 10, small, out var tooLarge));
        Assert.True(tooLarge);

        file.Position = 0;
        Assert.NotNull(XlsxReader.Read(file, 10, RegistryImportLimits.Default, out tooLarge));
        Assert.False(tooLarge);
    }
}
