using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Options;

namespace Portal.SignIn;

/// <summary>
/// Slows down password and code guessing per source address, instead of locking the account: after
/// <see cref="SecurityOptions.LoginFreeAttempts"/> failures from one address, each further attempt from it must wait
/// (2 s, 4 s, 8 s ... up to <see cref="SecurityOptions.LoginMaxDelaySeconds"/>) and is refused unchecked before then. A
/// stranger guessing an operator's password from one address slows only that address; the operator at the console
/// signs in as usual (the old per-account lock-out let anyone lock a whole shift out with five wrong passwords).
/// IPv6 addresses count per /64, the block one subscriber is usually given. Kept in memory, per instance, and bounded:
/// behind a load balancer each instance throttles on its own.
/// </summary>
public sealed class LoginThrottle(IOptions<PortalOptions> options, TimeProvider time)
{
    /// <summary>Most addresses remembered; past it, those whose failures have lapsed go first, then the oldest.</summary>
    internal const int MaxAddresses = 100_000;

    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    private SecurityOptions Security => options.Value.Security;

    /// <summary>How long this address must still wait before its next attempt is checked; null when it may try now.</summary>
    public TimeSpan? RetryAfter(IPAddress? address)
    {
        if (!_entries.TryGetValue(Key(address), out var entry))
        {
            return null;
        }

        var now = time.GetUtcNow();
        var wait = entry.LastFailure + Delay(entry.Failures) - now;
        return wait > TimeSpan.Zero && now - entry.LastFailure < Window ? wait : null;
    }

    /// <summary>Counts a failed password or code from this address.</summary>
    public void Failed(IPAddress? address)
    {
        var now = time.GetUtcNow();
        _entries.AddOrUpdate(
            Key(address),
            _ => new Entry(1, now),
            (_, e) => now - e.LastFailure >= Window ? new Entry(1, now) : new Entry(e.Failures + 1, now));
        if (_entries.Count > MaxAddresses)
        {
            Prune(now);
        }
    }

    /// <summary>The wait that follows the <paramref name="failures"/>-th failure.</summary>
    internal TimeSpan Delay(int failures)
    {
        var over = failures - Security.LoginFreeAttempts;
        if (over <= 0)
        {
            return TimeSpan.Zero;
        }

        var seconds = Security.LoginDelaySeconds * Math.Pow(2, Math.Min(over - 1, 30));
        return TimeSpan.FromSeconds(Math.Min(seconds, Security.LoginMaxDelaySeconds));
    }

    private TimeSpan Window => TimeSpan.FromMinutes(Math.Max(1, Security.LoginFailureWindowMinutes));

    private void Prune(DateTimeOffset now)
    {
        foreach (var (key, entry) in _entries)
        {
            if (now - entry.LastFailure >= Window)
            {
                _entries.TryRemove(key, out _);
            }
        }

        var excess = _entries.Count - (MaxAddresses * 9 / 10);
        if (excess > 0)
        {
            foreach (var (key, _) in _entries.OrderBy(e => e.Value.LastFailure).Take(excess).ToList())
            {
                _entries.TryRemove(key, out _);
            }
        }
    }

    internal static string Key(IPAddress? address)
    {
        if (address is null)
        {
            return "unknown";
        }

        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return address.ToString();
        }

        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out _);
        bytes[8..].Clear();
        return new IPAddress(bytes).ToString() + "/64";
    }

    private readonly record struct Entry(int Failures, DateTimeOffset LastFailure);
}
