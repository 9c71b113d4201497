using Microsoft.Extensions.Options;
using Portal.Core.Devices;
using Portal.Media.Bridges;
using Portal.Media.Rtsp;
using Portal.Simulator.Cameras;

namespace Portal.Services;

/// <summary>Where a gate camera really is: its RTSP stream, ONVIF service and credentials.</summary>
public sealed record ResolvedCamera(CameraEndpoint Stream, Uri? OnvifUri, string Username, string Password);

/// <summary>
/// Turns a camera device into addresses the media plane can reach, and is the one place that knows about demo
/// mode: there one in-process simulated camera fleet stands in for every demo camera (the demo city's
/// <c>cam-NNNNN.school.local</c> names resolve nowhere), each on its own path, speaking real RTSP and ONVIF on
/// 127.0.0.1 with the demo devices' own password, each up or down on its own, so the health checks probe every demo
/// camera for real. Every demo camera answers until an administrator takes it down (so the first check of a camera
/// the demo programme has as installed finds it, as on a real site, and marks it connected; viewers see every demo camera). Cameras
/// with a real address are used as they are, in demo mode too. Credentials always come from the device row,
/// decrypted by <see cref="DeviceSecrets"/>.
/// </summary>
public sealed class GateCameraResolver(IOptions<PortalOptions> options, DeviceSecrets secrets, ILoggerFactory loggerFactory, TimeProvider time)
    : IHostedService, IAsyncDisposable
{
    /// <summary>The host suffix of the demo city's camera addresses.</summary>
    public const string DemoHostSuffix = ".school.local";

    private static readonly string SimulatedCameraOptionsPath = new SimulatedCameraOptions().Path;

    private SimulatedCamera? _demoCamera;

    // A fleet in another process (PortalOptions.DemoFleetRtspUrl/DemoFleetOnvifUrl) in place of the in-process one.
    private (Uri Rtsp, Uri Onvif)? _externalFleet;

    /// <summary>The simulated camera's state in demo mode (null otherwise); for the admin diagnostics endpoint.</summary>
    public SimulatedCameraState? DemoCameraState => _demoCamera?.State;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (options.Value.DemoMode && Uri.TryCreate(options.Value.DemoFleetRtspUrl, UriKind.Absolute, out var fleetRtsp)
            && Uri.TryCreate(options.Value.DemoFleetOnvifUrl, UriKind.Absolute, out var fleetOnvif))
        {
            _externalFleet = (fleetRtsp, fleetOnvif);
        }
        else if (options.Value.DemoMode)
        {
            _demoCamera = await SimulatedCamera.StartAsync(
                new SimulatedCameraOptions { Username = "admin", Password = Portal.Core.Demo.DemoCity.DemoDevicePassword, Fleet = new SimulatedCameraFleet() },
                loggerFactory,
                time,
                cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The demo fleet (demo mode only), for the administrator's diagnostics: take a demo camera down or up.</summary>
    public SimulatedCameraFleet? DemoFleet => _demoCamera?.Fleet;

    /// <summary>The fleet name of a demo camera address (<c>rtsp://cam-00042.school.local/...</c> → <c>cam-00042</c>), or null.</summary>
    public static string? DemoName(string? url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Host.EndsWith(DemoHostSuffix, StringComparison.OrdinalIgnoreCase)
            ? uri.Host[..^DemoHostSuffix.Length]
            : null;

    public Task StopAsync(CancellationToken cancellationToken) => DisposeAsync().AsTask();

    public ResolvedCamera? Resolve(Device device) => Resolve(device, null);

    /// <summary>
    /// As <see cref="Resolve(Device)"/>, with the device's password already decrypted (<paramref name="password"/>; null:
    /// decrypt the row's own), for the health probe's <see cref="DevicePasswordCache"/>.
    /// </summary>
    public ResolvedCamera? Resolve(Device device, string? password)
    {
        ArgumentNullException.ThrowIfNull(device);
        if (device.Kind != DeviceKind.GateCamera || !device.Enabled || !Uri.TryCreate(device.RtspUrl, UriKind.Absolute, out var rtsp))
        {
            return null;
        }

        Uri.TryCreate(device.OnvifUrl, UriKind.Absolute, out var onvif);
        var standIn = false;
        if (_externalFleet is { } fleet && DemoName(device.RtspUrl) is { } fleetName)
        {
            // The same paths the in-process fleet serves (SimulatedRtspServer.UriOf, SimulatedOnvifService.DeviceServiceUriOf).
            rtsp = new Uri(fleet.Rtsp, "/" + fleetName + SimulatedCameraOptionsPath);
            onvif = new Uri(fleet.Onvif, "/" + fleetName + "/onvif/device_service");
        }
        else if (_demoCamera is { } demo && DemoName(device.RtspUrl) is { } name)
        {
            // The media benchmark may stand another RTSP server (GStreamer) in for every demo camera's stream.
            standIn = Uri.TryCreate(options.Value.DemoCameraRtspUrl, UriKind.Absolute, out var stand);
            rtsp = standIn ? stand! : demo.Rtsp.UriOf(name);
            onvif = demo.Onvif.DeviceServiceUriOf(name);
        }

        var username = device.Username ?? string.Empty;
        password ??= secrets.Unprotect(device.SecretProtected) ?? string.Empty;
        var rtspUser = standIn ? string.Empty : username; // the stand-in asks for no password
        var hook = KeyframeHook(device.Model, rtsp, username, password);
        var endpoint = new CameraEndpoint(rtsp, rtspUser.Length == 0 ? null : rtspUser, password, RtspTransport.Tcp, device.RtspAllowBasicAuth, hook, SubStream(device, username, password));
        return new ResolvedCamera(endpoint, onvif, username, password);
    }

    /// <summary>
    /// The camera's sub-stream (issue #15), when an administrator set one: same login as the main stream. A demo camera's
    /// sub-stream is the demo fleet's camera (or the configured stand-in); a real address is used as it is.
    /// </summary>
    private CameraEndpoint? SubStream(Device device, string username, string password)
    {
        if (!Uri.TryCreate(device.RtspSubStreamUrl, UriKind.Absolute, out var sub))
        {
            return null;
        }

        var standIn = false;
        if (_demoCamera is { } demo && DemoName(device.RtspSubStreamUrl) is { } name)
        {
            standIn = Uri.TryCreate(options.Value.DemoCameraRtspSubStreamUrl, UriKind.Absolute, out var stand);
            sub = standIn ? stand! : demo.Rtsp.UriOf(name);
        }

        var user = standIn ? string.Empty : username;
        return new CameraEndpoint(sub, user.Length == 0 ? null : user, password, RtspTransport.Tcp, device.RtspAllowBasicAuth);
    }

    /// <summary>
    /// The model's keyframe hook (issue #15), if configured, at the camera's host. The hook's credentials are the
    /// camera's own login from the device row.
    /// </summary>
    private CameraKeyframeHook? KeyframeHook(string model, Uri rtsp, string username, string password)
    {
        var configured = options.Value.CameraKeyframeHooks.FirstOrDefault(h => string.Equals(h.Model, model, StringComparison.OrdinalIgnoreCase));
        if (configured is null)
        {
            return null;
        }

        var hook = configured.Build(rtsp.Host, username, password, out var problem);
        if (hook is null)
        {
            loggerFactory.CreateLogger<GateCameraResolver>().LogError("Keyframe hook for model {Model} is not used: {Problem}", model, problem);
            return null;
        }

        return hook;
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _demoCamera, null) is { } camera)
        {
            await camera.DisposeAsync().ConfigureAwait(false);
        }
    }
}
