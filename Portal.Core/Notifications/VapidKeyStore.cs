using System.Security.Cryptography;
using Dapper;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.WebUtilities;
using Portal.Core.Data;

namespace Portal.Core.Notifications;

/// <summary>A VAPID key pair (RFC 8292 §3.2): the P-256 public key as an uncompressed point and the private scalar, base64url.</summary>
public sealed record VapidKeys(string PublicKey, string PrivateKey);

/// <summary>
/// Owns WebPushKey: the portal's VAPID key pair, generated once and kept in the database with the private key as
/// Data Protection ciphertext, so every instance (sharing the Data Protection keys) signs with the same key and the
/// browsers' subscriptions stay valid across restarts.
/// </summary>
public sealed class VapidKeyStore(Db db, IDataProtectionProvider protection, TimeProvider time)
{
    private readonly IDataProtector _protector = protection.CreateProtector("Portal.WebPush.Vapid.v1");
    private VapidKeys? _keys;

    // Portable "insert if absent": two instances starting together both try; the primary key keeps one.
    private const string InsertIfAbsent = """
        INSERT INTO WebPushKey (Id, PublicKey, PrivateKeyProtected, CreatedUtc)
        SELECT 1, @PublicKey, @PrivateKeyProtected, @CreatedUtc WHERE NOT EXISTS (SELECT 1 FROM WebPushKey WHERE Id = 1)
        """;

    private const string SelectKey = "SELECT PublicKey, PrivateKeyProtected FROM WebPushKey WHERE Id = 1";

    public async Task<VapidKeys> GetAsync(CancellationToken ct = default)
    {
        if (_keys is { } cached)
        {
            return cached;
        }

        await using var connection = db.Open();
        var row = await connection.QuerySingleOrDefaultAsync<(string PublicKey, string PrivateKeyProtected)?>(new CommandDefinition(SelectKey, cancellationToken: ct)).ConfigureAwait(false);
        if (row is null)
        {
            var fresh = Generate();
            await connection.ExecuteAsync(new CommandDefinition(InsertIfAbsent, new
            {
                fresh.PublicKey,
                PrivateKeyProtected = _protector.Protect(fresh.PrivateKey),
                CreatedUtc = time.GetUtcNow().UtcDateTime,
            }, cancellationToken: ct)).ConfigureAwait(false);
            row = await connection.QuerySingleAsync<(string, string)>(new CommandDefinition(SelectKey, cancellationToken: ct)).ConfigureAwait(false);
        }

        _keys = new VapidKeys(row.Value.PublicKey, _protector.Unprotect(row.Value.PrivateKeyProtected));
        return _keys;
    }

    /// <summary>A fresh P-256 key pair in the form browsers (applicationServerKey) and the VAPID JWT expect.</summary>
    public static VapidKeys Generate()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var p = key.ExportParameters(includePrivateParameters: true);
        var point = new byte[65];
        point[0] = 0x04;
        p.Q.X!.CopyTo(point, 1);
        p.Q.Y!.CopyTo(point, 33);
        return new VapidKeys(WebEncoders.Base64UrlEncode(point), WebEncoders.Base64UrlEncode(p.D!));
    }
}
