using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using System.Text;
using Portal.Media.Core;

namespace Portal.Media.Sip.Auth;

/// <summary>The Authorization or Proxy-Authorization a request carried for our realm.</summary>
public sealed record SipDigestCredentials(string Username, string Realm, string Nonce, string Uri, string Response, string? Algorithm, string? Qop, string? NonceCount, string? ClientNonce, string RawHeader);

/// <summary>How a digest answer compares with the expected one.</summary>
public enum SipDigestVerdict
{
    /// <summary>Right password, fresh nonce.</summary>
    Valid,

    /// <summary>Right password, but the nonce expired or its count went back: challenge again with stale=true.</summary>
    Stale,

    /// <summary>Wrong password, a nonce we never issued, or an algorithm we did not offer.</summary>
    Invalid,
}

/// <summary>
/// The server side of SIP digest authentication (RFC 3261 §22.4, RFC 2617; SHA-256 per RFC 8760): issues
/// challenges, one per algorithm in preference order, and checks answers.
/// </summary>
/// <remarks>
/// <code>
/// WWW-Authenticate: Digest realm="portal", nonce="AAABjV...", algorithm=SHA-256, qop="auth"
/// WWW-Authenticate: Digest realm="portal", nonce="AAABjV...", algorithm=MD5, qop="auth"
/// nonce = base64url( issued-at ms (8) || sequence (4) || HMAC-SHA256(key, issued-at || sequence || realm)[0..12] )
/// </code>
/// Nonces carry their own proof (nothing is stored per challenge) and expire after <see cref="NonceLifetime"/>.
/// With qop=auth each nonce count must grow (RFC 2617 §3.2.2): the highest count is kept in a fixed ring indexed
/// by the nonce's sequence number (Kamailio's auth module does the same), so replays are refused and a REGISTER
/// storm costs 4 MiB, not a dictionary entry per challenge. A nonce older than the ring is stale. RFC 8760 §2.4
/// puts the preferred algorithm first; terminals in the field still answer MD5, so both are offered by default.
/// </remarks>
public sealed class SipDigestAuthenticator
{
    private const int TimeLength = 8;
    private const int SequenceLength = 4;
    private const int SignedLength = TimeLength + SequenceLength;
    private const int MacLength = 12;
    private const int RingSize = 1 << 20;

    private readonly byte[] _key;
    private readonly TimeProvider _time;
    private readonly int[] _counts = new int[RingSize];
    private int _sequence;

    public SipDigestAuthenticator(string realm, IReadOnlyList<string> algorithms, TimeSpan nonceLifetime, TimeProvider time, byte[]? key = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(realm);
        ArgumentNullException.ThrowIfNull(algorithms);
        if (algorithms.Count == 0 || algorithms.Any(a => !HttpDigest.IsSupportedAlgorithm(a) || a.EndsWith("-sess", StringComparison.OrdinalIgnoreCase)))
        {
            throw new ArgumentException("Offer MD5 and/or SHA-256.", nameof(algorithms));
        }

        Realm = realm;
        Algorithms = algorithms;
        NonceLifetime = nonceLifetime;
        _time = time;
        _key = key ?? RandomNumberGenerator.GetBytes(32);
    }

    public string Realm { get; }

    public IReadOnlyList<string> Algorithms { get; }

    public TimeSpan NonceLifetime { get; }

    /// <summary>Adds one challenge per offered algorithm (401: WWW-Authenticate; 407: Proxy-Authenticate).</summary>
    public void AddChallenges(SipResponse response, bool stale = false)
    {
        ArgumentNullException.ThrowIfNull(response);
        var header = response.StatusCode == SipStatus.ProxyAuthenticationRequired ? SipHeaderNames.ProxyAuthenticate : SipHeaderNames.WwwAuthenticate;
        var nonce = CreateNonce();
        foreach (var algorithm in Algorithms)
        {
            response.Headers.Add(header, $"Digest realm=\"{Realm}\", nonce=\"{nonce}\", algorithm={algorithm}, qop=\"auth\"{(stale ? ", stale=true" : string.Empty)}");
        }
    }

    /// <summary>Finds the Digest credentials for our realm in Authorization (or Proxy-Authorization when <paramref name="proxy"/>).</summary>
    public bool TryReadCredentials(SipRequest request, bool proxy, [NotNullWhen(true)] out SipDigestCredentials? credentials)
    {
        ArgumentNullException.ThrowIfNull(request);
        credentials = null;
        foreach (var header in request.Headers.GetAll(proxy ? SipHeaderNames.ProxyAuthorization : SipHeaderNames.Authorization))
        {
            if (header.Length > 4096 || !string.Equals(HttpDigest.Scheme(header), "Digest", StringComparison.OrdinalIgnoreCase))
            {
                continue; // RFC 4475 §3.3.7: an unknown scheme is as good as no credentials
            }

            var p = HttpDigest.ParseParameters(header);
            if (!string.Equals(p.GetValueOrDefault("realm"), Realm, StringComparison.Ordinal)
                || p.GetValueOrDefault("username") is not { Length: > 0 and <= 128 } username
                || p.GetValueOrDefault("nonce") is not { Length: > 0 } nonce
                || p.GetValueOrDefault("uri") is not { Length: > 0 } uri
                || p.GetValueOrDefault("response") is not { Length: > 0 } answer)
            {
                continue;
            }

            credentials = new SipDigestCredentials(username, Realm, nonce, uri, answer, p.GetValueOrDefault("algorithm"), p.GetValueOrDefault("qop"),
                p.GetValueOrDefault("nc"), p.GetValueOrDefault("cnonce"), header);
            return true;
        }

        return false;
    }

    /// <summary>Checks an answer against the password, in constant time for the comparison itself.</summary>
    public SipDigestVerdict Verify(SipDigestCredentials credentials, string method, string password)
    {
        ArgumentNullException.ThrowIfNull(credentials);
        var algorithm = credentials.Algorithm ?? HttpDigest.Md5;
        if (!Algorithms.Contains(algorithm, StringComparer.OrdinalIgnoreCase) || !TryReadNonce(credentials.Nonce, out var issuedMs, out var sequence))
        {
            return SipDigestVerdict.Invalid;
        }

        if (credentials.Qop is not null && (!string.Equals(credentials.Qop, "auth", StringComparison.OrdinalIgnoreCase)
            || credentials.ClientNonce is null || credentials.NonceCount is not { Length: 8 }))
        {
            return SipDigestVerdict.Invalid;
        }

        var expected = HttpDigest.ComputeResponse(credentials.Username, password, Realm, method, credentials.Uri, credentials.Nonce,
            credentials.Qop, credentials.NonceCount, credentials.ClientNonce, algorithm);
        if (!CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(credentials.Response.ToLowerInvariant())))
        {
            return SipDigestVerdict.Invalid;
        }

        var nowMs = _time.GetUtcNow().ToUnixTimeMilliseconds();
        if (nowMs - issuedMs > NonceLifetime.TotalMilliseconds || issuedMs - nowMs > 60_000)
        {
            return SipDigestVerdict.Stale;
        }

        return credentials.Qop is null || AdvanceCount(sequence, credentials.NonceCount!) ? SipDigestVerdict.Valid : SipDigestVerdict.Stale;
    }

    internal string CreateNonce()
    {
        Span<byte> nonce = stackalloc byte[SignedLength + MacLength];
        BinaryPrimitives.WriteInt64BigEndian(nonce, _time.GetUtcNow().ToUnixTimeMilliseconds());
        var sequence = Interlocked.Increment(ref _sequence);
        Volatile.Write(ref _counts[(uint)sequence % RingSize], 0); // the slot's previous nonce is now stale
        BinaryPrimitives.WriteInt32BigEndian(nonce[TimeLength..], sequence);
        Mac(nonce[..SignedLength], nonce[SignedLength..]);
        return Convert.ToBase64String(nonce).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }

    private bool TryReadNonce(string nonce, out long issuedMs, out int sequence)
    {
        issuedMs = 0;
        sequence = 0;
        Span<byte> bytes = stackalloc byte[SignedLength + MacLength + 3];
        var text = nonce.Replace('-', '+').Replace('_', '/');
        text += new string('=', (4 - (text.Length % 4)) % 4);
        if (text.Length > 48 || !Convert.TryFromBase64String(text, bytes, out var length) || length != SignedLength + MacLength)
        {
            return false;
        }

        Span<byte> mac = stackalloc byte[MacLength];
        Mac(bytes[..SignedLength], mac);
        if (!CryptographicOperations.FixedTimeEquals(mac, bytes.Slice(SignedLength, MacLength)))
        {
            return false;
        }

        issuedMs = BinaryPrimitives.ReadInt64BigEndian(bytes);
        sequence = BinaryPrimitives.ReadInt32BigEndian(bytes[TimeLength..]);
        return true;
    }

    private void Mac(ReadOnlySpan<byte> signed, Span<byte> destination)
    {
        Span<byte> input = stackalloc byte[SignedLength + 256];
        signed.CopyTo(input);
        var realmLength = Encoding.UTF8.GetBytes(Realm.AsSpan(0, Math.Min(Realm.Length, 64)), input[SignedLength..]);
        Span<byte> full = stackalloc byte[32];
        HMACSHA256.HashData(_key, input[..(SignedLength + realmLength)], full);
        full[..destination.Length].CopyTo(destination);
    }

    /// <summary>True when <paramref name="nc"/> is above every count seen with this nonce (RFC 2617 §3.2.2 replay check).</summary>
    private bool AdvanceCount(int sequence, string nc)
    {
        if (!int.TryParse(nc, System.Globalization.NumberStyles.AllowHexSpecifier, System.Globalization.CultureInfo.InvariantCulture, out var count) || count <= 0)
        {
            return false;
        }

        if (unchecked(Volatile.Read(ref _sequence) - sequence) >= RingSize)
        {
            return false; // its slot has been reused: the client takes a fresh nonce
        }

        ref var slot = ref _counts[(uint)sequence % RingSize];
        while (true)
        {
            var seen = Volatile.Read(ref slot);
            if (count <= seen)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref slot, count, seen) == seen)
            {
                return true;
            }
        }
    }
}
