using System.Threading.Channels;
using Microsoft.Extensions.Options;
using Portal.Core.Alarms;
using Portal.Core.Devices;
using Portal.Core.Security;

namespace Portal.Services;

/// <summary>
/// Starts pulling a school's gate camera the moment its alarm is committed (issue #15), before any console has drawn
/// the alarm: by the time the operator's pop-up asks for video, the RTSP session is up and the keyframe the camera
/// was asked for is cached, so the picture starts at once. The pull is let go when the alarm closes; the hub's idle
/// stop then ends it once no one watches.
/// </summary>
/// <remarks>
/// Hooked on the alarm's publication with a city-wide <see cref="AlarmNotifier"/> subscription (subscribed at start-up,
/// so it is the first to be told), which only queues the change: the camera lookup (one small read) and the pull run on
/// this service's own loop, one alarm at a time, off the notifier's and the intake's paths. At most
/// <see cref="PortalOptions.MaxAlarmCameraPulls"/> alarms hold a pull at once, so a flood of presses cannot start a flood of pulls.
/// </remarks>
public sealed class GateCameraAlarmPulls(
    AlarmNotifier notifier,
    DeviceRepository devices,
    GateCameraResolver resolver,
    GateCameraService cameras,
    IOptions<PortalOptions> options,
    ILogger<GateCameraAlarmPulls> logger) : BackgroundService
{
    private readonly Channel<AlarmChange> _changes = Channel.CreateUnbounded<AlarmChange>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Dictionary<int, IDisposable> _holds = [];

    /// <summary>Alarms whose camera is pulled now, for the diagnostics endpoint.</summary>
    public IReadOnlyList<int> AlarmIds
    {
        get
        {
            lock (_holds)
            {
                return [.. _holds.Keys.Order()];
            }
        }
    }

    private IDisposable? _subscription;

    /// <summary>
    /// Subscribes before the loop starts: since .NET 10 a <see cref="BackgroundService"/> runs all of
    /// <see cref="ExecuteAsync"/> on the thread pool, so a subscription made there could miss an alarm committed meanwhile.
    /// </summary>
    public override Task StartAsync(CancellationToken cancellationToken)
    {
        _subscription ??= notifier.Subscribe(UserScope.System, change =>
        {
            _changes.Writer.TryWrite(change);
            return Task.CompletedTask;
        });
        return base.StartAsync(cancellationToken);
    }

    /// <inheritdoc />
    public override void Dispose()
    {
        Interlocked.Exchange(ref _subscription, null)?.Dispose();
        base.Dispose();
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var change in _changes.Reader.ReadAllAsync(stoppingToken).ConfigureAwait(false))
            {
                try
                {
                    await OnChangeAsync(change.Alarm, stoppingToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OperationCanceledException and not OutOfMemoryException)
                {
                    // One alarm's camera (a bad URL, a database hiccup) must not stop the pulls of the next ones.
                    logger.LogWarning(ex, "Could not start the gate camera for alarm {AlarmId}", change.Alarm.Id);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            Interlocked.Exchange(ref _subscription, null)?.Dispose();
            lock (_holds)
            {
                foreach (var hold in _holds.Values)
                {
                    hold.Dispose();
                }

                _holds.Clear();
            }
        }
    }

    private async Task OnChangeAsync(AlarmView alarm, CancellationToken ct)
    {
        if (!alarm.IsOpen)
        {
            IDisposable? released;
            lock (_holds)
            {
                _holds.Remove(alarm.Id, out released);
            }

            released?.Dispose();
            return;
        }

        lock (_holds)
        {
            if (_holds.ContainsKey(alarm.Id) || _holds.Count >= options.Value.MaxAlarmCameraPulls)
            {
                return;
            }
        }

        var camera = (await devices.GetManyBySchoolIdAsync(alarm.SchoolId, ct).ConfigureAwait(false))
            .FirstOrDefault(d => d.Kind == DeviceKind.GateCamera && d.Enabled);
        if (camera is null || resolver.Resolve(camera) is not { } resolved)
        {
            return;
        }

        var hold = cameras.Hub.Hold(resolved.Stream);
        lock (_holds)
        {
            _holds[alarm.Id] = hold;
        }

        logger.LogDebug("Alarm {AlarmId}: pulling gate camera {Camera} ahead of the pop-up", alarm.Id, resolved.Stream);
    }
}
