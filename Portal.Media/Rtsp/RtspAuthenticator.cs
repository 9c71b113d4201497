using System.Net;
using Portal.Media.Core;

namespace Portal.Media.Rtsp;

/// <summary>Client-side Basic or Digest credentials for one RTSP connection (RFC 2326 §D.1, RFC 2617, RFC 7616).</summary>
/// <remarks>
/// Digest is preferred when a camera offers both (Hikvision sends two WWW-Authenticate headers). The nonce is
/// kept and reused with a growing nonce count, and refreshed when a later 401 brings a new one (stale=true).
/// Basic is answered only when <paramref name="allowBasic"/> says so (per device, issue #14): on plain RTSP it puts the
/// password on the wire in the clear, and anyone who can pose as the camera (a spoofed address, a swapped device)
/// would collect it by asking for Basic. Refused, the camera's 401 stands and the pull reports a wrong password.
/// </remarks>
internal sealed class RtspAuthenticator(NetworkCredential? credential, bool allowBasic = false)
{
    private Dictionary<string, string>? _digest;
    private (string Method, string Uri, string Value)? _unchanging;
    private bool _basic;
    private int _nonceCount;

    public bool HasCredential => credential is not null;

    /// <summary>True once a challenge has been accepted: the next request goes out already authorised.</summary>
    public bool HasChallenge => _digest is not null || _basic;

    /// <summary>Takes the challenges from a 401; false when there is nothing new to try.</summary>
    public bool Accept(RtspResponse response, bool alreadyTried)
    {
        if (credential is null)
        {
            return false;
        }

        Dictionary<string, string>? digest = null;
        var basic = false;
        foreach (var challenge in response.Headers.GetAll("WWW-Authenticate"))
        {
            var scheme = HttpDigest.Scheme(challenge);
            if (scheme.Equals("Digest", StringComparison.OrdinalIgnoreCase))
            {
                var p = HttpDigest.ParseParameters(challenge);
                var algorithm = p.GetValueOrDefault("algorithm", "MD5");
                if (algorithm.Equals("MD5", StringComparison.OrdinalIgnoreCase) && p.ContainsKey("nonce"))
                {
                    digest ??= p;
                }
            }
            else if (scheme.Equals("Basic", StringComparison.OrdinalIgnoreCase))
            {
                basic = true;
            }
        }

        if (digest is not null)
        {
            var stale = digest.GetValueOrDefault("stale", "false").Equals("true", StringComparison.OrdinalIgnoreCase);
            var newNonce = _digest is null || _digest.GetValueOrDefault("nonce") != digest["nonce"];
            if (alreadyTried && !(stale || newNonce))
            {
                return false;
            }

            _digest = digest;
            _unchanging = null;
            _basic = false;
            _nonceCount = 0;
            return !alreadyTried || stale || newNonce;
        }

        if (basic && allowBasic && !alreadyTried)
        {
            _basic = true;
            return true;
        }

        return false;
    }

    /// <summary>The Authorization value for a request, or null before any challenge.</summary>
    public string? Authorize(string method, string uri)
    {
        if (credential is null)
        {
            return null;
        }

        if (_digest is not null)
        {
            // Without qop (and not -sess) the answer depends on nothing that changes per request: the health probe sends the
            // same DESCRIBE under the same nonce every minute, so it is hashed once per nonce.
            if (_unchanging is { } known && known.Method == method && known.Uri == uri)
            {
                return known.Value;
            }

            var value = HttpDigest.BuildAuthorization(_digest, credential.UserName, credential.Password, method, uri, ++_nonceCount);
            if (!_digest.ContainsKey("qop") && _digest.GetValueOrDefault("algorithm")?.EndsWith("-sess", StringComparison.OrdinalIgnoreCase) != true)
            {
                _unchanging = (method, uri, value);
            }

            return value;
        }

        return _basic ? HttpDigest.BuildBasic(credential.UserName, credential.Password) : null;
    }
}
