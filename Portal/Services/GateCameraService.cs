using System.Net;
using Microsoft.Extensions.Options;
using Portal.Core.Alarms;
using Portal.Core.Audit;
using Portal.Core.Devices;
using Portal.Core.Security;
using Portal.Media.Bridges;
using Portal.Media.WebRtc;

namespace Portal.Services;

/// <summary>
/// The portal's media plane toward browsers: one WebRTC endpoint (one UDP port, ICE-lite) and one camera hub
/// (one RTSP pull per camera, shared by every viewer). Components open a school's gate camera through
/// <see cref="OpenAsync"/>, which checks the user's scope first: who may not see the school gets nothing.
/// </summary>
public sealed class GateCameraService(
    IOptions<PortalOptions> options,
    DeviceService devices,
    GateCameraResolver resolver,
    AlarmService alarms,
    CameraAuditRepository audit,
    IHttpClientFactory httpClients,
    ILoggerFactory loggerFactory,
    TimeProvider time) : IHostedService, IAsyncDisposable
{
    public const string OnvifHttpClient = "onvif";

    /// <summary>The HTTP client of the camera models' keyframe hooks (issue #15); logs no header values.</summary>
    public const string KeyframeHookHttpClient = "camera-keyframe-hook";

    private WebRtcEndpoint? _endpoint;
    private CameraHub? _hub;

    /// <summary>The ICE servers for the browser's RTCPeerConnection, from configuration.</summary>
    public IReadOnlyList<IceServerOptions> IceServers => options.Value.IceServers;

    /// <summary>The UDP port browsers send media to (the configured one, or the free one picked when 0).</summary>
    public int WebRtcPort => _endpoint?.LocalEndPoint.Port ?? 0;

    internal WebRtcEndpoint Endpoint => _endpoint ?? throw new InvalidOperationException("The media plane is not started.");

    internal CameraHub Hub => _hub ?? throw new InvalidOperationException("The media plane is not started.");

    /// <summary>Every camera pulled now or before: state, viewers, and how it answers keyframe requests (admin diagnostics).</summary>
    public IReadOnlyList<CameraPullStatus> GetPulls() => _hub?.GetPulls() ?? [];

    internal AlarmService Alarms => alarms;

    internal CameraAuditRepository Audit => audit;

    internal TimeProvider Time => time;

    internal ILogger Logger { get; } = loggerFactory.CreateLogger<GateCameraService>();

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var announced = IPAddress.TryParse(options.Value.WebRtcAnnouncedAddress, out var address) ? address : IPAddress.Loopback;
        var bind = IPAddress.TryParse(options.Value.WebRtcBindAddress, out var configured) ? configured
            : IPAddress.IsLoopback(announced) ? announced : IPAddress.Any;
        _endpoint = new WebRtcEndpoint(
            new WebRtcEndpointOptions { BindAddress = bind, Port = options.Value.WebRtcPort, AnnouncedAddress = announced },
            loggerFactory,
            time);
        _endpoint.Start();
        _hub = new CameraHub(
            new CameraHubOptions { IdleTimeout = TimeSpan.FromSeconds(Math.Max(1, options.Value.CameraIdleTimeoutSeconds)) },
            loggerFactory,
            time,
            options.Value.CameraKeyframeHooks.Count > 0 ? httpClients.CreateClient(KeyframeHookHttpClient) : null);
        Logger.LogInformation("WebRTC media on UDP {Port}, announced as {Address}", WebRtcPort, announced);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => DisposeAsync().AsTask();

    /// <summary>
    /// The school's gate camera as this user may use it, or null when the school is outside the user's scope,
    /// has no (enabled) gate camera, or its address is unusable. <paramref name="wall"/>: opened on the camera wall (for the audit).
    /// </summary>
    public async Task<GateCameraHandle?> OpenAsync(UserScope scope, int schoolId, int? alarmId, string? remoteAddress, bool wall = false, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(scope);

        // An alarm transferred to another district's centre is that centre's to handle, camera included, though
        // the school lies outside its district: the alarm in the user's scope opens its school's camera.
        var viaAlarm = alarmId is { } id && scope.Role is Roles.CityOperator or Roles.DistrictOperator
            && await alarms.GetAsync(scope, id, ct).ConfigureAwait(false) is { } alarm && alarm.SchoolId == schoolId;
        var camera = (await devices.GetBySchoolAsync(viaAlarm ? UserScope.System : scope, schoolId, ct).ConfigureAwait(false))
            .FirstOrDefault(d => d.Kind == DeviceKind.GateCamera && d.Enabled);
        if (camera is null || resolver.Resolve(camera) is not { } resolved)
        {
            return null;
        }

        var mayControl = scope.Role is Roles.CityOperator or Roles.DistrictOperator;
        var onvif = mayControl && resolved.OnvifUri is { } uri
            ? new Media.Onvif.OnvifClient(httpClients.CreateClient(OnvifHttpClient), uri, resolved.Username, resolved.Password, timeProvider: time)
            : null;
        var origin = alarmId is not null ? CameraOrigin.AlarmPopup : wall ? CameraOrigin.CameraWall : CameraOrigin.SchoolPage;
        return new GateCameraHandle(this, camera, resolved, scope, onvif, alarmId, remoteAddress, origin);
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _hub, null) is { } hub)
        {
            await hub.DisposeAsync().ConfigureAwait(false);
        }

        if (Interlocked.Exchange(ref _endpoint, null) is { } endpoint)
        {
            await endpoint.DisposeAsync().ConfigureAwait(false);
        }
    }
}
