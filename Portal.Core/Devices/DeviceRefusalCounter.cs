using Dapper;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Portal.Core.Data;

namespace Portal.Core.Devices;

/// <summary>One row of the refusal counts: how many requests from an address were refused for a reason in a minute.</summary>
public sealed record DeviceRefusalCount
{
    public DateTime MinuteUtc { get; init; }

    public required string RemoteAddress { get; init; }

    public required string Reason { get; init; }

    public long Requests { get; init; }
}

/// <summary>The reasons a device request is refused, as the counters record them (the caller is told less).</summary>
public static class DeviceRefusalReasons
{
    public const string Replay = nameof(DeviceAuthFailure.Replay);
    public const string NotATerminal = "NotATerminal";
    public const string MalformedJson = "MalformedJson";
    public const string BodyTooLarge = "BodyTooLarge";

    /// <summary>Refused by the per-address limit, before the body was read.</summary>
    public const string RateLimited = "RateLimited";

    /// <summary>Refused by the per-device limit (a correctly signed device sending too much).</summary>
    public const string DeviceRateLimited = "DeviceRateLimited";
    public const string NoCentre = "NoCentre";
}

/// <summary>
/// Counts refused device requests per minute, source address and reason, in memory, and adds them to the
/// DeviceRefusalCount table every <see cref="FlushInterval"/> in one transaction (the table's only writer). Issue 14:
/// one SecurityLog row per refusal put a stranger's flood into the alarms' write lock and grew without bound. Here a
/// minute holds at most <see cref="MaxAddressesPerMinute"/> (address, reason) rows; further addresses are folded into
/// <see cref="OtherAddress"/>, one row per reason. The log gets one summary line per flush, not a line per refusal.
/// </summary>
public sealed class DeviceRefusalCounter(Db db, TimeProvider time, ILogger<DeviceRefusalCounter> logger) : BackgroundService
{
    public const int MaxAddressesPerMinute = 64;

    public const string OtherAddress = "other";

    public static readonly TimeSpan FlushInterval = TimeSpan.FromSeconds(10);

    /// <summary>How long the counts are kept (<see cref="PruneAsync"/>, run daily by DeviceRefusalRetentionJob).</summary>
    public static readonly TimeSpan Retention = TimeSpan.FromDays(30);

    private const string UpsertSqlite = """
        INSERT INTO DeviceRefusalCount (MinuteUtc, RemoteAddress, Reason, Requests) VALUES (@MinuteUtc, @RemoteAddress, @Reason, @Requests)
        ON CONFLICT (MinuteUtc, RemoteAddress, Reason) DO UPDATE SET Requests = Requests + excluded.Requests
        """;

    private const string UpsertSqlServer = """
        UPDATE DeviceRefusalCount WITH (UPDLOCK, SERIALIZABLE) SET Requests = Requests + @Requests
        WHERE MinuteUtc = @MinuteUtc AND RemoteAddress = @RemoteAddress AND Reason = @Reason;
        IF @@ROWCOUNT = 0
            INSERT INTO DeviceRefusalCount (MinuteUtc, RemoteAddress, Reason, Requests) VALUES (@MinuteUtc, @RemoteAddress, @Reason, @Requests);
        """;

    private const string SelectSince = """
        SELECT MinuteUtc, RemoteAddress, Reason, Requests FROM DeviceRefusalCount
        WHERE MinuteUtc >= @Since ORDER BY MinuteUtc, RemoteAddress, Reason
        """;

    private const string DeleteBefore = "DELETE FROM DeviceRefusalCount WHERE MinuteUtc < @Before";

    private readonly Lock _lock = new();
    private readonly HashSet<(string Address, string Reason)> _admitted = [];
    private DateTime _admittedMinute;
    private Dictionary<(DateTime Minute, string Address, string Reason), long> _pending = [];

    /// <summary>Counts one refused request. No I/O: safe on any request path, however many arrive.</summary>
    public void Count(string? remoteAddress, string reason)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var minute = new DateTime(now.Ticks - (now.Ticks % TimeSpan.TicksPerMinute), DateTimeKind.Utc);
        var address = string.IsNullOrEmpty(remoteAddress) ? "unknown" : remoteAddress.Length > 64 ? remoteAddress[..64] : remoteAddress;
        lock (_lock)
        {
            if (minute != _admittedMinute)
            {
                _admittedMinute = minute;
                _admitted.Clear();
            }

            if (!_admitted.Contains((address, reason)))
            {
                if (_admitted.Count < MaxAddressesPerMinute)
                {
                    _admitted.Add((address, reason));
                }
                else
                {
                    address = OtherAddress;
                }
            }

            var key = (minute, address, reason);
            _pending[key] = _pending.GetValueOrDefault(key) + 1;
        }
    }

    /// <summary>Adds the counts gathered since the last flush to the table, in one transaction. Returns how many rows it touched.</summary>
    public async Task<int> FlushAsync(CancellationToken ct = default)
    {
        Dictionary<(DateTime Minute, string Address, string Reason), long> batch;
        lock (_lock)
        {
            if (_pending.Count == 0)
            {
                return 0;
            }

            batch = _pending;
            _pending = [];
        }

        try
        {
            await using var connection = await db.OpenAsync(ct).ConfigureAwait(false);
            await using var tx = await connection.BeginTransactionAsync(ct).ConfigureAwait(false);
            using (var upsert = new PreparedCommand(db, tx, db.Pick(UpsertSqlServer, UpsertSqlite)))
            {
                foreach (var ((minute, address, reason), requests) in batch)
                {
                    await upsert.Set("MinuteUtc", minute).Set("RemoteAddress", address).Set("Reason", reason).Set("Requests", requests).ExecuteAsync(ct).ConfigureAwait(false);
                }
            }

            await tx.CommitAsync(ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is System.Data.Common.DbException or InvalidOperationException)
        {
            lock (_lock)
            {
                foreach (var (key, requests) in batch)
                {
                    _pending[key] = _pending.GetValueOrDefault(key) + requests;
                }
            }

            logger.LogError(ex, "Could not write {Count} device refusal counts; they are kept for the next flush", batch.Count);
            return 0;
        }

        var total = batch.Values.Sum();
        var top = batch.GroupBy(p => (p.Key.Address, p.Key.Reason)).OrderByDescending(g => g.Sum(p => p.Value)).First();
        logger.LogWarning("Device requests refused since the last count: {Total} (most: {Requests} from {RemoteAddress}, {Reason})",
            total, top.Sum(p => p.Value), top.Key.Address, top.Key.Reason);
        return batch.Count;
    }

    /// <summary>The counts from <paramref name="sinceUtc"/> on (the administrator's view, tests).</summary>
    public async Task<IReadOnlyList<DeviceRefusalCount>> GetSinceAsync(DateTime sinceUtc, CancellationToken ct = default)
    {
        await using var connection = db.Open();
        return [.. await connection.QueryAsync<DeviceRefusalCount>(new CommandDefinition(SelectSince, new { Since = sinceUtc }, cancellationToken: ct)).ConfigureAwait(false)];
    }

    /// <summary>Forgets counts older than <see cref="Retention"/>; returns how many rows went.</summary>
    public async Task<int> PruneAsync(CancellationToken ct = default)
    {
        await using var connection = db.Open();
        return await connection.ExecuteAsync(new CommandDefinition(DeleteBefore, new { Before = time.GetUtcNow().UtcDateTime - Retention }, cancellationToken: ct)).ConfigureAwait(false);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(FlushInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                await FlushAsync(stoppingToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);

        // The last counts: one small transaction, not cancelled by the host's stop (an exception out of a hosted
        // service's stop must not turn a clean exit into a failed one; a database error is logged inside).
        await FlushAsync(CancellationToken.None).ConfigureAwait(false);
    }
}
