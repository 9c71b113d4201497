using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Dapper;
using Microsoft.Extensions.Logging;
using Portal.Core.Data;

namespace Portal.Core.Devices;

/// <summary>A signed device request as it arrived, before anything about it is trusted.</summary>
public sealed record DeviceRequest(string Method, string Path, string? Serial, string? Timestamp, string? Nonce, string? Signature, ReadOnlyMemory<byte> Body, string? RemoteAddress);

public enum DeviceAuthFailure
{
    None = 0,
    Malformed,
    UnknownDevice,
    Disabled,
    NoKey,
    Stale,
    BadSignature,
    Replay,
}

/// <summary>
/// Checks the signed HTTP device API: HMAC-SHA256 with the device's own key over
/// <c>METHOD \n PATH \n TIMESTAMP \n NONCE \n hex(SHA-256(body))</c>. A timestamp more than
/// <see cref="Window"/> away from now is stale; a nonce seen before (kept in DeviceNonce for the window) is a
/// replay. Every refusal goes to the SecurityLog table and nowhere else.
/// </summary>
public sealed class DeviceRequestVerifier(Db db, DeviceRepository devices, DeviceSecrets secrets, TimeProvider time, ILogger<DeviceRequestVerifier> logger)
{
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(5);

    internal const string InsertNonceSqlite = "INSERT OR IGNORE INTO DeviceNonce (DeviceId, Nonce, SeenUtc) VALUES (@DeviceId, @Nonce, @Now)";

    internal const string InsertNonceSqlServer = """
        INSERT INTO DeviceNonce (DeviceId, Nonce, SeenUtc)
        SELECT @DeviceId, @Nonce, @Now WHERE NOT EXISTS (SELECT 1 FROM DeviceNonce WITH (UPDLOCK, HOLDLOCK) WHERE DeviceId = @DeviceId AND Nonce = @Nonce)
        """;

    private const string DeleteOldNonces = "DELETE FROM DeviceNonce WHERE SeenUtc < @Before";

    private const string InsertSecurityLog =
        "INSERT INTO SecurityLog (AtUtc, RemoteAddress, DeviceId, Reason, Detail) VALUES (@AtUtc, @RemoteAddress, @DeviceId, @Reason, @Detail)";

    /// <summary>The string a device signs, exposed so the simulator and tests sign exactly what is checked.</summary>
    public static string StringToSign(string method, string path, string timestamp, string nonce, ReadOnlySpan<byte> body) =>
        string.Join('\n', method.ToUpperInvariant(), path, timestamp, nonce, Convert.ToHexStringLower(SHA256.HashData(body)));

    public static string Sign(string key, string stringToSign) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(key), Encoding.UTF8.GetBytes(stringToSign)));

    /// <summary>The device when every check passes; otherwise null and the reason, already logged.</summary>
    public Task<(Device? Device, DeviceAuthFailure Failure)> VerifyAsync(DeviceRequest request, CancellationToken ct = default) =>
        VerifyAsync(request, spendNonce: true, ct);

    /// <summary>
    /// Every check but the nonce's: the caller spends the nonce itself in the same transaction as its write
    /// (the alarm intake does, so a press costs one commit, not two) and reports a replay with <see cref="LogReplayAsync"/>.
    /// </summary>
    public Task<(Device? Device, DeviceAuthFailure Failure)> VerifySignatureAsync(DeviceRequest request, CancellationToken ct = default) =>
        VerifyAsync(request, spendNonce: false, ct);

    private async Task<(Device? Device, DeviceAuthFailure Failure)> VerifyAsync(DeviceRequest request, bool spendNonce, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(request.Serial) || request.Serial.Length > 64
            || !long.TryParse(request.Timestamp, NumberStyles.None, CultureInfo.InvariantCulture, out var unix)
            || request.Nonce is null || request.Nonce.Length is < 8 or > 64 || !request.Nonce.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_')
            || request.Signature is null || request.Signature.Length != 64)
        {
            return await RefuseAsync(request, null, DeviceAuthFailure.Malformed, "missing or malformed signing headers", ct).ConfigureAwait(false);
        }

        var device = await devices.GetBySerialNumberAsync(request.Serial, ct).ConfigureAwait(false);
        if (device is null)
        {
            return await RefuseAsync(request, null, DeviceAuthFailure.UnknownDevice, request.Serial, ct).ConfigureAwait(false);
        }

        if (!device.Enabled)
        {
            return await RefuseAsync(request, device.Id, DeviceAuthFailure.Disabled, null, ct).ConfigureAwait(false);
        }

        var key = secrets.Unprotect(device.ApiKeyProtected);
        if (key is null)
        {
            return await RefuseAsync(request, device.Id, DeviceAuthFailure.NoKey, null, ct).ConfigureAwait(false);
        }

        var now = time.GetUtcNow();
        var age = now - DateTimeOffset.FromUnixTimeSeconds(Math.Clamp(unix, 0, 253402300799));
        if (age.Duration() > Window)
        {
            return await RefuseAsync(request, device.Id, DeviceAuthFailure.Stale, FormattableString.Invariant($"skew {age.TotalSeconds:0}s"), ct).ConfigureAwait(false);
        }

        var stringToSign = StringToSign(request.Method, request.Path, request.Timestamp!, request.Nonce, request.Body.Span);
        if (!SignatureMatches(key, stringToSign, request.Signature))
        {
            // After a rotation the previous key is accepted for a short overlap, so a terminal still being
            // re-keyed raises its alarm (DeviceCredentialService.IssueApiKeyAsync sets the end of the overlap).
            var (previousProtected, previousUntil) = await devices.GetPreviousApiKeyAsync(device.Id, ct).ConfigureAwait(false);
            if (previousUntil is not { } until || now.UtcDateTime >= until || secrets.Unprotect(previousProtected) is not { } previous
                || !SignatureMatches(previous, stringToSign, request.Signature))
            {
                return await RefuseAsync(request, device.Id, DeviceAuthFailure.BadSignature, null, ct).ConfigureAwait(false);
            }
        }

        if (!spendNonce)
        {
            return (device, DeviceAuthFailure.None);
        }

        // Only a correctly signed request may spend a nonce, so nobody can burn a device's nonces for it.
        await using (var connection = await db.OpenAsync(ct).ConfigureAwait(false))
        {
            var inserted = await connection.ExecuteAsync(new CommandDefinition(db.Pick(InsertNonceSqlServer, InsertNonceSqlite),
                new { DeviceId = device.Id, request.Nonce, Now = now.UtcDateTime }, cancellationToken: ct)).ConfigureAwait(false);
            if (inserted == 0)
            {
                return await RefuseAsync(request, device.Id, DeviceAuthFailure.Replay, null, ct).ConfigureAwait(false);
            }
        }

        return (device, DeviceAuthFailure.None);
    }

    private static bool SignatureMatches(string key, string stringToSign, string signature) =>
        CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Sign(key, stringToSign)), Encoding.ASCII.GetBytes(signature.ToLowerInvariant()));

    /// <summary>Forgets nonces older than the window (a replay of them is stale anyway).</summary>
    public async Task<int> PruneNoncesAsync(CancellationToken ct = default)
    {
        await using var connection = db.Open();
        return await connection.ExecuteAsync(new CommandDefinition(DeleteOldNonces,
            new { Before = time.GetUtcNow().UtcDateTime - Window - Window }, cancellationToken: ct)).ConfigureAwait(false);
    }

    /// <summary>Writes a security log entry for a refused device request (also used for bad bodies after auth).</summary>
    public async Task LogAsync(string? remoteAddress, int? deviceId, string reason, string? detail, CancellationToken ct = default)
    {
        logger.LogWarning("Device request refused: {Reason} from {RemoteAddress} (device {DeviceId})", reason, remoteAddress, deviceId);
        await using var connection = db.Open();
        await connection.ExecuteAsync(new CommandDefinition(InsertSecurityLog, new
        {
            AtUtc = time.GetUtcNow().UtcDateTime,
            RemoteAddress = remoteAddress,
            DeviceId = deviceId,
            Reason = reason,
            Detail = detail is { Length: > 500 } ? detail[..500] : detail,
        }, cancellationToken: ct)).ConfigureAwait(false);
    }

    /// <summary>Logs a replay found later on the write path (see <c>spendNonce</c>).</summary>
    public Task LogReplayAsync(string? remoteAddress, int deviceId, CancellationToken ct = default) =>
        LogAsync(remoteAddress, deviceId, DeviceAuthFailure.Replay.ToString(), null, ct);

    private async Task<(Device?, DeviceAuthFailure)> RefuseAsync(DeviceRequest request, int? deviceId, DeviceAuthFailure failure, string? detail, CancellationToken ct)
    {
        await LogAsync(request.RemoteAddress, deviceId, failure.ToString(), detail, ct).ConfigureAwait(false);
        return (null, failure);
    }
}
