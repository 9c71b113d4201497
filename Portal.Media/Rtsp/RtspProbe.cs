using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Portal.Media.Core;
using Portal.Media.Sdp;

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

/// <summary>One probe's outcome, for the device health job (DESIGN.md "Health": RTSP DESCRIBE).</summary>
public sealed record RtspProbeResult(RtspProbeStatus Status, string Detail, TimeSpan Elapsed)
{
    public bool IsOnline => Status == RtspProbeStatus.Online;
}

/// <summary>
/// What the health probe keeps of one camera between probes (issue #12): the Digest challenge (realm, nonce, opaque) it last
/// answered, for the login and address it was answered with. The next probe sends its DESCRIBE already authorised, so a
/// healthy camera costs one request; a camera whose nonce went stale (a 401 with stale=true or a new nonce) is asked
/// once more with the new one. A new login or address starts afresh. One probe of a camera at a time (the health check
/// never runs two).
/// </summary>
public sealed class RtspProbeMemory
{
    private Entry? _entry;

    /// <summary>True when the next probe will send its first request authorised.</summary>
    public bool HasChallenge => Volatile.Read(ref _entry)?.Auth.HasChallenge == true;

    internal RtspAuthenticator AuthenticatorFor(string requestUrl, NetworkCredential? credential, bool allowBasic)
    {
        var entry = Volatile.Read(ref _entry);
        if (entry is null || entry.AllowBasic != allowBasic || !string.Equals(entry.RequestUrl, requestUrl, StringComparison.Ordinal)
            || !string.Equals(entry.UserName, credential?.UserName, StringComparison.Ordinal) || !string.Equals(entry.Password, credential?.Password, StringComparison.Ordinal))
        {
            entry = new Entry(requestUrl, credential?.UserName, credential?.Password, allowBasic, new RtspAuthenticator(credential, allowBasic));
            Volatile.Write(ref _entry, entry);
        }

        return entry.Auth;
    }

    /// <summary>One camera's login and its authenticator; <see cref="ToString"/> is overridden so no log or debugger display shows the password.</summary>
    private sealed record Entry(string RequestUrl, string? UserName, string? Password, bool AllowBasic, RtspAuthenticator Auth)
    {
        public override string ToString() => "RtspProbeMemory.Entry";
    }
}

/// <summary>
/// Checks a camera with one DESCRIBE on a connection of its own and hangs up: no SETUP, so no stream is started
/// (DESCRIBE answered with an SDP proves the address, the path, the login and the H.264 track; OPTIONS would add a round
/// trip and nothing the check needs). The request, the answer and the SDP are read and written in this one method on
/// one socket: no read loop, no per-request task, a reader sized for a DESCRIBE answer (a health check runs for every
/// camera every minute). With a <see cref="RtspProbeMemory"/>, the camera's last Digest challenge is answered up front.
/// </summary>
public static class RtspProbe
{
    /// <summary>The longest header block read (a longer one is garbage: refused).</summary>
    public const int MaxHeaderBytes = 8 * 1024;

    /// <summary>The longest SDP read (a camera's is under 2 KB).</summary>
    public const int MaxBodyBytes = 64 * 1024;

    private const string UserAgent = "SchoolSafetyPortal";

    /// <summary>Never throws for camera trouble; only <paramref name="cancellationToken"/> ends it with an exception.</summary>
    public static async Task<RtspProbeResult> ProbeAsync(Uri uri, NetworkCredential? credential, TimeSpan timeout, TimeProvider? timeProvider, CancellationToken cancellationToken,
        bool allowBasicAuth = false, RtspProbeMemory? memory = null)
    {
        ArgumentNullException.ThrowIfNull(uri);
        if (!uri.Scheme.Equals("rtsp", StringComparison.OrdinalIgnoreCase))
        {
            throw new ArgumentException("Only rtsp:// URLs are supported.", nameof(uri));
        }

        var time = timeProvider ?? TimeProvider.System;
        var started = time.GetTimestamp();
        RtspProbeResult Result(RtspProbeStatus status, string detail) => new(status, detail, time.GetElapsedTime(started));

        // Credentials in the URL (rtsp://user:pass@host/...) are used and never go on the wire.
        if (credential is null && uri.UserInfo.Length > 0)
        {
            var parts = uri.UserInfo.Split(':', 2);
            credential = new NetworkCredential(Uri.UnescapeDataString(parts[0]), parts.Length > 1 ? Uri.UnescapeDataString(parts[1]) : string.Empty);
        }

        var requestUrl = uri.GetComponents(UriComponents.AbsoluteUri & ~UriComponents.UserInfo, UriFormat.UriEscaped);
        var auth = memory?.AuthenticatorFor(requestUrl, credential, allowBasicAuth) ?? new RtspAuthenticator(credential, allowBasicAuth);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        using var socket = new Socket(uri.HostNameType == UriHostNameType.IPv6 ? AddressFamily.InterNetworkV6 : AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(uri.IdnHost, uri.Port > 0 ? uri.Port : 554, deadline.Token).ConfigureAwait(false);
            var stream = new NetworkStream(socket, ownsSocket: false);
            await using (stream.ConfigureAwait(false))
            {
                var reader = new TextMessageReader(stream, MaxHeaderBytes, MaxBodyBytes);
                for (var attempt = 0; ; attempt++)
                {
                    var cseq = attempt + 1;
                    var request = new RtspRequest("DESCRIBE", requestUrl);
                    request.Headers.Add("CSeq", cseq.ToString(CultureInfo.InvariantCulture));
                    request.Headers.Add("User-Agent", UserAgent);
                    request.Headers.Add("Accept", "application/sdp");
                    var authorization = auth.Authorize(request.Method, requestUrl);
                    if (authorization is not null)
                    {
                        request.Headers.Add("Authorization", authorization);
                    }

                    await stream.WriteAsync(request.ToBytes(), deadline.Token).ConfigureAwait(false);
                    var message = await reader.ReadMessageAsync(deadline.Token).ConfigureAwait(false);
                    if (!message.StartLine.StartsWith("RTSP/", StringComparison.Ordinal) || !RtspResponse.TryParse(message, out var response, out _)
                        || (response.CSeq >= 0 && response.CSeq != cseq))
                    {
                        return Result(RtspProbeStatus.Refused, "DESCRIBE answered with something that is not its RTSP response.");
                    }

                    if (response.StatusCode == 401)
                    {
                        if (!auth.HasCredential)
                        {
                            return Result(RtspProbeStatus.AuthenticationFailed, "DESCRIBE: camera requires credentials and none are configured.");
                        }

                        // A first 401, or one with a new or stale nonce: answer it once more; the same challenge again is a refusal.
                        if (attempt >= 2 || !auth.Accept(response, alreadyTried: authorization is not null))
                        {
                            return Result(RtspProbeStatus.AuthenticationFailed, $"DESCRIBE: camera refused the credentials for user '{credential!.UserName}'.");
                        }

                        continue;
                    }

                    if (!response.IsSuccess)
                    {
                        return Result(RtspProbeStatus.Refused, $"DESCRIBE failed: {response.StatusCode} {response.Reason}");
                    }

                    return Video(response) switch
                    {
                        null => Result(RtspProbeStatus.Refused, "DESCRIBE answer has no valid SDP."),
                        { Length: 0 } => Result(RtspProbeStatus.NoVideo, "DESCRIBE offers no H.264 video track."),
                        var codec => Result(RtspProbeStatus.Online, codec),
                    };
                }
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return Result(RtspProbeStatus.Timeout, $"No answer within {timeout.TotalSeconds:0.#} s.");
        }
        catch (InvalidDataException ex)
        {
            return Result(RtspProbeStatus.Refused, "DESCRIBE answer unreadable: " + ex.Message);
        }
        catch (Exception ex) when (ex is SocketException or IOException)
        {
            return Result(RtspProbeStatus.Unreachable, ex.Message);
        }
    }

    /// <summary>The first H.264 video track's codec, as RtspClient would take it; empty when there is none, null when the SDP is not valid.</summary>
    private static string? Video(RtspResponse response)
    {
        if (!SdpSession.TryParse(Encoding.UTF8.GetString(response.Body.Span), out var sdp, out _))
        {
            return null;
        }

        foreach (var media in sdp.Media)
        {
            var codecs = Codec.FromSdp(media);
            if (media.Type.Equals("video", StringComparison.OrdinalIgnoreCase) && codecs.Count > 0 && codecs[0].Name == Codec.H264)
            {
                return codecs[0].ToString();
            }
        }

        return string.Empty;
    }
}
