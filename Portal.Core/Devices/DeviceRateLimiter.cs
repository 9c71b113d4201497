using System.Collections.Concurrent;
using System.Threading.RateLimiting;

namespace Portal.Core.Devices;

/// <summary>The device door's rate limits (configuration section Portal:DeviceRateLimits).</summary>
public sealed class DeviceRateLimitOptions
{
    /// <summary>Requests a second one source address may send to the device API, on average (before the body is read).</summary>
    public int PerAddressPerSecond { get; set; } = 100;

    /// <summary>How many requests one address may send at once before the average applies.</summary>
    public int PerAddressBurst { get; set; } = 200;

    /// <summary>Correctly signed requests a second one device may make, on average.</summary>
    public int PerDevicePerSecond { get; set; } = 20;

    public int PerDeviceBurst { get; set; } = 40;

    /// <summary>The period the per-second figures refill over (tests stretch it so nothing refills meanwhile).</summary>
    public TimeSpan Period { get; set; } = TimeSpan.FromSeconds(1);
}

/// <summary>
/// The per-device limit (System.Threading.RateLimiting token buckets, the same limiters ASP.NET Core's middleware uses
/// for the per-address limit). What it counts matters: only requests that carry the device's own valid signature and a
/// fresh nonce, so a stranger sending bad signatures under a terminal's serial, or replaying its captured presses,
/// spends nothing of the terminal's allowance and cannot block its presses. A device that does exhaust it is refused
/// early, by serial, before its next request's body is read (<see cref="IsBlocked"/>), until its bucket refills.
/// </summary>
public sealed class DeviceRateLimiter : IDisposable
{
    private readonly PartitionedRateLimiter<int> _perDevice;
    private readonly ConcurrentDictionary<string, DateTimeOffset> _blockedUntil = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;

    public DeviceRateLimiter(DeviceRateLimitOptions options, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        _time = time;
        _perDevice = PartitionedRateLimiter.Create<int, int>(deviceId => RateLimitPartition.GetTokenBucketLimiter(deviceId, _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = options.PerDeviceBurst,
            TokensPerPeriod = options.PerDevicePerSecond,
            ReplenishmentPeriod = options.Period,
            QueueLimit = 0,
            AutoReplenishment = true,
        }));
    }

    /// <summary>
    /// True when the device with this serial used up its allowance and must wait (<paramref name="retryAfter"/>). Only a
    /// correctly signed device's own requests put a serial here, so a spoofed serial cannot block the real device.
    /// </summary>
    public bool IsBlocked(string? serial, out TimeSpan retryAfter)
    {
        retryAfter = TimeSpan.Zero;
        if (serial is null || !_blockedUntil.TryGetValue(serial, out var until))
        {
            return false;
        }

        retryAfter = until - _time.GetUtcNow();
        if (retryAfter > TimeSpan.Zero)
        {
            return true;
        }

        _blockedUntil.TryRemove(new KeyValuePair<string, DateTimeOffset>(serial, until));
        return false;
    }

    /// <summary>Takes one request from a verified device's allowance; false (and how long to wait) when it is used up.</summary>
    public bool TryAcquire(Device device, out TimeSpan retryAfter)
    {
        ArgumentNullException.ThrowIfNull(device);
        using var lease = _perDevice.AttemptAcquire(device.Id);
        if (lease.IsAcquired)
        {
            retryAfter = TimeSpan.Zero;
            return true;
        }

        retryAfter = lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) && wait > TimeSpan.Zero ? wait : TimeSpan.FromSeconds(1);
        _blockedUntil[device.SerialNumber] = _time.GetUtcNow() + retryAfter;
        return false;
    }

    public void Dispose() => _perDevice.Dispose();
}
