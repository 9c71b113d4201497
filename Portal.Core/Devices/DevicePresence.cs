using System.Collections.Concurrent;
using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Portal.Core.Installation;

namespace Portal.Core.Devices;

/// <summary>
/// When each device was last seen (a signed request, a SIP registration or call), kept in memory and written every
/// <see cref="FlushInterval"/>, in a few short transactions (<see cref="DeviceRepository.SetLastSeenAsync"/>): 10,000
/// devices heartbeating every 60 s are ~170 sightings a second, which as one durable write each would queue for the
/// same write lock as the alarms. The health checks read <see cref="Device.LastSeenUtc"/> (at most a flush interval old) or <see cref="GetLastSeenUtc"/>.
/// A device seen for the first time (below Connected) is handed to <see cref="InstallationService.MarkDevicesSeenAsync"/>
/// at once, off the caller's path: that moves it to Connected and may complete the school's "devices online" step.
/// First sightings that arrive together (a registration storm of terminals not yet Connected) are written together,
/// in one transaction per batch of up to <see cref="MaxFirstSeenBatch"/>, not one each; a device just marked is not
/// queued again for a while, so a caller holding a row read before the mark (the SIP credential cache) costs nothing
/// more.
/// </summary>
public sealed class DevicePresence(DeviceRepository devices, InstallationService installation, TimeProvider time, ILogger<DevicePresence> logger) : BackgroundService
{
    public static readonly TimeSpan FlushInterval = TimeSpan.FromSeconds(5);

    private readonly Lock _swap = new();
    private Dictionary<int, Sighting> _pending = [];

    // The newest accepted heartbeat's signed time per device, since start (the database holds it across restarts).
    private readonly Dictionary<int, DateTime> _lastHeartbeat = [];

    // The newest flushed or pending sighting per device, for readers that cannot wait for the flush.
    private readonly ConcurrentDictionary<int, DateTime> _latest = new();
    private readonly ConcurrentDictionary<int, byte> _firstSeenQueued = new();
    private readonly ConcurrentDictionary<int, long> _marked = new();
    private readonly Channel<int> _firstSeen = Channel.CreateUnbounded<int>(new UnboundedChannelOptions { SingleReader = true });

    /// <summary>Records that <paramref name="device"/> was seen now. Costs no database write on the caller's path.</summary>
    public void Seen(Device device)
    {
        ArgumentNullException.ThrowIfNull(device);
        Record(device, heartbeatUtc: null);
    }

    /// <summary>
    /// Accepts a correctly signed heartbeat and records the sighting, when its signed time <paramref name="signedUtc"/>
    /// is newer than the device's newest accepted heartbeat (in memory, or <see cref="Device.LastHeartbeatUtc"/> as read
    /// with the request). False for a replay (or a repeat within the same second): nothing is recorded.
    /// <para>
    /// Why not spend the nonce, as an alarm does: that is a durable write per heartbeat. What a replayed heartbeat
    /// could do is make a dead device look alive; a heartbeat must therefore be newer than the last one, which this
    /// checks in memory and, across restarts and instances, against the flushed signed time. The only replays left are
    /// of a heartbeat accepted within the last flush interval (before a crash, or sent to another instance), each once:
    /// they say what was true seconds ago.
    /// </para>
    /// </summary>
    public bool TryAcceptHeartbeat(Device device, DateTime signedUtc)
    {
        ArgumentNullException.ThrowIfNull(device);
        lock (_swap)
        {
            var last = _lastHeartbeat.TryGetValue(device.Id, out var known) ? known : DateTime.MinValue;
            if (device.LastHeartbeatUtc is { } stored && stored > last)
            {
                last = stored;
            }

            if (signedUtc <= last)
            {
                return false;
            }

            _lastHeartbeat[device.Id] = signedUtc;
        }

        Record(device, signedUtc);
        return true;
    }

    private void Record(Device device, DateTime? heartbeatUtc)
    {
        var now = time.GetUtcNow().UtcDateTime;
        lock (_swap)
        {
            _pending[device.Id] = _pending.TryGetValue(device.Id, out var earlier)
                ? new Sighting(now, heartbeatUtc ?? earlier.HeartbeatUtc)
                : new Sighting(now, heartbeatUtc);
        }

        _latest[device.Id] = now;
        if (device.InstallState < DeviceInstallState.Connected && !RecentlyMarked(device.Id) && _firstSeenQueued.TryAdd(device.Id, 0))
        {
            _firstSeen.Writer.TryWrite(device.Id);
        }
    }

    /// <summary>When the device was last seen by this process (flushed or not); null when not since start.</summary>
    public DateTime? GetLastSeenUtc(int deviceId) => _latest.TryGetValue(deviceId, out var at) ? at : null;

    /// <summary>Writes the sightings gathered since the last flush. Returns how many devices it wrote.</summary>
    public async Task<int> FlushAsync(CancellationToken ct = default)
    {
        Dictionary<int, Sighting> batch;
        lock (_swap)
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
            await devices.SetLastSeenAsync([.. batch.Select(p => (p.Key, p.Value.SeenUtc, p.Value.HeartbeatUtc))], ct).ConfigureAwait(false);
            return batch.Count;
        }
        catch (Exception ex) when (ex is System.Data.Common.DbException or InvalidOperationException)
        {
            // Put them back (a newer sighting wins) so the next flush writes them.
            lock (_swap)
            {
                foreach (var (id, old) in batch)
                {
                    // A sighting taken meanwhile is newer; keep the older heartbeat time only if it has none.
                    _pending[id] = _pending.TryGetValue(id, out var newer) ? newer with { HeartbeatUtc = newer.HeartbeatUtc ?? old.HeartbeatUtc } : old;
                }
            }

            logger.LogError(ex, "Could not write {Count} device sightings; they are kept for the next flush", batch.Count);
            return 0;
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var firstSeen = MarkFirstSeenAsync(stoppingToken);
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

        await firstSeen.ConfigureAwait(false);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);

        // What was seen since the last tick is not lost at a clean stop.
        await FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>How long a device marked Connected is not queued again (longer than any cache of its row, see DeviceIntake).</summary>
    private static readonly TimeSpan MarkedMemory = TimeSpan.FromMinutes(1);

    /// <summary>
    /// The most first sightings marked in one transaction. Each costs a few statements (the device, then its school's
    /// "devices online" step): a batch of 32 took 10-20 ms under the alarm benchmark's burst of presses from terminals
    /// never seen, and 500 (before issue 15) held the write lock correspondingly longer. Each batch gives way to the
    /// alarm writer first (<see cref="InstallationService.MarkDevicesSeenAsync"/>).
    /// </summary>
    internal const int MaxFirstSeenBatch = 32;

    // Past this many remembered marks, those older than MarkedMemory are dropped.
    private const int MaxMarkedKept = 5_000;

    private bool RecentlyMarked(int deviceId) => _marked.TryGetValue(deviceId, out var at) && time.GetElapsedTime(at) < MarkedMemory;

    private async Task MarkFirstSeenAsync(CancellationToken ct)
    {
        var batch = new List<int>(MaxFirstSeenBatch);
        try
        {
            while (await _firstSeen.Reader.WaitToReadAsync(ct).ConfigureAwait(false))
            {
                batch.Clear();
                while (batch.Count < MaxFirstSeenBatch && _firstSeen.Reader.TryRead(out var id))
                {
                    batch.Add(id);
                }

                try
                {
                    await installation.MarkDevicesSeenAsync(batch, ct).ConfigureAwait(false);
                    var now = time.GetTimestamp();
                    if (_marked.Count > MaxMarkedKept)
                    {
                        foreach (var (old, at) in _marked)
                        {
                            if (time.GetElapsedTime(at, now) >= MarkedMemory)
                            {
                                _marked.TryRemove(old, out _);
                            }
                        }
                    }

                    foreach (var id in batch)
                    {
                        _marked[id] = now;
                    }
                }
                catch (Exception ex) when (ex is System.Data.Common.DbException or InvalidOperationException)
                {
                    // Their next sighting queues them again.
                    logger.LogError(ex, "Could not mark {Count} device(s) connected", batch.Count);
                }

                foreach (var id in batch)
                {
                    _firstSeenQueued.TryRemove(id, out _);
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }

    private readonly record struct Sighting(DateTime SeenUtc, DateTime? HeartbeatUtc);
}
