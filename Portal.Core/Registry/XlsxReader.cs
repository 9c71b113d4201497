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

    /// <summary>Most parts a workbook may have (a real registry export has a dozen).</summary>
    private const int MaxParts = 1000;

    /// <summary>Returns null when the package is not a workbook with a worksheet (a .docx, a damaged file).</summary>
    /// <param name="stream">The package, seekable.</param>
    /// <param name="maxRecords">Stop after this many records; the caller reports "too many rows".</param>
    public static List<RawRecord>? Read(Stream stream, int maxRecords) => Read(stream, maxRecords, RegistryImportLimits.Default, out _);

    /// <summary>
    /// As <see cref="Read(Stream, int)"/>, refusing a package whose parts unpack to more than the limits (issue #14: a
    /// 20 MB upload could unpack to gigabytes). The sizes the package declares are checked first, and the XML reader is
    /// capped as well, so a package that lies about its sizes stops at the cap too.
    /// </summary>
    public static List<RawRecord>? Read(Stream stream, int maxRecords, RegistryImportLimits limits, out bool tooLarge)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(limits);
        tooLarge = false;
        try
        {
            if (!WithinLimits(stream, limits))
            {
                tooLarge = true;
                return null;
            }

            stream.Position = 0;
            using var document = SpreadsheetDocument.Open(stream, false, new OpenSettings { MaxCharactersInPart = limits.MaxPartBytes });
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
        catch (System.Xml.XmlException e) when (e.Message.Contains("MaxCharactersInDocument", StringComparison.Ordinal))
        {
            tooLarge = true; // a part larger than it declared
            return null;
        }
        catch (Exception e) when (e is OpenXmlPackageException or InvalidDataException or FileFormatException
            or InvalidOperationException or System.Xml.XmlException or ArgumentException)
        {
            return null;
        }
    }

    /// <summary>The declared unpacked size of every part, and their sum, within the limits.</summary>
    private static bool WithinLimits(Stream stream, RegistryImportLimits limits)
    {
        using var zip = new System.IO.Compression.ZipArchive(stream, System.IO.Compression.ZipArchiveMode.Read, leaveOpen: true);
        if (zip.Entries.Count > MaxParts)
        {
            return false;
        }

        long total = 0;
        foreach (var entry in zip.Entries)
        {
            total += entry.Length;
            if (entry.Length > limits.MaxPartBytes || total > limits.MaxUnpackedBytes)
            {
                return false;
            }
        }

        return true;
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
