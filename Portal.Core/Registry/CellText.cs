using System.Globalization;
using System.Text;

namespace Portal.Core.Registry;

internal enum CellKind
{
    /// <summary>Names and addresses: fold full-width digits, letters and spaces; keep Chinese punctuation.</summary>
    Text,

    /// <summary>Phone, models, URLs: fold every full-width ASCII form; collapse spaces.</summary>
    Code,

    /// <summary>School code, serials, SIP account, coordinates: fold every full-width form; drop all spaces.</summary>
    Identifier,
}

/// <summary>
/// Cleans what Excel and Chinese input methods put in cells: full-width forms (Ｕ+FF01..FF5E), the
/// ideographic space (U+3000), non-breaking and zero-width spaces, and stray spaces around values.
/// </summary>
internal static class CellText
{
    public static string Normalize(string raw, CellKind kind)
    {
        if (raw.Length == 0)
        {
            return raw;
        }

        var builder = new StringBuilder(raw.Length);
        var pendingSpace = false;
        foreach (var original in raw)
        {
            var c = Fold(original, kind);
            if (c == '\0')
            {
                continue;
            }

            if (char.IsWhiteSpace(c))
            {
                pendingSpace = kind != CellKind.Identifier && builder.Length > 0;
                continue;
            }

            if (pendingSpace)
            {
                builder.Append(' ');
                pendingSpace = false;
            }

            builder.Append(c);
        }

        return builder.ToString();
    }

    private static char Fold(char c, CellKind kind)
    {
        switch (c)
        {
            case '\u00A0' or '\u3000' or '\u2007' or '\u202F':
                return ' ';
            case '\u200B' or '\u200C' or '\u200D' or '\uFEFF':
                return '\0';
            case >= '\uFF01' and <= '\uFF5E':
                var ascii = (char)(c - 0xFEE0);
                return kind != CellKind.Text || char.IsAsciiLetterOrDigit(ascii) ? ascii : c;
            default:
                return c;
        }
    }

    /// <summary>
    /// True for text like "3.37E+09" or "1.23457E+11": Excel shows long numbers that way in General
    /// format and a CSV export writes what is shown, so the digits past the mantissa are gone. Excel always
    /// writes the exponent's sign; requiring it keeps a serial such as "4E5" importable.
    /// </summary>
    public static bool IsScientific(string text)
    {
        var e = text.IndexOfAny(['E', 'e']);
        if (e <= 0 || e >= text.Length - 2 || (text[e + 1] != '+' && text[e + 1] != '-'))
        {
            return false;
        }

        var mantissa = text.AsSpan(0, e);
        var exponent = text.AsSpan(e + 1);
        return double.TryParse(mantissa, NumberStyles.AllowDecimalPoint | NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _)
            && int.TryParse(exponent, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _)
            && mantissa.ContainsAnyInRange('0', '9');
    }

    /// <summary>
    /// The text of a numeric XLSX cell. Whole numbers below 10^15 are exact in a double and come out as
    /// plain digits (a school code stored as a number); larger whole numbers may have lost digits and come
    /// out in E-notation so that <see cref="IsScientific"/> refuses them; fractions (coordinates) round-trip.
    /// </summary>
    public static string FromNumber(string stored)
    {
        if (!double.TryParse(stored, NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
        {
            return stored;
        }

        if (Math.Abs(value) < 1e15 && value == Math.Floor(value))
        {
            return ((long)value).ToString(CultureInfo.InvariantCulture);
        }

        return Math.Abs(value) >= 1e15
            ? value.ToString("E14", CultureInfo.InvariantCulture)
            : value.ToString("R", CultureInfo.InvariantCulture);
    }
}
