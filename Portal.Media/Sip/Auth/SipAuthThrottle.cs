using System.Collections.Concurrent;
using System.Net;

namespace Portal.Media.Sip.Auth;

/// <summary>Limits on failed authentication; defaults suit terminals that register every few minutes.</summary>
public sealed class SipAuthThrottleOptions
{
    /// <summary>Failures one source address may make within <see cref="Window"/> before it is refused outright.</summary>
    public int MaxFailuresPerSource { get; set; } = 10;

    /// <summary>Failures against one account, from addresses other than the account's own, within <see cref="Window"/>.</summary>
    public int MaxFailuresPerAccount { get; set; } = 20;

    public TimeSpan Window { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How long an address that authenticated stays "the account's own".</summary>
    public TimeSpan TrustDuration { get; set; } = TimeSpan.FromDays(1);
}

/// <summary>Why a request is refused before its credentials are even checked.</summary>
public enum SipThrottleVerdict
{
    Allowed,
    SourceBlocked,
    AccountBlocked,
}

/// <summary>
/// Counts failed digest checks per source address and per account, so nobody guesses passwords without
/// limit, while a stranger's failures never lock the real terminal out.
/// </summary>
/// <remarks>
/// Per source: after <see cref="SipAuthThrottleOptions.MaxFailuresPerSource"/> failures in a window the address is
/// refused until the window passes. Per account: failures from addresses that are not the account's own (the last
/// one that authenticated) count toward a limit that then refuses only those other addresses; the terminal at its
/// own address is always checked. An attacker spreading guesses over many addresses still gets at most
/// <see cref="SipAuthThrottleOptions.MaxFailuresPerAccount"/> guesses per window per account. Tables are bounded:
/// entries older than their window are swept, and past <see cref="MaxEntries"/> the oldest go first.
/// </remarks>
public sealed class SipAuthThrottle(SipAuthThrottleOptions options, TimeProvider time)
{
    public const int MaxEntries = 100_000;

    private readonly ConcurrentDictionary<IPAddress, Window> _sources = new();
    private readonly ConcurrentDictionary<string, Window> _accounts = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, (IPAddress Address, long Ticks)> _trusted = new(StringComparer.Ordinal);

    public SipThrottleVerdict Check(IPAddress source, string account)
    {
        ArgumentNullException.ThrowIfNull(source);
        var now = time.GetTimestamp();
        if (_sources.TryGetValue(source, out var bySource) && bySource.Count(now, time, options.Window) >= options.MaxFailuresPerSource)
        {
            return SipThrottleVerdict.SourceBlocked;
        }

        if (!IsTrusted(account, source, now) && _accounts.TryGetValue(account, out var byAccount)
            && byAccount.Count(now, time, options.Window) >= options.MaxFailuresPerAccount)
        {
            return SipThrottleVerdict.AccountBlocked;
        }

        return SipThrottleVerdict.Allowed;
    }

    public void RecordFailure(IPAddress source, string account)
    {
        ArgumentNullException.ThrowIfNull(source);
        var now = time.GetTimestamp();
        Bound(_sources, now);
        _sources.GetOrAdd(source, _ => new Window()).Add(now, time, options.Window);
        if (!IsTrusted(account, source, now))
        {
            Bound(_accounts, now);
            _accounts.GetOrAdd(account, _ => new Window()).Add(now, time, options.Window);
        }
    }

    public void RecordSuccess(IPAddress source, string account)
    {
        if (_trusted.Count >= MaxEntries)
        {
            _trusted.Clear(); // rare: every account re-learns its address at its next registration
        }

        _trusted[account] = (source, time.GetTimestamp());
    }

    private bool IsTrusted(string account, IPAddress source, long now) =>
        _trusted.TryGetValue(account, out var trusted) && trusted.Address.Equals(source) && time.GetElapsedTime(trusted.Ticks, now) < options.TrustDuration;

    private void Bound<TKey>(ConcurrentDictionary<TKey, Window> table, long now)
        where TKey : notnull
    {
        if (table.Count < MaxEntries)
        {
            return;
        }

        foreach (var (key, window) in table)
        {
            if (window.Count(now, time, options.Window) == 0)
            {
                table.TryRemove(key, out _);
            }
        }

        if (table.Count >= MaxEntries)
        {
            table.Clear();
        }
    }

    /// <summary>Timestamps of recent failures (a small sliding window).</summary>
    private sealed class Window
    {
        private readonly Queue<long> _failures = new();

        public int Count(long now, TimeProvider time, TimeSpan window)
        {
            lock (_failures)
            {
                Expire(now, time, window);
                return _failures.Count;
            }
        }

        public void Add(long now, TimeProvider time, TimeSpan window)
        {
            lock (_failures)
            {
                Expire(now, time, window);
                if (_failures.Count < 1000)
                {
                    _failures.Enqueue(now);
                }
            }
        }

        private void Expire(long now, TimeProvider time, TimeSpan window)
        {
            while (_failures.Count > 0 && time.GetElapsedTime(_failures.Peek(), now) > window)
            {
                _failures.Dequeue();
            }
        }
    }
}
