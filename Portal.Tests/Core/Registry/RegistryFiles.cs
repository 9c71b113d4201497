using System.Globalization;
using System.Text;
using DocumentFormat.OpenXml;
using DocumentFormat.OpenXml.Packaging;
using DocumentFormat.OpenXml.Spreadsheet;
using Portal.Core.Registry;

namespace Portal.Tests.Core.Registry;

/// <summary>Builds registry files the way the bureau's exports look, in memory.</summary>
internal static class RegistryFiles
{
    static RegistryFiles() => Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);

    public static Encoding Gbk => Encoding.GetEncoding("GB18030");

    /// <summary>A row like /work/shared/data/registry-sample.csv's row <paramref name="i"/>.</summary>
    public static string[] Row(int i, string district = "市南区", string type = "小学")
    {
        var n = i.ToString("D5", CultureInfo.InvariantCulture);
        var serial = i.ToString("D8", CultureInfo.InvariantCulture);
        return
        [
            (3370000000L + i).ToString(CultureInfo.InvariantCulture), $"青岛市{district}第{i}小学", type, district,
            $"{district}某路{i}号", "120.195321", "36.010281", "校长" + i.ToString(CultureInfo.InvariantCulture), "0532-67078417",
            "AT-200", "ATS" + serial, "terminal-" + n, "PTZ-4K", "CAM" + serial,
            $"rtsp://cam-{n}.school.local:554/Streaming/Channels/101", $"http://cam-{n}.school.local/onvif/device_service",
        ];
    }

    public static string[] With(this string[] row, string column, string value)
    {
        var copy = (string[])row.Clone();
        copy[Index(column)] = value;
        return copy;
    }

    public static int Index(string column)
    {
        var i = RegistryColumns.All.ToList().IndexOf(column);
        return i >= 0 ? i : throw new ArgumentException(column);
    }

    public static string CsvText(IEnumerable<string[]> rows, IReadOnlyList<string>? header = null, string newline = "\r\n")
    {
        var builder = new StringBuilder();
        foreach (var row in new[] { (header ?? RegistryColumns.All).ToArray() }.Concat(rows))
        {
            builder.Append(string.Join(',', row.Select(Quote))).Append(newline);
        }

        return builder.ToString();
    }

    public static MemoryStream Csv(IEnumerable<string[]> rows, Encoding? encoding = null, bool bom = false)
    {
        var bytes = (encoding ?? new UTF8Encoding(false)).GetBytes(CsvText(rows));
        return new MemoryStream(bom ? [0xEF, 0xBB, 0xBF, .. bytes] : bytes);
    }

    public static MemoryStream Bytes(string text) => new(Encoding.UTF8.GetBytes(text));

    /// <summary>An XLSX whose <paramref name="numericColumns"/> are numeric cells; other cells alternate shared and inline strings.</summary>
    public static MemoryStream Xlsx(IEnumerable<string[]> rows, params string[] numericColumns) =>
        Xlsx(RegistryColumns.All, rows, numericColumns.Select(Index).ToHashSet());

    /// <summary>An XLSX of another layout (the district import's), every cell a string.</summary>
    public static MemoryStream Xlsx(IReadOnlyList<string> header, IEnumerable<string[]> rows) => Xlsx(header, rows, []);

    private static MemoryStream Xlsx(IReadOnlyList<string> header, IEnumerable<string[]> rows, HashSet<int> numeric)
    {
        var stream = new MemoryStream();
        using (var document = SpreadsheetDocument.Create(stream, SpreadsheetDocumentType.Workbook))
        {
            var workbook = document.AddWorkbookPart();
            workbook.Workbook = new Workbook();
            var sharedPart = workbook.AddNewPart<SharedStringTablePart>();
            sharedPart.SharedStringTable = new SharedStringTable();
            var sheetPart = workbook.AddNewPart<WorksheetPart>();
            var data = new SheetData();
            uint line = 1;
            foreach (var values in new[] { header.ToArray() }.Concat(rows))
            {
                var row = new Row { RowIndex = line };
                for (var c = 0; c < values.Length; c++)
                {
                    var reference = $"{(char)('A' + c)}{line}";
                    if (line > 1 && numeric.Contains(c) && values[c].Length > 0)
                    {
                        row.Append(new Cell { CellReference = reference, CellValue = new CellValue(values[c]) });
                    }
                    else if (c % 2 == 0)
                    {
                        sharedPart.SharedStringTable.Append(new SharedStringItem(new Text(values[c])));
                        var index = sharedPart.SharedStringTable.ChildElements.Count - 1;
                        row.Append(new Cell
                        {
                            CellReference = reference,
                            DataType = CellValues.SharedString,
                            CellValue = new CellValue(index.ToString(CultureInfo.InvariantCulture)),
                        });
                    }
                    else
                    {
                        row.Append(new Cell
                        {
                            CellReference = reference,
                            DataType = CellValues.InlineString,
                            InlineString = new InlineString(new Text(values[c])),
                        });
                    }
                }

                data.Append(row);
                line++;
            }

            sheetPart.Worksheet = new Worksheet(data);
            var sheets = workbook.Workbook.AppendChild(new Sheets());
            sheets.Append(new Sheet { Id = workbook.GetIdOfPart(sheetPart), SheetId = 1, Name = "学校" });
        }

        stream.Position = 0;
        return stream;
    }

    private static string Quote(string value) =>
        value.AsSpan().IndexOfAny(",\"\r\n") >= 0 ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : value;
}
