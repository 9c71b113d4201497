using System.Collections.Concurrent;
using System.Net;
using Portal.Media.Core;

namespace Portal.Tests.Media.Bridges;

/// <summary>
/// A camera's HTTP keyframe request as some vendors offer it, on 127.0.0.1 for tests (issue #15): answers an
/// unauthenticated request with a Digest (or Basic-only) challenge, and a request carrying the camera's credentials with
/// 200 after calling its callback, which makes the camera send an IDR.
/// </summary>
public sealed class KeyframeHookEndpoint : IAsyncDisposable
{
    public const string Realm = "KeyframeCamera";

    private readonly HttpListener _listener = new();
    private readonly string _username;
    private readonly string _password;
    private readonly bool _basicOnly;
    private readonly Action _onKeyframe;
    private readonly string _nonce = Guid.NewGuid().ToString("N");
    private readonly Task _loop;
    private int _requests;
    private int _accepted;

    /// <param name="username">The camera's login.</param>
    /// <param name="password">Its password.</param>
    /// <param name="basicOnly">Challenge with Basic only (a client that keeps to Digest then never sends the password).</param>
    /// <param name="onKeyframe">What an authenticated request does: make the camera send an IDR.</param>
    public KeyframeHookEndpoint(string username, string password, bool basicOnly, Action onKeyframe)
    {
        _username = username;
        _password = password;
        _basicOnly = basicOnly;
        _onKeyframe = onKeyframe;
        Port = FreePorts.Tcp();
        _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        _listener.Start();
        _loop = Task.Run(LoopAsync);
    }

    public int Port { get; }

    /// <summary>Requests received, authenticated or not.</summary>
    public int Requests => Volatile.Read(ref _requests);

    /// <summary>Requests that carried the right credentials and made the camera send a keyframe.</summary>
    public int Accepted => Volatile.Read(ref _accepted);

    /// <summary>Every Authorization header received (a Basic one would carry the password).</summary>
    public ConcurrentQueue<string> Authorizations { get; } = new();

    /// <summary>Method and path of every request.</summary>
    public ConcurrentQueue<string> Lines { get; } = new();

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        try
        {
            await _loop;
        }
        catch (HttpListenerException)
        {
        }
        catch (ObjectDisposedException)
        {
        }

        _listener.Close();
    }

    private async Task LoopAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            Interlocked.Increment(ref _requests);
            var request = context.Request;
            Lines.Enqueue(request.HttpMethod + " " + request.Url!.PathAndQuery);
            var authorization = request.Headers["Authorization"];
            if (authorization is not null)
            {
                Authorizations.Enqueue(authorization);
            }

            var ok = authorization is not null && !_basicOnly
                && HttpDigest.Verify(authorization, request.HttpMethod, Realm, _nonce, _username, _password);
            if (ok)
            {
                Interlocked.Increment(ref _accepted);
                _onKeyframe();
                context.Response.StatusCode = 200;
            }
            else
            {
                context.Response.StatusCode = 401;
                context.Response.AddHeader("WWW-Authenticate", _basicOnly ? $"Basic realm=\"{Realm}\"" : $"Digest realm=\"{Realm}\", nonce=\"{_nonce}\", qop=\"auth\", algorithm=MD5");
            }

            context.Response.Close();
        }
    }
}
