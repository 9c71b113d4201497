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
/// mode: there one in-process simulated camera stands in for every demo camera (the demo city's
/// <c>cam-NNNNN.school.local</c> names resolve nowhere), speaking real RTSP and ONVIF on 127.0.0.1 with the
/// demo devices' own password. Credentials always come from the device row, decrypted by <see cref="DeviceSecrets"/>.
/// </summary>
public sealed class GateCameraResolver(IOptions<PortalOptions> options, DeviceSecrets secrets, ILoggerFactory loggerFactory, TimeProvider time)
    : IHostedService, IAsyncDisposable
{
    private SimulatedCamera? _demoCamera;

    /// <summary>The simulated camera's state in demo mode (null otherwise); for the admin diagnostics endpoint.</summary>
    public SimulatedCameraState? DemoCameraState => _demoCamera?.State;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (options.Value.DemoMode)
        {
            _demoCamera = await SimulatedCamera.StartAsync(
                new SimulatedCameraOptions { Username = "admin", Password = Portal.Core.Demo.DemoCity.DemoDevicePassword },
                loggerFactory,
                time,
                cancellationToken).ConfigureAwait(false);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => DisposeAsync().AsTask();

    public ResolvedCamera? Resolve(Device device)
    {
        ArgumentNullException.ThrowIfNull(device);
        if (device.Kind != DeviceKind.GateCamera || !device.Enabled || !Uri.TryCreate(device.RtspUrl, UriKind.Absolute, out var rtsp))
        {
            return null;
        }

        Uri.TryCreate(device.OnvifUrl, UriKind.Absolute, out var onvif);
        if (_demoCamera is { } demo)
        {
            rtsp = Uri.TryCreate(options.Value.DemoCameraRtspUrl, UriKind.Absolute, out var stand) ? stand : demo.RtspUri;
            onvif = demo.OnvifDeviceUri;
        }

        var username = device.Username ?? string.Empty;
        var password = secrets.Unprotect(device.SecretProtected) ?? string.Empty;
        var rtspUser = _demoCamera is not null && options.Value.DemoCameraRtspUrl is { Length: > 0 } ? string.Empty : username; // the stand-in asks for no password
        return new ResolvedCamera(new CameraEndpoint(rtsp, rtspUser.Length == 0 ? null : rtspUser, password, RtspTransport.Tcp, device.RtspAllowBasicAuth), onvif, username, password);
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _demoCamera, null) is { } camera)
        {
            await camera.DisposeAsync().ConfigureAwait(false);
        }
    }
}
