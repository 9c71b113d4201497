using System.Diagnostics;
using System.Globalization;
using System.Text;
using DocumentFormat.OpenXml;
using DocumentFormat.OpenXml.Packaging;
using DocumentFormat.OpenXml.Spreadsheet;
using Portal.Core.Data;
using Portal.Core.Demo;
using Portal.Core.Registry;
using Portal.Core.Schools;
using Portal.Core.Security;

namespace Portal.Benchmarks;

/// <summary>
/// The bureau's registry import at city scale: 4,000 schools with a terminal and a camera each, as CSV and
/// as XLSX, into a fresh SQLite file; then the same file again, which must change nothing.
/// </summary>
internal static class ImportBenchmark
{
    private const int Schools = 4000;

    private static readonly string[] Types = ["幼儿园", "小学", "初中", "九年一贯制学校", "高中"];

    public static async Task<int> RunAsync()
    {
        var folder = Directory.CreateTempSubdirectory("portal-import-bench-");
        try
        {
            var rows = Enumerable.Range(0, Schools).Select(MakeRow).ToList();
            var csv = Path.Combine(folder.FullName, "registry.csv");
            var xlsx = Path.Combine(folder.FullName, "registry.xlsx");
            await File.WriteAllTextAsync(csv, CsvText(rows), new UTF8Encoding(true)).ConfigureAwait(false);
            WriteXlsx(xlsx, rows);
            Console.WriteLine($"import: {Schools:N0} schools, {Schools * 2:N0} devices; csv {new FileInfo(csv).Length / 1024:N0} KiB, xlsx {new FileInfo(xlsx).Length / 1024:N0} KiB");

            var failed = false;
            foreach (var file in new[] { csv, xlsx })
            {
                var db = await FreshDatabaseAsync(Path.Combine(folder.FullName, Path.GetFileNameWithoutExtension(file) + "-" + Path.GetExtension(file).TrimStart('.') + ".db")).ConfigureAwait(false);
                var importer = new RegistryImporter(db, TimeProvider.System);
                failed |= !await RunOnceAsync(importer, file, "first import").ConfigureAwait(false);
                failed |= !await RunOnceAsync(importer, file, "re-import").ConfigureAwait(false);
            }

            return failed ? 1 : 0;
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            folder.Delete(recursive: true);
        }
    }

    private static async Task<bool> RunOnceAsync(RegistryImporter importer, string file, string label)
    {
        var watch = Stopwatch.StartNew();
        await using var stream = File.OpenRead(file);
        var result = await importer.ImportAsync(stream, Path.GetFileName(file), UserScope.System, dryRun: false, CancellationToken.None).ConfigureAwait(false);
        watch.Stop();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  {Path.GetExtension(file),-5} {label,-12} {watch.Elapsed.TotalMilliseconds,8:F0} ms  schools {Counts(result.Schools)}  devices {Counts(result.Devices)}  problems {result.Problems.Count}"));
        foreach (var problem in result.Problems.Take(5))
        {
            Console.WriteLine($"    line {problem.Line} {problem.Column}: {problem.Code} {problem.En}");
        }

        return result.Succeeded;
    }

    private static string Counts(RegistryImportCounts c) =>
        string.Create(CultureInfo.InvariantCulture, $"+{c.Created} ~{c.Updated} ={c.Unchanged}");

    private static async Task<Db> FreshDatabaseAsync(string path)
    {
        var db = new Db(Db.SqliteConnectionString(path), SqlDialect.Sqlite);
        DbMigrator.Migrate(db);
        var districts = new DistrictRepository(db);
        foreach (var (code, name, nameEn) in DemoCity.Districts)
        {
            await districts.CreateAsync(new District(0, code, name, nameEn)).ConfigureAwait(false);
        }

        return db;
    }

    private static string[] MakeRow(int i)
    {
        var district = DemoCity.Districts[i % DemoCity.Districts.Count].Name;
        var n = i.ToString("D5", CultureInfo.InvariantCulture);
        var serial = i.ToString("D8", CultureInfo.InvariantCulture);
        var random = new Random(i);
        return
        [
            (3370000000L + i).ToString(CultureInfo.InvariantCulture), $"青岛市{district}第{i}学校", Types[i % Types.Length], district,
            $"{district}某路{i % 300}号",
            Math.Round(120.0 + random.NextDouble() * 0.9, 6).ToString(CultureInfo.InvariantCulture),
            Math.Round(35.8 + random.NextDouble() * 0.85, 6).ToString(CultureInfo.InvariantCulture),
            "校长" + i.ToString(CultureInfo.InvariantCulture), "0532-" + random.Next(10000000, 99999999).ToString(CultureInfo.InvariantCulture),
            "AT-200", "ATS" + serial, "terminal-" + n, "PTZ-4K", "CAM" + serial,
            $"rtsp://cam-{n}.school.local:554/Streaming/Channels/101", $"http://cam-{n}.school.local/onvif/device_service",
        ];
    }

    private static string CsvText(List<string[]> rows)
    {
        var builder = new StringBuilder();
        builder.AppendJoin(',', RegistryColumns.All).Append("\r\n");
        foreach (var row in rows)
        {
            builder.AppendJoin(',', row).Append("\r\n");
        }

        return builder.ToString();
    }

    /// <summary>Codes and coordinates as numeric cells, the rest as inline strings, streamed out with OpenXmlWriter.</summary>
    private static void WriteXlsx(string path, List<string[]> rows)
    {
        var numeric = new[] { RegistryColumns.SchoolCode, RegistryColumns.Longitude, RegistryColumns.Latitude }
            .Select(h => RegistryColumns.All.ToList().IndexOf(h)).ToHashSet();
        using var document = SpreadsheetDocument.Create(path, SpreadsheetDocumentType.Workbook);
        var workbook = document.AddWorkbookPart();
        workbook.Workbook = new Workbook();
        var sheetPart = workbook.AddNewPart<WorksheetPart>();
        using (var writer = OpenXmlWriter.Create(sheetPart))
        {
            writer.WriteStartElement(new Worksheet());
            writer.WriteStartElement(new SheetData());
            var all = new[] { RegistryColumns.All.ToArray() }.Concat(rows);
            foreach (var values in all)
            {
                writer.WriteStartElement(new Row());
                for (var c = 0; c < values.Length; c++)
                {
                    var cell = numeric.Contains(c) && values[c][0] is >= '0' and <= '9'
                        ? new Cell { CellValue = new CellValue(values[c]) }
                        : new Cell { DataType = CellValues.InlineString, InlineString = new InlineString(new Text(values[c])) };
                    writer.WriteElement(cell);
                }

                writer.WriteEndElement();
            }

            writer.WriteEndElement();
            writer.WriteEndElement();
        }

        workbook.Workbook.AppendChild(new Sheets(new Sheet { Id = workbook.GetIdOfPart(sheetPart), SheetId = 1, Name = "学校" }));
        workbook.Workbook.Save();
    }
}
