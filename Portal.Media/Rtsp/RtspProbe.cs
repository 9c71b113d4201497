using System.Net;
using System.Net.Sockets;
using Portal.Media.Core;

namespace Portal.Media.Rtsp;

/// <summary>What a health probe found at a camera's RTSP URL.</summary>
public enum RtspProbeStatus
{
    /// <summary>DESCRIBE answered with an H.264 video track.</summary>
    Online,

    /// <summary>No TCP connection, or the connection broke.</summary>
    Unreachable,

    /// <summary>No answer within the timeout.</summary>
    Timeout,

    /// <summary>The camera refused the configured credentials.</summary>
    AuthenticationFailed,

    /// <summary>The camera answered with an error (404 for a wrong path, 5xx) or nonsense.</summary>
    Refused,

    /// <summary>The camera answered, but offers no H.264 video.</summary>
    NoVideo,
}

/// <summary>One probe's outcome, for the device health job (DESIGN.md "Health": RTSP OPTIONS/DESCRIBE).</summary>
public sealed record RtspProbeResult(RtspProbeStatus Status, string Detail, TimeSpan Elapsed)
{
    public bool IsOnline => Status == RtspProbeStatus.Online;
}

/// <summary>Checks a camera with OPTIONS and DESCRIBE and hangs up: no SETUP, so no stream is started.</summary>
public static class RtspProbe
{
    /// <summary>Never throws for camera trouble; only <paramref name="cancellationToken"/> ends it with an exception.</summary>
    public static async Task<RtspProbeResult> ProbeAsync(Uri uri, NetworkCredential? credential, TimeSpan timeout, TimeProvider? timeProvider, CancellationToken cancellationToken, bool allowBasicAuth = false)
    {
        var time = timeProvider ?? TimeProvider.System;
        var started = time.GetTimestamp();
        RtspProbeResult Result(RtspProbeStatus status, string detail) => new(status, detail, time.GetElapsedTime(started));

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        var client = new RtspClient(uri, credential, RtspTransport.Tcp, timeProvider: time, allowBasicAuth: allowBasicAuth) { RequestTimeout = timeout };
        await using (client.ConfigureAwait(false))
        {
            try
            {
                await client.ConnectAsync(deadline.Token).ConfigureAwait(false);
                await client.OptionsAsync(deadline.Token).ConfigureAwait(false);
                await client.DescribeAsync(deadline.Token).ConfigureAwait(false);
                var video = client.Tracks.FirstOrDefault(t => t.Kind == MediaKind.Video && t.Codec.Name == Codec.H264);
                return video is null
                    ? Result(RtspProbeStatus.NoVideo, "DESCRIBE offers no H.264 video track.")
                    : Result(RtspProbeStatus.Online, video.Codec.ToString());
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                return Result(RtspProbeStatus.Timeout, $"No answer within {timeout.TotalSeconds:0.#} s.");
            }
            catch (RtspAuthenticationException ex)
            {
                return Result(RtspProbeStatus.AuthenticationFailed, ex.Message);
            }
            catch (RtspException ex) when (ex.StatusCode is not null || ex.InnerException is InvalidDataException)
            {
                return Result(RtspProbeStatus.Refused, ex.Message);
            }
            catch (RtspException ex) when (ex.InnerException is TimeoutException)
            {
                return Result(RtspProbeStatus.Timeout, ex.Message);
            }
            catch (Exception ex) when (ex is RtspException or SocketException or IOException)
            {
                return Result(RtspProbeStatus.Unreachable, ex.Message);
            }
        }
    }
}
