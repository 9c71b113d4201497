using Portal.Core.Audit;
using Portal.Core.Devices;
using Portal.Core.Security;
using Portal.Media.Bridges;
using Portal.Media.Onvif;
using Portal.Media.Rtsp;
using Portal.Media.WebRtc;

namespace Portal.Services;

/// <summary>What a viewer sees of the camera: waiting for the picture, playing, or the camera unreachable.</summary>
public enum GateCameraStatus
{
    Connecting,
    Playing,
    Offline,

    /// <summary>The camera refused our credentials (RTSP 401).</summary>
    AuthFailed,
}

/// <summary>
/// One component's hold on one school's gate camera, already authorized by <see cref="GateCameraService.OpenAsync"/>:
/// the live video for one browser session at a time, and (police only) PTZ and the warning light. Every view and every
/// command goes into the camera audit (who, which school, when, from where), and into the alarm's timeline when the
/// camera was opened for an alarm.
/// </summary>
public sealed class GateCameraHandle : IAsyncDisposable
{
    private static readonly TimeSpan MoveTimeout = TimeSpan.FromSeconds(10);

    private readonly GateCameraService _service;
    private readonly ResolvedCamera _camera;
    private readonly UserScope _scope;
    private readonly OnvifClient? _onvif;
    private readonly int? _alarmId;
    private readonly string? _remoteAddress;
    private readonly CameraOrigin _origin;
    private readonly Lock _gate = new();
    private WebRtcPeer? _peer;
    private RtspToWebRtcBridge? _bridge;
    private string? _profileToken;

    internal GateCameraHandle(GateCameraService service, Device device, ResolvedCamera camera, UserScope scope, OnvifClient? onvif, int? alarmId, string? remoteAddress, CameraOrigin origin)
    {
        _origin = origin;
        _service = service;
        Device = device;
        _camera = camera;
        _scope = scope;
        _onvif = onvif;
        _alarmId = alarmId;
        _remoteAddress = remoteAddress;
    }

    public Device Device { get; }

    /// <summary>Police operators may steer the camera and switch the light; everyone else only watches.</summary>
    public bool CanControl => _onvif is not null;

    public GateCameraStatus Status
    {
        get
        {
            WebRtcPeer? peer;
            lock (_gate)
            {
                peer = _peer;
            }

            if (peer is null || peer.State is WebRtcPeerState.Failed or WebRtcPeerState.Closed)
            {
                return GateCameraStatus.Offline;
            }

            return _service.Hub.GetState(_camera.Stream) switch
            {
                RtspSourceState.Playing => GateCameraStatus.Playing,
                RtspSourceState.WaitingToRetry or RtspSourceState.Stopped =>
                    _service.Hub.GetLastError(_camera.Stream) is RtspException { StatusCode: 401 } ? GateCameraStatus.AuthFailed : GateCameraStatus.Offline,
                _ => GateCameraStatus.Connecting,
            };
        }
    }

    /// <summary>
    /// Answers the browser's offer (recvonly H.264 video) and starts the camera on it once DTLS is up. Any previous
    /// session of this handle is closed first. Null when the offer cannot be served.
    /// </summary>
    public async Task<string?> ConnectAsync(string offerSdp)
    {
        await DisconnectAsync().ConfigureAwait(false);
        if (!_service.Endpoint.TryCreatePeer(offerSdp, out var peer, out var error))
        {
            _service.Logger.LogWarning("Camera offer for device {DeviceId} refused: {Error}", Device.Id, error);
            return null;
        }

        lock (_gate)
        {
            _peer = peer;
        }

        _ = AttachAsync(peer);
        await AuditAsync(CameraAction.View, null).ConfigureAwait(false);
        return peer.AnswerSdp;
    }

    /// <summary>Closes the browser session (the camera pull stays a little while for the next viewer).</summary>
    public async Task DisconnectAsync()
    {
        WebRtcPeer? peer;
        RtspToWebRtcBridge? bridge;
        lock (_gate)
        {
            (peer, bridge) = (_peer, _bridge);
            (_peer, _bridge) = (null, null);
        }

        bridge?.Dispose();
        if (peer is not null)
        {
            await peer.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Starts a continuous move (velocities -1..1); the camera stops by itself after 10 s if no stop arrives.</summary>
    public async Task MoveAsync(double pan, double tilt, double zoom, string what, CancellationToken ct = default)
    {
        var (onvif, profile) = await ControlAsync(ct).ConfigureAwait(false);
        await onvif.ContinuousMoveAsync(profile, pan, tilt, zoom, MoveTimeout, ct).ConfigureAwait(false);
        await AuditAsync(CameraAction.PtzMove, what).ConfigureAwait(false);
        await RecordAsync("PTZ " + what, ct).ConfigureAwait(false);
    }

    public async Task StopAsync(CancellationToken ct = default)
    {
        var (onvif, profile) = await ControlAsync(ct).ConfigureAwait(false);
        await onvif.StopAsync(profile, ct).ConfigureAwait(false);
        await AuditAsync(CameraAction.PtzStop, null).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<OnvifPreset>> GetPresetsAsync(CancellationToken ct = default)
    {
        var (onvif, profile) = await ControlAsync(ct).ConfigureAwait(false);
        return await onvif.GetPresetsAsync(profile, ct).ConfigureAwait(false);
    }

    public async Task GotoPresetAsync(OnvifPreset preset, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(preset);
        var (onvif, profile) = await ControlAsync(ct).ConfigureAwait(false);
        await onvif.GotoPresetAsync(profile, preset.Token, ct).ConfigureAwait(false);
        await AuditAsync(CameraAction.Preset, $"{preset.Name} ({preset.Token})").ConfigureAwait(false);
        await RecordAsync($"PTZ preset {preset.Name} ({preset.Token})", ct).ConfigureAwait(false);
    }

    /// <summary>Switches the warning light/siren through the camera's first relay output, or an auxiliary command if it has none.</summary>
    public async Task SetWarningLightAsync(bool on, CancellationToken ct = default)
    {
        var (onvif, profile) = await ControlAsync(ct).ConfigureAwait(false);
        var relays = await onvif.GetRelayOutputsAsync(ct).ConfigureAwait(false);
        if (relays.Count > 0)
        {
            await onvif.SetRelayOutputStateAsync(relays[0], on, ct).ConfigureAwait(false);
        }
        else
        {
            await onvif.SendAuxiliaryCommandAsync(profile, on ? "tt:WarningLight|On" : "tt:WarningLight|Off", ct).ConfigureAwait(false);
        }

        await AuditAsync(on ? CameraAction.WarningLightOn : CameraAction.WarningLightOff, null).ConfigureAwait(false);
        await RecordAsync(on ? "Warning light/siren on" : "Warning light/siren off", ct).ConfigureAwait(false);
    }

    public ValueTask DisposeAsync() => new(DisconnectAsync());

    private async Task AttachAsync(WebRtcPeer peer)
    {
        try
        {
            var bridge = await RtspToWebRtcBridge.AttachAsync(_service.Hub, _camera.Stream, peer, CancellationToken.None).ConfigureAwait(false);
            lock (_gate)
            {
                if (_peer == peer)
                {
                    _bridge = bridge;
                    return;
                }
            }

            bridge.Dispose(); // the component moved on while DTLS was coming up
        }
        catch (Exception ex) when (ex is ObjectDisposedException or InvalidOperationException or TimeoutException or IOException)
        {
            _service.Logger.LogInformation("Camera session for device {DeviceId} ended before it started: {Reason}", Device.Id, ex.Message);
        }
    }

    private async Task<(OnvifClient Onvif, string Profile)> ControlAsync(CancellationToken ct)
    {
        var onvif = _onvif ?? throw new ScopeDeniedException($"Role {_scope.Role} may not control cameras.");
        if (_profileToken is null)
        {
            var profiles = await onvif.GetProfilesAsync(ct).ConfigureAwait(false);
            _profileToken = (profiles.Count > 0 ? profiles[0].Token : null) ?? throw new OnvifException("The camera has no media profile.");
        }

        return (onvif, _profileToken);
    }

    /// <summary>
    /// Writes the camera audit row after the command went out. A failed write never undoes or blocks the command (an
    /// operator mid-emergency must not wait for the database); the row then goes to the log in full instead.
    /// </summary>
    private async Task AuditAsync(CameraAction action, string? detail)
    {
        var entry = new CameraAuditEntry
        {
            AtUtc = _service.Time.GetUtcNow().UtcDateTime,
            UserId = _scope.UserId,
            UserName = _scope.UserName,
            Role = _scope.Role,
            SchoolId = Device.SchoolId,
            DeviceId = Device.Id,
            AlarmId = _alarmId,
            Origin = _origin,
            Action = action,
            Detail = detail,
            RemoteAddress = _remoteAddress,
        };
        try
        {
            await _service.Audit.AddAsync(entry, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is System.Data.Common.DbException or InvalidOperationException or TimeoutException)
        {
            _service.Logger.LogError(ex, "Camera audit row not written: {Entry}", entry);
        }
    }

    private async Task RecordAsync(string what, CancellationToken ct)
    {
        if (_alarmId is { } id)
        {
            await _service.Alarms.RecordCameraActionAsync(_scope, id, what, _remoteAddress, ct).ConfigureAwait(false);
        }
    }
}
