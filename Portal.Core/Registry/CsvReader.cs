using System.Text;

namespace Portal.Core.Registry;

/// <summary>One record of a sheet: its line as the user sees it (Excel row number; header = 1) and its cells.</summary>
internal sealed record RawRecord(int Line, IReadOnlyList<string> Cells, bool UnterminatedQuote = false);

/// <summary>
/// RFC 4180 CSV: comma-separated fields, fields quoted with '"' may hold commas, line breaks and doubled
/// quotes (""), records end in CRLF, LF or a lone CR (old Mac Excel). It is lenient where Excel is: a quote
/// inside an unquoted field is kept as text, and text after a closing quote is appended to the field.
/// Line numbers count records, so they match Excel's row numbers even when a cell holds a line break.
/// </summary>
internal static class CsvReader
{
    public static List<RawRecord> Read(string text)
    {
        var records = new List<RawRecord>();
        var fields = new List<string>();
        var field = new StringBuilder();
        var position = 0;
        var line = 1;

        // BOM survives some decoders; it is never part of the first header.
        if (text.Length > 0 && text[0] == '\uFEFF')
        {
            position = 1;
        }

        while (position < text.Length)
        {
            var unterminated = false;
            field.Clear();
            if (text[position] == '"')
            {
                position++;
                while (true)
                {
                    if (position >= text.Length)
                    {
                        unterminated = true;
                        break;
                    }

                    var c = text[position++];
                    if (c != '"')
                    {
                        field.Append(c);
                    }
                    else if (position < text.Length && text[position] == '"')
                    {
                        field.Append('"');
                        position++;
                    }
                    else
                    {
                        break;
                    }
                }
            }

            // Unquoted field, or the tail after a closing quote.
            while (position < text.Length && text[position] is not (',' or '\r' or '\n'))
            {
                field.Append(text[position++]);
            }

            fields.Add(field.ToString());
            if (unterminated)
            {
                records.Add(new RawRecord(line, [.. fields], UnterminatedQuote: true));
                return records;
            }

            if (position >= text.Length)
            {
                records.Add(new RawRecord(line, [.. fields]));
                return records;
            }

            var separator = text[position++];
            if (separator == ',')
            {
                // A trailing comma at the very end means one more, empty field.
                if (position >= text.Length)
                {
                    fields.Add(string.Empty);
                    records.Add(new RawRecord(line, [.. fields]));
                    return records;
                }

                continue;
            }

            if (separator == '\r' && position < text.Length && text[position] == '\n')
            {
                position++;
            }

            records.Add(new RawRecord(line, [.. fields]));
            fields.Clear();
            line++;
        }

        // Text ended right after a line break (the usual final newline): no extra empty record.
        return records;
    }
}
