using System.Collections.Concurrent;
using System.Net;

namespace Portal.Media.Sip;

/// <summary>
/// A token bucket per source address: what one address may send per second before its datagrams are dropped
/// unread. A real terminal sends a few requests a minute; a flood from one address costs a lookup per packet.
/// </summary>
/// <remarks>
/// Buckets of addresses idle for a minute are swept, so spoofed sources cannot grow the table without bound
/// (and it is capped at <see cref="MaxSources"/>; past it, unknown sources share one bucket).
/// </remarks>
public sealed class SipSourceLimiter(double ratePerSecond, double burst, TimeProvider time)
{
    public const int MaxSources = 100_000;

    private static readonly IPAddress Overflow = IPAddress.None;

    private readonly ConcurrentDictionary<IPAddress, Bucket> _buckets = new();

    public int Count => _buckets.Count;

    /// <summary>True when the source may send one more message now; always true when the rate is 0 (no limit).</summary>
    public bool TryAdmit(IPAddress source)
    {
        if (ratePerSecond <= 0)
        {
            return true;
        }

        var now = time.GetTimestamp();
        if (!_buckets.TryGetValue(source, out var bucket))
        {
            bucket = _buckets.Count >= MaxSources
                ? _buckets.GetOrAdd(Overflow, _ => new Bucket(burst, now))
                : _buckets.GetOrAdd(source, _ => new Bucket(burst, now));
        }

        lock (bucket)
        {
            var elapsed = (now - bucket.LastTicks) / (double)time.TimestampFrequency;
            bucket.Tokens = Math.Min(burst, bucket.Tokens + (elapsed * ratePerSecond));
            bucket.LastTicks = now;
            if (bucket.Tokens < 1)
            {
                return false;
            }

            bucket.Tokens--;
            return true;
        }
    }

    /// <summary>Forgets sources idle longer than <paramref name="idle"/>.</summary>
    public void Sweep(TimeSpan idle)
    {
        var now = time.GetTimestamp();
        foreach (var (address, bucket) in _buckets)
        {
            if ((now - Volatile.Read(ref bucket.LastTicks)) / (double)time.TimestampFrequency > idle.TotalSeconds)
            {
                _buckets.TryRemove(new KeyValuePair<IPAddress, Bucket>(address, bucket));
            }
        }
    }

    private sealed class Bucket(double tokens, long lastTicks)
    {
        public double Tokens = tokens;

        public long LastTicks = lastTicks;
    }
}
