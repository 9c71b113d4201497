using System.Text;

namespace Portal.Media.Sip;

/// <summary>Small grammar helpers shared by the header parsers: quoted strings, list splitting, escapes.</summary>
internal static class SipText
{
    /// <summary>Reads a quoted-string starting at <paramref name="i"/> (on the opening quote); backslash escapes one character (RFC 3261 §25.1).</summary>
    public static bool TryReadQuoted(ReadOnlySpan<char> text, ref int i, out string value)
    {
        var builder = new StringBuilder();
        for (var j = i + 1; j < text.Length; j++)
        {
            var c = text[j];
            if (c == '\\')
            {
                if (++j >= text.Length)
                {
                    break;
                }

                builder.Append(text[j]);
            }
            else if (c == '"')
            {
                i = j + 1;
                value = builder.ToString();
                return true;
            }
            else
            {
                builder.Append(c);
            }
        }

        value = string.Empty;
        return false;
    }

    public static void AppendQuoted(StringBuilder builder, string value)
    {
        builder.Append('"');
        foreach (var c in value)
        {
            if (c is '"' or '\\')
            {
                builder.Append('\\');
            }

            builder.Append(c);
        }

        builder.Append('"');
    }

    /// <summary>
    /// Splits a header value into its comma-separated elements (RFC 3261 §7.3.1), ignoring commas inside quoted
    /// strings and angle brackets. False when a quote or bracket is left open.
    /// </summary>
    public static bool TrySplitList(string value, List<string> elements, int maxElements)
    {
        var inQuote = false;
        var inAngle = false;
        var start = 0;
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (inQuote)
            {
                if (c == '\\')
                {
                    i++;
                }
                else if (c == '"')
                {
                    inQuote = false;
                }
            }
            else if (c == '"')
            {
                inQuote = true;
            }
            else if (c == '<')
            {
                inAngle = true;
            }
            else if (c == '>')
            {
                inAngle = false;
            }
            else if (c == ',' && !inAngle)
            {
                if (!Add(value.AsSpan(start, i - start), elements, maxElements))
                {
                    return false;
                }

                start = i + 1;
            }
        }

        return !inQuote && !inAngle && Add(value.AsSpan(start), elements, maxElements);
    }

    /// <summary>Decodes %HH escapes (RFC 3261 §19.1.2); false on a broken escape.</summary>
    public static bool TryUnescape(ReadOnlySpan<char> text, out string value)
    {
        if (!text.Contains('%'))
        {
            value = text.ToString();
            return true;
        }

        var bytes = new List<byte>(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] == '%')
            {
                if (i + 2 >= text.Length || !char.IsAsciiHexDigit(text[i + 1]) || !char.IsAsciiHexDigit(text[i + 2]))
                {
                    value = string.Empty;
                    return false;
                }

                bytes.Add((byte)((HexValue(text[i + 1]) << 4) | HexValue(text[i + 2])));
                i += 2;
            }
            else
            {
                bytes.AddRange(Encoding.UTF8.GetBytes(text[i].ToString()));
            }
        }

        value = Encoding.UTF8.GetString(bytes.ToArray());
        return true;
    }

    private static int HexValue(char c) => c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;

    private static bool Add(ReadOnlySpan<char> element, List<string> elements, int maxElements)
    {
        element = element.Trim(" \t");
        if (element.IsEmpty)
        {
            return true; // RFC 3261 forbids empty elements; skipping them is the lenient reading
        }

        if (elements.Count >= maxElements)
        {
            return false;
        }

        elements.Add(element.ToString());
        return true;
    }
}
