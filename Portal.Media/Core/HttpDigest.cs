using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Portal.Media.Core;

/// <summary>
/// HTTP Digest access authentication (RFC 2617, RFC 7616 §3.4; for SIP RFC 3261 §22.4 and RFC 8760), as RTSP
/// cameras and SIP devices use it. Both sides: parse a challenge and answer it, or issue one and verify an answer.
/// </summary>
/// <remarks>
/// <code>
/// H = MD5 or SHA-256 (the challenge's algorithm; MD5 when absent)
/// HA1 = H(username ":" realm ":" password)
/// HA1 = H(H(username ":" realm ":" password) ":" nonce ":" cnonce)       (the "-sess" algorithms)
/// HA2 = H(method ":" digest-uri)
/// response = H(HA1 ":" nonce ":" HA2)                                     (no qop, RFC 2069 style)
/// response = H(HA1 ":" nonce ":" nc ":" cnonce ":" qop ":" HA2)           (qop=auth)
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

    public const string Md5 = "MD5";

    public const string Sha256 = "SHA-256";

    /// <summary>True for the algorithms we compute: MD5 and SHA-256, each also as "-sess" (RFC 7616 §3.4.2).</summary>
    public static bool IsSupportedAlgorithm(string? algorithm) =>
        algorithm is null || BaseAlgorithm(algorithm) is not null;

    public static string ComputeResponse(
        string username, string password, string realm, string method, string uri, string nonce, string? qop = null, string? nc = null, string? cnonce = null, string? algorithm = null)
    {
        var hash = BaseAlgorithm(algorithm) ?? throw new ArgumentException("Unsupported digest algorithm " + algorithm, nameof(algorithm));
        var ha1 = Hex(hash, $"{username}:{realm}:{password}");
        if (algorithm?.EndsWith("-sess", StringComparison.OrdinalIgnoreCase) == true)
        {
            ha1 = Hex(hash, $"{ha1}:{nonce}:{cnonce}");
        }

        var ha2 = Hex(hash, $"{method}:{uri}");
        return qop is null ? Hex(hash, $"{ha1}:{nonce}:{ha2}") : Hex(hash, $"{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}");
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
        var algorithm = challenge.GetValueOrDefault("algorithm");
        if (algorithm?.EndsWith("-sess", StringComparison.OrdinalIgnoreCase) == true)
        {
            qop ??= "auth"; // RFC 7616 §3.4.2: a -sess HA1 needs a cnonce, which only comes with qop
        }
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"Digest username=\"{username}\", realm=\"{realm}\", nonce=\"{nonce}\", uri=\"{uri}\"");
        if (qop is not null)
        {
            var nc = nonceCount.ToString("x8", CultureInfo.InvariantCulture);
            var cnonce = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
            var response = ComputeResponse(username, password, realm, method, uri, nonce, qop, nc, cnonce, algorithm);
            sb.Append(CultureInfo.InvariantCulture, $", response=\"{response}\", qop={qop}, nc={nc}, cnonce=\"{cnonce}\"");
        }
        else
        {
            sb.Append(CultureInfo.InvariantCulture, $", response=\"{ComputeResponse(username, password, realm, method, uri, nonce, algorithm: algorithm)}\"");
        }

        if (challenge.TryGetValue("opaque", out var opaque))
        {
            sb.Append(CultureInfo.InvariantCulture, $", opaque=\"{opaque}\"");
        }

        if (algorithm is not null)
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
        var algorithm = p.GetValueOrDefault("algorithm");
        if (!IsSupportedAlgorithm(algorithm))
        {
            return false;
        }

        var expected = ComputeResponse(username, password, realm, method, uri, expectedNonce, qop, p.GetValueOrDefault("nc"), p.GetValueOrDefault("cnonce"), algorithm);
        return CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(response.ToLowerInvariant()));
    }

    public static string BuildBasic(string username, string password) =>
        "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(username + ":" + password));

    /// <summary>"MD5" or "SHA-256" for an algorithm name with or without "-sess"; null when unknown.</summary>
    private static string? BaseAlgorithm(string? algorithm)
    {
        var name = algorithm ?? Md5;
        if (name.EndsWith("-sess", StringComparison.OrdinalIgnoreCase))
        {
            name = name[..^5];
        }

        return string.Equals(name, Md5, StringComparison.OrdinalIgnoreCase) ? Md5
            : string.Equals(name, Sha256, StringComparison.OrdinalIgnoreCase) ? Sha256
            : null;
    }

    private static string Hex(string hash, string text)
    {
        Span<byte> digest = stackalloc byte[32];
        var input = Encoding.UTF8.GetBytes(text);
#pragma warning disable CA5351 // MD5 is mandated by the devices' Digest implementations (RFC 2617).
        var length = hash == Md5 ? MD5.HashData(input, digest) : SHA256.HashData(input, digest);
#pragma warning restore CA5351
        return Convert.ToHexStringLower(digest[..length]);
    }
}
