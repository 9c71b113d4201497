using System.Collections.Concurrent;

namespace Portal.Media.Sip.Registrar;

/// <summary>
/// The location service (RFC 3261 §10): current bindings per account, in memory. A binding is live until its
/// expiry; <see cref="RemoveExpired"/> drops lapsed ones and reports which accounts changed.
/// </summary>
/// <remarks>
/// Kept behind this one class so several portal instances could move it to a shared store later; the host
/// records registration freshness in the database, so a restart loses only who is reachable for call-back
/// until the terminals refresh (they re-register within their Expires).
/// </remarks>
public sealed class SipBindingTable
{
    private readonly ConcurrentDictionary<string, List<SipBinding>> _accounts = new(StringComparer.Ordinal);

    public int AccountCount => _accounts.Count;

    public int BindingCount => _accounts.Values.Sum(l => { lock (l) { return l.Count; } });

    /// <summary>The live bindings of an account, newest first.</summary>
    public IReadOnlyList<SipBinding> Get(string account, DateTimeOffset now)
    {
        if (!_accounts.TryGetValue(account, out var list))
        {
            return [];
        }

        lock (list)
        {
            return list.Where(b => b.ExpiresUtc > now).OrderByDescending(b => b.RegisteredUtc).ToList();
        }
    }

    /// <summary>Runs <paramref name="update"/> on the account's binding list under its lock; returns the list after it.</summary>
    public IReadOnlyList<SipBinding> Update(string account, Func<List<SipBinding>, IReadOnlyList<SipBinding>> update)
    {
        ArgumentNullException.ThrowIfNull(update);
        while (true)
        {
            var list = _accounts.GetOrAdd(account, _ => []);
            lock (list)
            {
                if (!_accounts.TryGetValue(account, out var current) || !ReferenceEquals(current, list))
                {
                    continue; // removed by a sweep between GetOrAdd and the lock
                }

                var result = update(list);
                if (list.Count == 0)
                {
                    _accounts.TryRemove(new KeyValuePair<string, List<SipBinding>>(account, list));
                }

                return result;
            }
        }
    }

    /// <summary>Drops lapsed bindings; returns the accounts that lost one, with what they still have.</summary>
    public IReadOnlyList<(string Account, int DeviceId, IReadOnlyList<SipBinding> Remaining)> RemoveExpired(DateTimeOffset now)
    {
        var changed = new List<(string, int, IReadOnlyList<SipBinding>)>();
        foreach (var (account, list) in _accounts)
        {
            lock (list)
            {
                var lapsed = list.FindAll(b => b.ExpiresUtc <= now);
                if (lapsed.Count == 0)
                {
                    continue;
                }

                list.RemoveAll(b => b.ExpiresUtc <= now);
                changed.Add((account, lapsed[0].DeviceId, list.ToList()));
                if (list.Count == 0)
                {
                    _accounts.TryRemove(new KeyValuePair<string, List<SipBinding>>(account, list));
                }
            }
        }

        return changed;
    }
}
