using System.Collections.Concurrent;
using System.Net;
using Portal.Core.Devices;
using Portal.Core.Health;
using Portal.Media.Onvif;
using Portal.Media.Rtsp;
using Portal.Services;

namespace Portal.Health;

/// <summary>
/// Probes a gate camera the way the media plane will use it: RTSP DESCRIBE with the camera's own credentials
/// (<see cref="RtspProbe"/>: no SETUP, so no stream starts; the camera's last Digest challenge is answered up front,
/// <see cref="RtspProbeMemory"/>, so a healthy camera costs one request) and, beside it, the ONVIF device service's
/// GetSystemDateAndTime. Both run at once under the one time-out, so a camera costs at most that.
/// </summary>
/// <remarks>
/// Verdicts: RTSP answers with H.264 and ONVIF answers → ok. RTSP answers but ONVIF does not, the credentials are
/// refused, there is no H.264 track, or the answer is an error or garbage (a 10 MB header is refused by the reader's
/// limit) → degraded: the camera is there but the console would not get what it needs. No TCP connection, a time-out,
/// or a connection broken mid-message → failed (a missed interval).
/// </remarks>
public sealed class CameraHealthProbe(GateCameraResolver resolver, DevicePasswordCache passwords, IHttpClientFactory httpClients, TimeProvider time) : ICameraProbe
{
    /// <summary>The named HttpClient for ONVIF health calls: short time-out, small response buffer.</summary>
    public const string HttpClientName = "health-onvif";

    private const int MaxRemembered = 100_000;

    // Each camera's last Digest challenge, by device (a new address or login starts afresh: RtspProbeMemory).
    private readonly ConcurrentDictionary<int, RtspProbeMemory> _rtsp = new();

    /// <inheritdoc />
    public async Task<ProbeResult> ProbeAsync(HealthTarget camera, TimeSpan timeout, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(camera);
        var device = new Device
        {
            Id = camera.DeviceId,
            SchoolId = camera.SchoolId,
            Kind = DeviceKind.GateCamera,
            Model = string.Empty,
            SerialNumber = camera.SerialNumber,
            RtspUrl = camera.RtspUrl,
            OnvifUrl = camera.OnvifUrl,
            Username = camera.Username,
            SecretProtected = camera.SecretProtected,
            Enabled = true,
        };
        if (resolver.Resolve(device, passwords.Unprotect(camera.DeviceId, camera.SecretProtected) ?? string.Empty) is not { } resolved)
        {
            return new ProbeResult(ProbeVerdict.Degraded, "no usable RTSP address");
        }

        var credential = resolved.Stream.Username is { } user ? new NetworkCredential(user, resolved.Stream.Password ?? string.Empty) : null;
        if (!_rtsp.TryGetValue(camera.DeviceId, out var memory))
        {
            if (_rtsp.Count >= MaxRemembered)
            {
                _rtsp.Clear();
            }

            memory = _rtsp.GetOrAdd(camera.DeviceId, _ => new RtspProbeMemory());
        }

        var rtspTask = RtspProbe.ProbeAsync(resolved.Stream.RtspUri, credential, timeout, time, ct, memory: memory);
        var onvifTask = resolved.OnvifUri is { } onvif ? OnvifAsync(onvif, timeout, ct) : Task.FromResult<string?>(null);
        var rtsp = await rtspTask.ConfigureAwait(false);
        var onvifError = await onvifTask.ConfigureAwait(false);
        return rtsp.Status switch
        {
            RtspProbeStatus.Online when onvifError is null => new ProbeResult(ProbeVerdict.Ok, rtsp.Detail),
            RtspProbeStatus.Online => new ProbeResult(ProbeVerdict.Degraded, "ONVIF: " + onvifError),
            RtspProbeStatus.AuthenticationFailed => new ProbeResult(ProbeVerdict.Degraded, "RTSP credentials refused"),
            RtspProbeStatus.NoVideo or RtspProbeStatus.Refused => new ProbeResult(ProbeVerdict.Degraded, "RTSP: " + rtsp.Detail),
            _ => new ProbeResult(ProbeVerdict.Failed, "RTSP " + rtsp.Status + ": " + rtsp.Detail),
        };
    }

    /// <summary>Null when the ONVIF device service answered GetSystemDateAndTime; otherwise why not (<see cref="OnvifProbe"/>: a request built once, the answer checked, not parsed).</summary>
    private async Task<string?> OnvifAsync(Uri service, TimeSpan timeout, CancellationToken ct)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(timeout);
        try
        {
            var error = await OnvifProbe.GetSystemDateAndTimeAsync(httpClients.CreateClient(HttpClientName), service, deadline.Token).ConfigureAwait(false);
            return error is null || error.Length <= 200 ? error : error[..200];
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return "no answer in time";
        }
        catch (InvalidOperationException ex)
        {
            return ex.Message.Length <= 200 ? ex.Message : ex.Message[..200];
        }
    }
}
