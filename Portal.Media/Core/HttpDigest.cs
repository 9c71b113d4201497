using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Portal.Media.Core;

/// <summary>
/// HTTP Digest access authentication with MD5 (RFC 2617, RFC 7616 §3.4), as RTSP cameras and SIP devices
/// use it. Both sides: parse a challenge and answer it, or issue one and verify an answer.
/// </summary>
/// <remarks>
/// <code>
/// HA1 = MD5(username ":" realm ":" password)
/// HA2 = MD5(method ":" digest-uri)
/// response = MD5(HA1 ":" nonce ":" HA2)                                   (no qop, RFC 2069 style)
/// response = MD5(HA1 ":" nonce ":" nc ":" cnonce ":" qop ":" HA2)         (qop=auth)
/// </code>
/// MD5 is what devices support; it is the wire protocol, not our choice of hash (CA5351 suppressed for that).
/// </remarks>
public static class HttpDigest
{
    /// <summary>Parses <c>key=value</c> or <c>key="value"</c> pairs after the scheme of a challenge or credentials header.</summary>
    public static Dictionary<string, string> ParseParameters(string header)
    {
        var result = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var space = header.IndexOf(' ', StringComparison.Ordinal);
        var s = space < 0 ? string.Empty : header[(space + 1)..];
        var i = 0;
        while (i < s.Length && result.Count < 32)
        {
            while (i < s.Length && s[i] is ' ' or ',' or '\t')
            {
                i++;
            }

            var eq = s.IndexOf('=', i);
            if (eq < 0)
            {
                break;
            }

            var key = s[i..eq].Trim();
            i = eq + 1;
            string value;
            if (i < s.Length && s[i] == '"')
            {
                var sb = new StringBuilder();
                i++;
                while (i < s.Length && s[i] != '"')
                {
                    if (s[i] == '\\' && i + 1 < s.Length)
                    {
                        i++;
                    }

                    sb.Append(s[i++]);
                }

                i++;
                value = sb.ToString();
            }
            else
            {
                var end = s.IndexOf(',', i);
                end = end < 0 ? s.Length : end;
                value = s[i..end].Trim();
                i = end;
            }

            if (key.Length > 0)
            {
                result[key] = value;
            }
        }

        return result;
    }

    /// <summary>The scheme of a challenge or credentials header: <c>Digest</c> or <c>Basic</c>.</summary>
    public static string Scheme(string header)
    {
        var space = header.IndexOf(' ', StringComparison.Ordinal);
        return (space < 0 ? header : header[..space]).Trim();
    }

    public static string ComputeResponse(string username, string password, string realm, string method, string uri, string nonce, string? qop = null, string? nc = null, string? cnonce = null)
    {
        var ha1 = Md5Hex($"{username}:{realm}:{password}");
        var ha2 = Md5Hex($"{method}:{uri}");
        return qop is null ? Md5Hex($"{ha1}:{nonce}:{ha2}") : Md5Hex($"{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}");
    }

    /// <summary>Builds the <c>Authorization</c> value answering a <c>WWW-Authenticate: Digest ...</c> challenge.</summary>
    /// <param name="challenge">The parsed challenge parameters.</param>
    /// <param name="username">User name.</param>
    /// <param name="password">Password.</param>
    /// <param name="method">Request method, e.g. <c>DESCRIBE</c>.</param>
    /// <param name="uri">The request URI exactly as on the request line.</param>
    /// <param name="nonceCount">How many times this nonce was used, from 1.</param>
    public static string BuildAuthorization(IReadOnlyDictionary<string, string> challenge, string username, string password, string method, string uri, int nonceCount)
    {
        var realm = challenge.GetValueOrDefault("realm", string.Empty);
        var nonce = challenge.GetValueOrDefault("nonce", string.Empty);
        var qopOffered = challenge.GetValueOrDefault("qop");
        var qop = qopOffered?.Split(',', StringSplitOptions.TrimEntries).Contains("auth", StringComparer.OrdinalIgnoreCase) == true ? "auth" : null;
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"Digest username=\"{username}\", realm=\"{realm}\", nonce=\"{nonce}\", uri=\"{uri}\"");
        if (qop is not null)
        {
            var nc = nonceCount.ToString("x8", CultureInfo.InvariantCulture);
            var cnonce = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
            var response = ComputeResponse(username, password, realm, method, uri, nonce, qop, nc, cnonce);
            sb.Append(CultureInfo.InvariantCulture, $", response=\"{response}\", qop={qop}, nc={nc}, cnonce=\"{cnonce}\"");
        }
        else
        {
            sb.Append(CultureInfo.InvariantCulture, $", response=\"{ComputeResponse(username, password, realm, method, uri, nonce)}\"");
        }

        if (challenge.TryGetValue("opaque", out var opaque))
        {
            sb.Append(CultureInfo.InvariantCulture, $", opaque=\"{opaque}\"");
        }

        if (challenge.TryGetValue("algorithm", out var algorithm))
        {
            sb.Append(", algorithm=").Append(algorithm);
        }

        return sb.ToString();
    }

    /// <summary>Server side: checks an <c>Authorization: Digest ...</c> value against the expected password.</summary>
    public static bool Verify(string authorization, string method, string realm, string expectedNonce, string username, string password)
    {
        if (!string.Equals(Scheme(authorization), "Digest", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var p = ParseParameters(authorization);
        if (p.GetValueOrDefault("username") != username || p.GetValueOrDefault("realm") != realm
            || p.GetValueOrDefault("nonce") != expectedNonce || !p.TryGetValue("uri", out var uri) || !p.TryGetValue("response", out var response))
        {
            return false;
        }

        var qop = p.GetValueOrDefault("qop");
        var expected = ComputeResponse(username, password, realm, method, uri, expectedNonce, qop, p.GetValueOrDefault("nc"), p.GetValueOrDefault("cnonce"));
        return CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(response.ToLowerInvariant()));
    }

    public static string BuildBasic(string username, string password) =>
        "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(username + ":" + password));

#pragma warning disable CA5351 // MD5 is mandated by the devices' Digest implementations (RFC 2617).
    private static string Md5Hex(string text) => Convert.ToHexStringLower(MD5.HashData(Encoding.UTF8.GetBytes(text)));
#pragma warning restore CA5351
}
