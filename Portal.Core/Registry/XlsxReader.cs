using System.Globalization;
using DocumentFormat.OpenXml;
using DocumentFormat.OpenXml.Packaging;
using DocumentFormat.OpenXml.Spreadsheet;

namespace Portal.Core.Registry;

/// <summary>
/// Reads the first worksheet of an XLSX into records, streaming the rows (OpenXmlReader) so a large
/// sheet is never held as a DOM. Cells come back as text: shared and inline strings as written, numbers
/// through <see cref="CellText.FromNumber"/> (school codes and phones often arrive as numeric cells).
/// </summary>
internal static class XlsxReader
{
    /// <summary>Excel's own limit (XFD); a reference beyond it is damage, not data.</summary>
    private const int MaxColumns = 16384;

    /// <summary>Returns null when the package is not a workbook with a worksheet (a .docx, a damaged file).</summary>
    /// <param name="stream">The package, seekable.</param>
    /// <param name="maxRecords">Stop after this many records; the caller reports "too many rows".</param>
    public static List<RawRecord>? Read(Stream stream, int maxRecords)
    {
        try
        {
            using var document = SpreadsheetDocument.Open(stream, false);
            var workbookPart = document.WorkbookPart;
            var worksheetPart = workbookPart?.Workbook?.Sheets?.Elements<Sheet>()
                .Select(s => s.Id?.Value is { } id ? workbookPart.GetPartById(id) as WorksheetPart : null)
                .FirstOrDefault(p => p is not null);
            if (workbookPart is null || worksheetPart is null)
            {
                return null;
            }

            var shared = workbookPart.SharedStringTablePart?.SharedStringTable?.Elements<SharedStringItem>()
                .Select(ItemText).ToArray() ?? [];
            return ReadRows(worksheetPart, shared, maxRecords);
        }
        catch (Exception e) when (e is OpenXmlPackageException or InvalidDataException or FileFormatException
            or InvalidOperationException or System.Xml.XmlException or ArgumentException)
        {
            return null;
        }
    }

    private static List<RawRecord> ReadRows(WorksheetPart part, string[] shared, int maxRecords)
    {
        var records = new List<RawRecord>();
        using var reader = OpenXmlReader.Create(part);
        var lastRow = 0;
        while (reader.Read())
        {
            if (reader.ElementType != typeof(Row) || !reader.IsStartElement)
            {
                continue;
            }

            var row = (Row)reader.LoadCurrentElement()!;
            var line = row.RowIndex?.Value is { } index ? (int)index : lastRow + 1;
            lastRow = line;
            var cells = new List<string>();
            foreach (var cell in row.Elements<Cell>())
            {
                var column = cell.CellReference?.Value is { } reference ? ColumnIndex(reference) : cells.Count;
                if (column >= MaxColumns)
                {
                    continue;
                }

                while (cells.Count < column)
                {
                    cells.Add(string.Empty);
                }

                var text = CellValue(cell, shared);
                if (column < cells.Count)
                {
                    cells[column] = text;
                }
                else
                {
                    cells.Add(text);
                }
            }

            // Rows Excel keeps only for formatting carry no values; they are blank lines, not records, and
            // must not use up the row limit before the data is reached.
            if (cells.TrueForAll(string.IsNullOrWhiteSpace))
            {
                continue;
            }

            records.Add(new RawRecord(line, cells));
            if (records.Count >= maxRecords)
            {
                break;
            }
        }

        return records;
    }

    private static string CellValue(Cell cell, string[] shared)
    {
        var type = cell.DataType?.Value;
        if (type == CellValues.InlineString)
        {
            return cell.InlineString is { } inline ? InlineText(inline) : string.Empty;
        }

        var raw = cell.CellValue?.Text ?? string.Empty;
        if (type is null || type == CellValues.Number)
        {
            return CellText.FromNumber(raw);
        }

        if (type == CellValues.SharedString)
        {
            return int.TryParse(raw, NumberStyles.None, CultureInfo.InvariantCulture, out var i) && i < shared.Length ? shared[i] : string.Empty;
        }

        if (type == CellValues.Boolean)
        {
            return raw == "1" ? "TRUE" : "FALSE";
        }

        return raw;
    }

    // Rich text keeps its characters in runs; phonetic guides (rPh) are not part of the value.
    private static string ItemText(SharedStringItem item) =>
        item.Text?.Text ?? string.Concat(item.Elements<Run>().Select(r => r.Text?.Text));

    private static string InlineText(InlineString inline) =>
        inline.Text?.Text ?? string.Concat(inline.Elements<Run>().Select(r => r.Text?.Text));

    /// <summary>"C7" → 2; "AB12" → 27.</summary>
    internal static int ColumnIndex(string reference)
    {
        var index = 0;
        foreach (var c in reference)
        {
            if (!char.IsAsciiLetter(c))
            {
                break;
            }

            index = (index * 26) + (char.ToUpperInvariant(c) - 'A' + 1);
        }

        return Math.Max(0, index - 1);
    }
}
