using System.Net;
using System.Net.Http.Headers;
using Microsoft.Extensions.Logging;
using Portal.Media.Core;

namespace Portal.Media.Bridges;

/// <summary>How a <see cref="CameraKeyframeHook"/> request proves who sends it: with the camera's own credentials.</summary>
public enum CameraKeyframeHookAuth
{
    /// <summary>No credentials.</summary>
    None = 0,

    /// <summary>Answers a Digest challenge (RFC 7616, MD5 as cameras use it); never sends the password itself.</summary>
    Digest = 1,

    /// <summary>Sends Basic credentials with the request: only for a camera that offers nothing else, over a network one trusts.</summary>
    Basic = 2,
}

/// <summary>
/// A keyframe request outside RTSP, for camera models that ignore RTCP PLI/FIR but offer one over HTTP (issue #15): for
/// example a vendor's "request key frame" URL on the camera's web service. Made from the portal's per-model setting;
/// the credentials are the camera's own, from the device registry.
/// </summary>
/// <param name="Url">The request's address, the camera's host filled in; never carries credentials.</param>
/// <param name="Method">HTTP method, e.g. PUT or GET.</param>
/// <param name="Auth">How the camera's credentials are presented.</param>
/// <param name="Username">The camera's own login (its web service's; usually the RTSP one).</param>
/// <param name="Password">Its password; never logged (<see cref="ToString"/> leaves it out).</param>
public sealed record CameraKeyframeHook(Uri Url, string Method = "PUT", CameraKeyframeHookAuth Auth = CameraKeyframeHookAuth.Digest, string? Username = null, string? Password = null)
{
    internal NetworkCredential? Credential => string.IsNullOrEmpty(Username) ? null : new NetworkCredential(Username, Password ?? string.Empty);

    /// <summary>Method, host and path, for logs: no query, no credentials.</summary>
    public override string ToString() => $"{Method} {Url.Scheme}://{Url.Host}:{Url.Port}{Url.AbsolutePath}";
}

/// <summary>
/// Calls one camera's <see cref="CameraKeyframeHook"/>: at most one request in flight and one per
/// <see cref="CameraHubOptions.KeyframeHookInterval"/>, the outcome counted in the camera's <see cref="CameraKeyframeStats"/>.
/// The password never reaches a log: only the hook's method, host and path and the answer's status are logged.
/// </summary>
internal sealed class CameraKeyframeHookCaller(
    HttpClient http,
    CameraKeyframeHook hook,
    CameraKeyframeStats stats,
    CameraHubOptions options,
    TimeProvider time,
    ILogger logger) : IDisposable
{
    private readonly Lock _gate = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly NetworkCredential? _credential = hook.Credential;
    private long _lastCall;
    private bool _inFlight;
    private bool _disposed;

    /// <summary>Starts a request unless one is in flight or was started within the interval; true when one started.</summary>
    public bool TryCall()
    {
        lock (_gate)
        {
            var now = time.GetTimestamp();
            if (_disposed || _inFlight || (_lastCall != 0 && time.GetElapsedTime(_lastCall, now) < options.KeyframeHookInterval))
            {
                return false;
            }

            _lastCall = now;
            _inFlight = true;
        }

        stats.OnHookCalled();
        _ = Task.Run(CallAsync);
        return true;
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
        }

        _stop.Cancel();
    }

    private async Task CallAsync()
    {
        string outcome;
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
            timeout.CancelAfter(options.KeyframeHookTimeout);
            var status = await SendAsync(timeout.Token).ConfigureAwait(false);
            outcome = ((int)status).ToString(System.Globalization.CultureInfo.InvariantCulture) + " " + status;
            if ((int)status is >= 200 and < 300)
            {
                stats.OnHookResult(outcome, failed: false);
                return;
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            return; // the pull stopped
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            outcome = ex is OperationCanceledException ? "timeout" : ex.GetType().Name;
        }
        finally
        {
            lock (_gate)
            {
                _inFlight = false;
            }
        }

        stats.OnHookResult(outcome, failed: true);
        logger.LogWarning("Keyframe hook {Hook} failed: {Outcome}", hook, outcome);
    }

    /// <summary>Sends the request, answering a Digest challenge once; the final status.</summary>
    private async Task<HttpStatusCode> SendAsync(CancellationToken ct)
    {
        using var first = NewRequest();
        if (hook.Auth == CameraKeyframeHookAuth.Basic && _credential is not null)
        {
            first.Headers.Authorization = AuthenticationHeaderValue.Parse(HttpDigest.BuildBasic(_credential.UserName, _credential.Password));
        }

        using var response = await http.SendAsync(first, HttpCompletionOption.ResponseHeadersRead, ct).ConfigureAwait(false);
        if (response.StatusCode != HttpStatusCode.Unauthorized || hook.Auth != CameraKeyframeHookAuth.Digest || _credential is null)
        {
            return response.StatusCode;
        }

        var challenge = response.Headers.WwwAuthenticate.FirstOrDefault(h => string.Equals(h.Scheme, "Digest", StringComparison.OrdinalIgnoreCase));
        if (challenge?.Parameter is null)
        {
            return response.StatusCode; // Basic only: refused, as for RTSP (the password is not sent in the clear)
        }

        using var second = NewRequest();
        var authorization = HttpDigest.BuildAuthorization(
            HttpDigest.ParseParameters("Digest " + challenge.Parameter), _credential.UserName, _credential.Password, hook.Method.ToUpperInvariant(), hook.Url.PathAndQuery, 1);
        second.Headers.TryAddWithoutValidation("Authorization", authorization);
        using var answer = await http.SendAsync(second, HttpCompletionOption.ResponseHeadersRead, ct).ConfigureAwait(false);
        return answer.StatusCode;
    }

    private HttpRequestMessage NewRequest()
    {
        var request = new HttpRequestMessage(new HttpMethod(hook.Method.ToUpperInvariant()), hook.Url);
        if (request.Method == HttpMethod.Put || request.Method == HttpMethod.Post)
        {
            request.Content = new ByteArrayContent([]);
        }

        return request;
    }
}
