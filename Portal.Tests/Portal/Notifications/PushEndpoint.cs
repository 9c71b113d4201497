using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Logging;

namespace Portal.Tests.Portal.Notifications;

/// <summary>One push as the endpoint received it, decrypted, with its VAPID claims verified.</summary>
public sealed record ReceivedPush(string Subscription, string Json, string Audience, string Subject, DateTimeOffset Expires, string VapidKey, int Ttl, string? Urgency);

/// <summary>
/// A push service in the test process, on 127.0.0.1: it plays the browser's push service and the browser at once. Each
/// subscription has its own P-256 key pair and auth secret, as a browser would make; every message is checked as a push
/// service checks it (RFC 8292: the VAPID JWT's ES256 signature by the key in <c>k</c>, its audience and expiry) and
/// decrypted as the browser would (RFC 8291 with RFC 8188's aes128gcm). Subscriptions named "gone-…" answer 410.
/// </summary>
public sealed class PushEndpoint : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, (ECDiffieHellman Key, byte[] Auth)> _subscriptions = new();
    private readonly ConcurrentQueue<ReceivedPush> _received = new();
    private readonly ConcurrentQueue<string> _rejected = new();
    private WebApplication? _app;

    public Uri BaseUri { get; private set; } = null!;

    public IReadOnlyCollection<ReceivedPush> Received => _received;

    /// <summary>Requests that failed a check (wrong JWT, undecryptable body), with why.</summary>
    public IReadOnlyCollection<string> Rejected => _rejected;

    public static async Task<PushEndpoint> StartAsync()
    {
        var endpoint = new PushEndpoint();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Configuration.Sources.Clear();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        endpoint._app = builder.Build();
        endpoint._app.MapPost("/push/{id}", (HttpContext context, string id) => endpoint.ReceiveAsync(context, id));
        await endpoint._app.StartAsync();
        endpoint.BaseUri = new Uri(endpoint._app.Urls.First());
        return endpoint;
    }

    /// <summary>A new browser subscription: its endpoint and keys as PushSubscription.toJSON() gives them.</summary>
    public (string Endpoint, string P256dh, string Auth) Subscribe(string id)
    {
        var key = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        var auth = RandomNumberGenerator.GetBytes(16);
        _subscriptions[id] = (key, auth);
        return (new Uri(BaseUri, "/push/" + id).ToString(), WebEncoders.Base64UrlEncode(Uncompressed(key)), WebEncoders.Base64UrlEncode(auth));
    }

    public IReadOnlyList<ReceivedPush> For(string id) => [.. _received.Where(r => r.Subscription == id)];

    private async Task<IResult> ReceiveAsync(HttpContext context, string id)
    {
        using var body = new MemoryStream();
        await context.Request.Body.CopyToAsync(body);
        if (id.StartsWith("gone-", StringComparison.Ordinal))
        {
            return Results.StatusCode(StatusCodes.Status410Gone);
        }

        try
        {
            if (!_subscriptions.TryGetValue(id, out var subscription))
            {
                throw new InvalidDataException("unknown subscription " + id);
            }

            if (context.Request.Headers.ContentEncoding.ToString() != "aes128gcm")
            {
                throw new InvalidDataException("Content-Encoding is " + context.Request.Headers.ContentEncoding);
            }

            var (audience, subject, expires, vapidKey) = VerifyVapid(context.Request.Headers.Authorization.ToString());
            var expectedAudience = BaseUri.GetLeftPart(UriPartial.Authority);
            if (audience != expectedAudience)
            {
                throw new InvalidDataException($"aud {audience}, expected {expectedAudience}");
            }

            var json = Decrypt(body.ToArray(), subscription.Key, subscription.Auth);
            var ttl = int.Parse(context.Request.Headers["TTL"].ToString(), System.Globalization.CultureInfo.InvariantCulture);
            _received.Enqueue(new ReceivedPush(id, json, audience, subject, expires, vapidKey, ttl, context.Request.Headers["Urgency"].FirstOrDefault()));
            return Results.StatusCode(StatusCodes.Status201Created);
        }
        catch (Exception ex) when (ex is InvalidDataException or CryptographicException or FormatException or JsonException)
        {
            _rejected.Enqueue(ex.Message);
            return Results.BadRequest();
        }
    }

    /// <summary>RFC 8292 §3: <c>Authorization: vapid t=JWT, k=public key</c>; the JWT is ES256 over header.payload with that key.</summary>
    private static (string Audience, string Subject, DateTimeOffset Expires, string Key) VerifyVapid(string authorization)
    {
        if (!authorization.StartsWith("vapid ", StringComparison.Ordinal))
        {
            throw new InvalidDataException("Authorization is not vapid: " + authorization);
        }

        var parameters = authorization[6..].Split(',', StringSplitOptions.TrimEntries)
            .Select(p => p.Split('=', 2))
            .ToDictionary(p => p[0], p => p[1]);
        var jwt = parameters["t"].Split('.');
        var key = WebEncoders.Base64UrlDecode(parameters["k"]);
        if (jwt.Length != 3 || key.Length != 65 || key[0] != 4)
        {
            throw new InvalidDataException("malformed VAPID token or key");
        }

        using var header = JsonDocument.Parse(WebEncoders.Base64UrlDecode(jwt[0]));
        if (header.RootElement.GetProperty("alg").GetString() != "ES256")
        {
            throw new InvalidDataException("VAPID alg is not ES256");
        }

        using var ecdsa = ECDsa.Create(new ECParameters { Curve = ECCurve.NamedCurves.nistP256, Q = new ECPoint { X = key[1..33], Y = key[33..] } });
        if (!ecdsa.VerifyData(Encoding.ASCII.GetBytes(jwt[0] + "." + jwt[1]), WebEncoders.Base64UrlDecode(jwt[2]), HashAlgorithmName.SHA256))
        {
            throw new InvalidDataException("VAPID signature does not verify");
        }

        using var payload = JsonDocument.Parse(WebEncoders.Base64UrlDecode(jwt[1]));
        var claims = payload.RootElement;
        return (claims.GetProperty("aud").GetString()!, claims.GetProperty("sub").GetString()!,
            DateTimeOffset.FromUnixTimeSeconds(claims.GetProperty("exp").GetInt64()), parameters["k"]);
    }

    /// <summary>
    /// RFC 8291 §3.4 and RFC 8188 §2: salt(16) | rs(4) | idlen(1) | keyid = the sender's public key | one record. The
    /// input keying material comes from ECDH and the auth secret, the content key and nonce from the salt; the record
    /// ends with the padding delimiter 0x02 (last record) and any zeros.
    /// </summary>
    private static string Decrypt(byte[] body, ECDiffieHellman receiver, byte[] auth)
    {
        var salt = body.AsSpan(0, 16).ToArray();
        var recordSize = BinaryPrimitives.ReadUInt32BigEndian(body.AsSpan(16, 4));
        var idLength = body[20];
        var senderPublic = body.AsSpan(21, idLength).ToArray();
        var record = body.AsSpan(21 + idLength).ToArray();
        if (idLength != 65 || record.Length > recordSize || record.Length < 17)
        {
            throw new InvalidDataException("bad aes128gcm header");
        }

        using var sender = ECDiffieHellman.Create(new ECParameters { Curve = ECCurve.NamedCurves.nistP256, Q = new ECPoint { X = senderPublic[1..33], Y = senderPublic[33..] } });
        var ecdhSecret = receiver.DeriveRawSecretAgreement(sender.PublicKey);
        var keyInfo = Encoding.ASCII.GetBytes("WebPush: info\0").Concat(Uncompressed(receiver)).Concat(senderPublic).ToArray();
        var prkKey = HKDF.Extract(HashAlgorithmName.SHA256, ecdhSecret, auth);
        var ikm = HKDF.Expand(HashAlgorithmName.SHA256, prkKey, 32, keyInfo);
        var prk = HKDF.Extract(HashAlgorithmName.SHA256, ikm, salt);
        var cek = HKDF.Expand(HashAlgorithmName.SHA256, prk, 16, Encoding.ASCII.GetBytes("Content-Encoding: aes128gcm\0"));
        var nonce = HKDF.Expand(HashAlgorithmName.SHA256, prk, 12, Encoding.ASCII.GetBytes("Content-Encoding: nonce\0"));
        var plain = new byte[record.Length - 16];
        using (var gcm = new AesGcm(cek, 16))
        {
            gcm.Decrypt(nonce, record.AsSpan(0, plain.Length), record.AsSpan(plain.Length), plain);
        }

        var end = plain.Length - 1;
        while (end >= 0 && plain[end] == 0)
        {
            end--;
        }

        if (end < 0 || plain[end] != 2)
        {
            throw new InvalidDataException("no last-record padding delimiter");
        }

        return Encoding.UTF8.GetString(plain, 0, end);
    }

    private static byte[] Uncompressed(ECDiffieHellman key)
    {
        var q = key.ExportParameters(false).Q;
        return [4, .. q.X!, .. q.Y!];
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }

        foreach (var (key, _) in _subscriptions.Values)
        {
            key.Dispose();
        }
    }
}
