using System.Collections;
using System.Text;

namespace Portal.Media.Sip;

/// <summary>
/// An ordered list of <c>;name[=value]</c> parameters, as URIs, Via, From/To and Contact carry them
/// (RFC 3261 §19.1.1, §25.1 <c>generic-param</c>). Names compare case-insensitively; values keep their case.
/// </summary>
/// <remarks>
/// <code>
/// generic-param = token [ EQUAL gen-value ]      EQUAL = SWS "=" SWS
/// gen-value     = token / host / quoted-string   SEMI  = SWS ";" SWS
/// </code>
/// Quoted values are kept without their quotes (<see cref="IsQuoted"/> remembers), so writing gives back an
/// equivalent list.
/// </remarks>
public sealed class SipParameters : IEnumerable<KeyValuePair<string, string?>>
{
    /// <summary>More parameters than any real device sends; a longer list is hostile.</summary>
    public const int MaxCount = 64;

    private readonly List<(string Name, string? Value, bool Quoted)> _items = [];

    public int Count => _items.Count;

    public string? this[string name] => TryGet(name, out var value) ? value : null;

    public bool Contains(string name) => _items.Exists(i => string.Equals(i.Name, name, StringComparison.OrdinalIgnoreCase));

    public bool TryGet(string name, out string? value)
    {
        foreach (var item in _items)
        {
            if (string.Equals(item.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                value = item.Value;
                return true;
            }
        }

        value = null;
        return false;
    }

    public bool IsQuoted(string name) => _items.Exists(i => i.Quoted && string.Equals(i.Name, name, StringComparison.OrdinalIgnoreCase));

    /// <summary>Sets (replacing any) a parameter; null for a flag without value (<c>;lr</c>, <c>;rport</c>).</summary>
    public void Set(string name, string? value, bool quoted = false)
    {
        var index = _items.FindIndex(i => string.Equals(i.Name, name, StringComparison.OrdinalIgnoreCase));
        if (index >= 0)
        {
            _items[index] = (_items[index].Name, value, quoted);
        }
        else
        {
            _items.Add((name, value, quoted));
        }
    }

    public void Remove(string name) => _items.RemoveAll(i => string.Equals(i.Name, name, StringComparison.OrdinalIgnoreCase));

    /// <summary>Parses parameters from <paramref name="text"/>, which starts at a ';' (or is empty).</summary>
    /// <param name="text">E.g. <c>;branch=z9hG4bK1;rport</c>.</param>
    /// <param name="parameters">The list.</param>
    /// <param name="error">Why it is malformed.</param>
    /// <param name="allowHost">Values may be hosts, IPv6 references included (Via's received/maddr).</param>
    public static bool TryParse(ReadOnlySpan<char> text, out SipParameters parameters, out string error, bool allowHost = true)
    {
        parameters = new SipParameters();
        var i = SkipSpace(text, 0);
        while (i < text.Length)
        {
            if (text[i] != ';')
            {
                error = "expected ';' before a parameter";
                return false;
            }

            i = SkipSpace(text, i + 1);
            var start = i;
            while (i < text.Length && SipMethods.IsTokenChar(text[i]))
            {
                i++;
            }

            if (i == start)
            {
                error = "empty parameter name";
                return false;
            }

            var name = text[start..i].ToString();
            i = SkipSpace(text, i);
            string? value = null;
            var quoted = false;
            if (i < text.Length && text[i] == '=')
            {
                i = SkipSpace(text, i + 1);
                if (i < text.Length && text[i] == '"')
                {
                    if (!SipText.TryReadQuoted(text, ref i, out value))
                    {
                        error = "unterminated quoted parameter value";
                        return false;
                    }

                    quoted = true;
                }
                else
                {
                    start = i;
                    while (i < text.Length && (SipMethods.IsTokenChar(text[i]) || (allowHost && text[i] is '[' or ']' or ':')))
                    {
                        i++;
                    }

                    if (i == start)
                    {
                        error = "empty parameter value";
                        return false;
                    }

                    value = text[start..i].ToString();
                }

                i = SkipSpace(text, i);
            }

            if (parameters.Count >= MaxCount)
            {
                error = "too many parameters";
                return false;
            }

            parameters._items.Add((name, value, quoted));
        }

        error = string.Empty;
        return true;
    }

    public void WriteTo(StringBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        foreach (var (name, value, quoted) in _items)
        {
            builder.Append(';').Append(name);
            if (value is not null)
            {
                builder.Append('=');
                if (quoted)
                {
                    SipText.AppendQuoted(builder, value);
                }
                else
                {
                    builder.Append(value);
                }
            }
        }
    }

    public override string ToString()
    {
        var builder = new StringBuilder();
        WriteTo(builder);
        return builder.ToString();
    }

    public IEnumerator<KeyValuePair<string, string?>> GetEnumerator() =>
        _items.Select(i => new KeyValuePair<string, string?>(i.Name, i.Value)).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    private static int SkipSpace(ReadOnlySpan<char> text, int i)
    {
        while (i < text.Length && text[i] is ' ' or '\t')
        {
            i++;
        }

        return i;
    }
}
