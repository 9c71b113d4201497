using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Portal.Simulator.Cameras;

/// <summary>
/// A simulated gate camera: an RTSP server streaming the looping test clip and an ONVIF endpoint for PTZ and
/// the warning light. Start one per test or per demo school; ports are chosen freely unless set.
/// </summary>
/// <example>
/// <code>
/// await using var camera = await SimulatedCamera.StartAsync(new SimulatedCameraOptions());
/// // camera.RtspUri  rtsp://127.0.0.1:41234/Streaming/Channels/101   (user "admin", password "gate-cam-1")
/// // camera.OnvifDeviceUri  http://127.0.0.1:41235/onvif/device_service
/// // camera.State.Position, camera.State.WarningLightOn
/// </code>
/// </example>
public sealed class SimulatedCamera : IAsyncDisposable
{
    private SimulatedCamera(SimulatedCameraOptions options, SimulatedRtspServer rtsp, SimulatedOnvifService onvif, SimulatedCameraState state)
    {
        Options = options;
        Rtsp = rtsp;
        Onvif = onvif;
        State = state;
    }

    public SimulatedCameraOptions Options { get; }

    public SimulatedRtspServer Rtsp { get; }

    public SimulatedOnvifService Onvif { get; }

    public SimulatedCameraState State { get; }

    public Uri RtspUri => Rtsp.Uri;

    public int RtspPort => Rtsp.Port;

    public Uri OnvifDeviceUri => Onvif.DeviceServiceUri;

    public int OnvifPort => Onvif.Port;

    /// <summary>The cameras behind this one's ports (<see cref="SimulatedCameraOptions.Fleet"/>), or null.</summary>
    public SimulatedCameraFleet? Fleet => Options.Fleet;

    public static async Task<SimulatedCamera> StartAsync(SimulatedCameraOptions? options = null, ILoggerFactory? loggerFactory = null, TimeProvider? timeProvider = null, CancellationToken cancellationToken = default)
    {
        options ??= new SimulatedCameraOptions();
        var time = timeProvider ?? TimeProvider.System;
        var state = new SimulatedCameraState(time);
        var rtsp = new SimulatedRtspServer(options, (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger<SimulatedRtspServer>(), time);
        rtsp.Start();
        var onvif = new SimulatedOnvifService(options, state, () => rtsp.Uri, time);
        try
        {
            await onvif.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await rtsp.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return new SimulatedCamera(options, rtsp, onvif, state);
    }

    public async ValueTask DisposeAsync()
    {
        await Onvif.DisposeAsync().ConfigureAwait(false);
        await Rtsp.DisposeAsync().ConfigureAwait(false);
    }
}
