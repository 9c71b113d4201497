using System.Diagnostics;
using System.Globalization;
using DocumentFormat.OpenXml.Packaging;
using DocumentFormat.OpenXml.Spreadsheet;
using Portal.Core.Data;
using Portal.Core.Installation;
using Portal.Core.Schools;
using Xunit;

namespace Portal.Tests.Core.Installation;

/// <summary>The report files read back: the xlsx with OpenXml against database counts, the PDF with poppler.</summary>
public sealed class CompletionReportTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task GenerateAsync_CityXlsx_FiguresMatchDatabaseCounts()
    {
        await using var city = new InstallationCity();
        var result = await city.Reports.GenerateAsync(InstallationCity.CityBureau, null, ReportFormat.Xlsx, Ct);
        Assert.True(result.Succeeded, result.Error);
        var (_, path) = (await city.Reports.OpenAsync(InstallationCity.CityBureau, result.Id, Ct))!.Value;
        await ReportFiles.AssertXlsxMatchesDatabaseAsync(path, city.Database.Db);
    }

    [Fact]
    public async Task GenerateAsync_CityPdf_TextHasChineseNamesAndTotalsAndPagesRender()
    {
        await using var city = new InstallationCity();
        var result = await city.Reports.GenerateAsync(InstallationCity.CityBureau, null, ReportFormat.Pdf, Ct);
        Assert.True(result.Succeeded, result.Error);
        var (_, path) = (await city.Reports.OpenAsync(InstallationCity.CityBureau, result.Id, Ct))!.Value;
        await ReportFiles.AssertPdfMatchesDatabaseAsync(path, city.Database.Db);
    }

    [Fact]
    public async Task GenerateAsync_DistrictBureauAskingCityOrOtherDistrict_RefusedAndNothingKept()
    {
        await using var city = new InstallationCity();
        var districts = (await city.Queries.GetSnapshotAsync(InstallationCity.CityBureau, ct: Ct)).ByDistrict;
        var officer = InstallationCity.DistrictBureau(districts[0].Key);
        Assert.Equal(InstallationErrors.OutOfScope, (await city.Reports.GenerateAsync(officer, null, ReportFormat.Pdf, Ct)).Error);
        Assert.Equal(InstallationErrors.OutOfScope, (await city.Reports.GenerateAsync(officer, districts[1].Key, ReportFormat.Xlsx, Ct)).Error);
        Assert.Equal(0, await city.CountAsync("SELECT COUNT(*) FROM CompletionReport"));
        Assert.False(Directory.Exists(Path.Combine(city.FilesRoot, "reports")));

        var own = await city.Reports.GenerateAsync(officer, districts[0].Key, ReportFormat.Xlsx, Ct);
        Assert.True(own.Succeeded);
        var cityReport = await city.Reports.GenerateAsync(InstallationCity.CityBureau, null, ReportFormat.Xlsx, Ct);
        Assert.Null(await city.Reports.OpenAsync(officer, cityReport.Id, Ct));
        Assert.Equal([own.Id], (await city.Reports.GetHistoryAsync(officer, Ct)).Select(r => r.Id));
    }

    [Fact]
    public async Task WeeklyJob_RunTwice_WritesEachReportOnce()
    {
        await using var city = new InstallationCity();
        var job = new WeeklyCompletionReportJob(city.Reports, new DistrictRepository(city.Database.Db), city.Time);
        Assert.Equal(22, await job.RunAsync(CancellationToken.None)); // the city and ten districts, xlsx and PDF each
        Assert.Equal(0, await job.RunAsync(CancellationToken.None));
        Assert.Equal(22, await city.CountAsync("SELECT COUNT(*) FROM CompletionReport WHERE Origin = 1"));
    }

    /// <summary>Issue #14: one report that fails (injected: the database refuses its history row) no longer stops the rest.</summary>
    [Fact]
    public async Task WeeklyJob_OneReportFails_OthersAreWrittenAndARetryFillsTheGap()
    {
        await using var city = new InstallationCity();
        var laoshan = await city.CountAsync("SELECT Id FROM District WHERE Code = '370212'");
        await city.CountAsync($"CREATE TRIGGER InjectedFailure BEFORE INSERT ON CompletionReport WHEN NEW.DistrictId = {laoshan} BEGIN SELECT RAISE(ABORT, 'injected failure'); END;");
        var job = new WeeklyCompletionReportJob(city.Reports, new DistrictRepository(city.Database.Db), city.Time);

        var failed = await Assert.ThrowsAsync<AggregateException>(() => job.RunAsync(CancellationToken.None));
        Assert.Equal(2, failed.InnerExceptions.Count); // Laoshan's xlsx and PDF
        Assert.Equal(20, await city.CountAsync("SELECT COUNT(*) FROM CompletionReport WHERE Origin = 1"));

        await city.CountAsync("DROP TRIGGER InjectedFailure");
        Assert.Equal(2, await job.RunAsync(CancellationToken.None));
        Assert.Equal(22, await city.CountAsync("SELECT COUNT(*) FROM CompletionReport WHERE Origin = 1"));
    }
}

/// <summary>Reads generated reports back; shared by the Core tests and the browser download test.</summary>
public static class ReportFiles
{
    public static async Task AssertXlsxMatchesDatabaseAsync(string path, Db db)
    {
        await using var connection = db.Open();
        async Task<int> Count(string sql) => await Dapper.SqlMapper.ExecuteScalarAsync<int>(connection, sql);
        using var document = SpreadsheetDocument.Open(path, false);
        var summary = Sheet(document, CompletionReportXlsx.SummarySheet);

        // Row 3: 学校总数 n 已完成 n 完成率 p 逾期 n
        Assert.Equal(await Count("SELECT COUNT(*) FROM School"), (int)Number(summary, "B3"));
        var done = await Count("SELECT COUNT(*) FROM InstallationStep WHERE Step = 5");
        Assert.Equal(done, (int)Number(summary, "D3"));

        // The district table: one row per district, then the total; schools and done per district match the database.
        var districts = (await Dapper.SqlMapper.QueryAsync<(string Name, int Schools, int Done)>(connection, """
            SELECT d.Name, (SELECT COUNT(*) FROM School s WHERE s.DistrictId = d.Id),
                   (SELECT COUNT(*) FROM InstallationStep st JOIN School s ON s.Id = st.SchoolId WHERE s.DistrictId = d.Id AND st.Step = 5)
            FROM District d ORDER BY d.Code
            """)).ToList();
        var row = CompletionReportXlsx.SummaryHeaderRow + 1;
        foreach (var (name, schools, districtDone) in districts)
        {
            Assert.Equal(name, Text(summary, $"A{row}"));
            Assert.Equal(schools, (int)Number(summary, $"B{row}"));
            Assert.Equal(districtDone, (int)Number(summary, $"H{row}"));
            Assert.Equal(Math.Round(100.0 * districtDone / schools, 1), Number(summary, $"I{row}"));
            row++;
        }

        Assert.Equal("合计", Text(summary, $"A{row}"));

        // The unfinished list: every school not signed off, each with what it lacks.
        var unfinished = Sheet(document, CompletionReportXlsx.UnfinishedSheet).Descendants<Row>().Skip(1).ToList();
        Assert.Equal(await Count("SELECT COUNT(*) FROM School") - done, unfinished.Count);
        Assert.All(unfinished, r => Assert.Contains("教育局确认", r.Elements<Cell>().ElementAt(5).InnerText, StringComparison.Ordinal));
    }

    public static async Task AssertPdfMatchesDatabaseAsync(string path, Db db)
    {
        await using var connection = db.Open();
        var schools = await Dapper.SqlMapper.ExecuteScalarAsync<int>(connection, "SELECT COUNT(*) FROM School");
        var done = await Dapper.SqlMapper.ExecuteScalarAsync<int>(connection, "SELECT COUNT(*) FROM InstallationStep WHERE Step = 5");
        var unfinishedName = await Dapper.SqlMapper.ExecuteScalarAsync<string>(connection,
            "SELECT s.Name FROM School s WHERE NOT EXISTS (SELECT 1 FROM InstallationStep st WHERE st.SchoolId = s.Id AND st.Step = 5) ORDER BY s.Id LIMIT 1");

        var text = Run("pdftotext", "-layout", path, "-");
        Assert.Contains("安装完成情况报告", text, StringComparison.Ordinal);
        Assert.Contains("学校总数 " + schools.ToString(CultureInfo.InvariantCulture), text, StringComparison.Ordinal);
        Assert.Contains("已完成 " + done.ToString(CultureInfo.InvariantCulture), text, StringComparison.Ordinal);
        Assert.Contains("市南区", text, StringComparison.Ordinal);
        Assert.Contains(unfinishedName!, text, StringComparison.Ordinal);

        // Rendered to an image, the first page has ink on it (the glyphs really are in the embedded font).
        var prefix = Path.Combine(Path.GetTempPath(), "report-" + Guid.NewGuid().ToString("N"));
        Run("pdftoppm", "-png", "-r", "40", "-f", "1", "-l", "1", path, prefix);
        var image = Directory.GetFiles(Path.GetDirectoryName(prefix)!, Path.GetFileName(prefix) + "*.png").Single();
        try
        {
            Assert.True(new FileInfo(image).Length > 5_000, "the rendered page is nearly empty");
        }
        finally
        {
            File.Delete(image);
        }
    }

    private static Worksheet Sheet(SpreadsheetDocument document, string name)
    {
        var sheet = document.WorkbookPart!.Workbook.Descendants<Sheet>().Single(s => s.Name == name);
        return ((WorksheetPart)document.WorkbookPart.GetPartById(sheet.Id!)).Worksheet;
    }

    private static Cell Cell(Worksheet sheet, string reference) => sheet.Descendants<Cell>().Single(c => c.CellReference == reference);

    private static double Number(Worksheet sheet, string reference) => double.Parse(Cell(sheet, reference).CellValue!.Text, CultureInfo.InvariantCulture);

    private static string Text(Worksheet sheet, string reference) => Cell(sheet, reference).InnerText;

    private static string Run(string file, params string[] args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"{file} failed: {error}");
        return output;
    }
}
