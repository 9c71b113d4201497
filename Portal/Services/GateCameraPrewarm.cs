using System.Threading.Channels;
using Microsoft.Extensions.Options;
using Portal.Core.Devices;
using Portal.Media.Bridges;

namespace Portal.Services;

/// <summary>What <see cref="GateCameraPrewarm"/> holds now: the bound, the cameras pre-warmed and those refused by the bound.</summary>
/// <param name="Max">The city-wide bound (Portal:PrewarmMax).</param>
/// <param name="DeviceIds">The gate cameras whose sub-stream is held now.</param>
/// <param name="RefusedDeviceIds">The gate cameras asked for but refused by the bound.</param>
/// <param name="Readings">How often the set was read since start-up (tests wait for a reading after a change).</param>
public sealed record GateCameraPrewarmStatus(int Max, IReadOnlyList<int> DeviceIds, IReadOnlyList<int> RefusedDeviceIds, long Readings);

/// <summary>
/// Keeps the sub-stream of every gate camera whose school (or, without a school setting, its district) asks for pre-warm
/// pulled, so a camera that ignores keyframe requests still starts a viewer at once (issue #15, item 3;
/// <see cref="CameraHub.Prewarm"/>). Bounded city-wide by <see cref="PortalOptions.PrewarmMax"/>, in school order: the
/// cameras past it are refused, each logged once and listed for the administrator.
/// </summary>
/// <remarks>
/// The set is read again when a setting changes and every <see cref="PortalOptions.PrewarmRefreshSeconds"/> (device edits,
/// health). A camera the health checks mark offline is let go and taken up again when it is back, so an offline camera is
/// not held open; between checks a dropped sub-stream reconnects with the RTSP source's backoff (1 s doubling to 30 s).
/// </remarks>
public sealed class GateCameraPrewarm(
    GateCameraPrewarmRepository settings,
    GateCameraPrewarmService settingsService,
    DeviceRepository devices,
    GateCameraResolver resolver,
    GateCameraService cameras,
    IOptions<PortalOptions> options,
    TimeProvider time,
    ILogger<GateCameraPrewarm> logger) : BackgroundService
{
    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly Dictionary<int, Held> _held = [];
    private readonly HashSet<int> _refusedLogged = [];
    private GateCameraPrewarmStatus _status = new(0, [], [], 0);

    /// <summary>The cameras pre-warmed now and those refused by the bound (admin page, diagnostics).</summary>
    public GateCameraPrewarmStatus Status => Volatile.Read(ref _status);

    /// <summary>Raised after each reading of the set.</summary>
    public event Action? Refreshed;

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        settingsService.Changed += Wake;
        using var timer = time.CreateTimer(_ => Wake(), null, TimeSpan.FromSeconds(Math.Max(1, options.Value.PrewarmRefreshSeconds)), TimeSpan.FromSeconds(Math.Max(1, options.Value.PrewarmRefreshSeconds)));
        try
        {
            do
            {
                try
                {
                    await RefreshAsync(stoppingToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OperationCanceledException and not OutOfMemoryException)
                {
                    logger.LogWarning(ex, "Could not read the gate cameras to pre-warm; keeping the current ones");
                }
            }
            while (await _wake.Reader.WaitToReadAsync(stoppingToken).ConfigureAwait(false) && _wake.Reader.TryRead(out _));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            settingsService.Changed -= Wake;
            foreach (var held in _held.Values)
            {
                held.Hold.Dispose();
            }

            _held.Clear();
        }
    }

    private void Wake() => _wake.Writer.TryWrite(true);

    private async Task RefreshAsync(CancellationToken ct)
    {
        var max = Math.Max(0, options.Value.PrewarmMax);
        var wanted = new Dictionary<int, CameraEndpoint>();
        var refused = new List<int>();
        foreach (var id in await settings.GetCameraIdsAsync(ct).ConfigureAwait(false))
        {
            var device = await devices.GetByIdAsync(id, ct).ConfigureAwait(false);
            if (device is null || device.HealthState == DeviceHealthState.Offline || resolver.Resolve(device) is not { Stream.SubStream: not null } resolved)
            {
                continue; // offline: taken up again when the health checks see it back
            }

            if (wanted.Count >= max)
            {
                refused.Add(id);
                if (_refusedLogged.Add(id))
                {
                    logger.LogWarning("Gate camera {DeviceId} ({Serial}) is not pre-warmed: the city-wide maximum of {Max} pre-warmed cameras (Portal:PrewarmMax) is reached", id, device.SerialNumber, max);
                }

                continue;
            }

            wanted[id] = resolved.Stream;
        }

        _refusedLogged.IntersectWith(refused);
        foreach (var (id, held) in _held.ToList())
        {
            if (!wanted.TryGetValue(id, out var endpoint) || endpoint != held.Camera)
            {
                held.Hold.Dispose();
                _held.Remove(id);
                logger.LogInformation("Gate camera {DeviceId}: sub-stream pre-warm stopped", id);
            }
        }

        foreach (var (id, endpoint) in wanted)
        {
            if (!_held.ContainsKey(id))
            {
                _held[id] = new Held(endpoint, cameras.Hub.Prewarm(endpoint));
                logger.LogInformation("Gate camera {DeviceId}: sub-stream {SubStream} pre-warmed", id, endpoint.SubStream);
            }
        }

        Volatile.Write(ref _status, new GateCameraPrewarmStatus(max, [.. _held.Keys.Order()], refused, _status.Readings + 1));
        Refreshed?.Invoke();
    }

    private sealed record Held(CameraEndpoint Camera, IDisposable Hold);
}
