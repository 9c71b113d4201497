using System.Collections;

namespace Portal.Media.Core;

/// <summary>Ordered header fields of an RTSP or SIP message; names compare case-insensitively (RFC 2326 §4.2, RFC 3261 §7.3.1).</summary>
public sealed class TextHeaders : IEnumerable<KeyValuePair<string, string>>
{
    private readonly List<KeyValuePair<string, string>> _items = [];

    public int Count => _items.Count;

    /// <summary>The first value of <paramref name="name"/>, or null.</summary>
    public string? this[string name]
    {
        get
        {
            foreach (var item in _items)
            {
                if (string.Equals(item.Key, name, StringComparison.OrdinalIgnoreCase))
                {
                    return item.Value;
                }
            }

            return null;
        }
    }

    public void Add(string name, string value) => _items.Add(new(name, value));

    /// <summary>Adds a field before all others (a SIP element puts its own Via on top, RFC 3261 §8.1.1.7).</summary>
    public void AddFirst(string name, string value) => _items.Insert(0, new(name, value));

    /// <summary>Replaces every value of <paramref name="name"/> with one.</summary>
    public void Set(string name, string value)
    {
        Remove(name);
        Add(name, value);
    }

    public void Remove(string name) => _items.RemoveAll(i => string.Equals(i.Key, name, StringComparison.OrdinalIgnoreCase));

    public IEnumerable<string> GetAll(string name) =>
        _items.Where(i => string.Equals(i.Key, name, StringComparison.OrdinalIgnoreCase)).Select(i => i.Value);

    public IEnumerator<KeyValuePair<string, string>> GetEnumerator() => _items.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
