using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Dapper;
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
/// replay. Every refusal is counted (<see cref="DeviceRefusalCounter"/>, per address and reason): no row and no log
/// line per refusal, so a flood costs the database nothing. Owns the DeviceNonce table.
/// </summary>
public sealed class DeviceRequestVerifier(Db db, DeviceRepository devices, DeviceSecrets secrets, DeviceRefusalCounter refusals, TimeProvider time)
{
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(5);

    /// <summary>Nonces remembered in memory at most (beyond it the durable check in the alarm's transaction still holds).</summary>
    internal const int MaxRememberedNonces = 200_000;

    internal const string InsertNonceSqlite = "INSERT OR IGNORE INTO DeviceNonce (DeviceId, Nonce, SeenUtc) VALUES (@DeviceId, @Nonce, @Now)";

    internal const string InsertNonceSqlServer = """
        INSERT INTO DeviceNonce (DeviceId, Nonce, SeenUtc)
        SELECT @DeviceId, @Nonce, @Now WHERE NOT EXISTS (SELECT 1 FROM DeviceNonce WITH (UPDLOCK, HOLDLOCK) WHERE DeviceId = @DeviceId AND Nonce = @Nonce)
        """;

    private const string DeleteOldNonces = "DELETE FROM DeviceNonce WHERE SeenUtc < @Before";

    // Signs for devices that have no key (unknown serial, camera, disabled), so every refusal costs the same work
    // and a stranger cannot tell them apart by the answer's time either.
    private static readonly byte[] StandInKey = RandomNumberGenerator.GetBytes(32);

    private readonly ConcurrentDictionary<(int DeviceId, string Nonce), DateTime> _recentNonces = new();

    /// <summary>The string a device signs, exposed so the simulator and tests sign exactly what is checked.</summary>
    public static string StringToSign(string method, string path, string timestamp, string nonce, ReadOnlySpan<byte> body) =>
        string.Join('\n', method.ToUpperInvariant(), path, timestamp, nonce, Convert.ToHexStringLower(SHA256.HashData(body)));

    public static string Sign(string key, string stringToSign) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(key), Encoding.UTF8.GetBytes(stringToSign)));

    /// <summary>The device when every check passes, nonce spent; otherwise null and the reason, already counted.</summary>
    public Task<(Device? Device, DeviceAuthFailure Failure)> VerifyAsync(DeviceRequest request, CancellationToken ct = default) =>
        VerifyAsync(request, spendNonce: true, ct);

    /// <summary>
    /// Every check but the nonce's: the caller spends the nonce itself in the same transaction as its write
    /// (the alarm intake does, so a press costs one commit, not two) and reports a replay with <see cref="CountReplay"/>.
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
            return Refuse(request, DeviceAuthFailure.Malformed);
        }

        var device = await devices.GetBySerialNumberAsync(request.Serial, ct).ConfigureAwait(false);
        var key = device is { Enabled: true } ? secrets.Unprotect(device.ApiKeyProtected) : null;
        var toSign = StringToSign(request.Method, request.Path, request.Timestamp!, request.Nonce, request.Body.Span);
        var expected = Convert.ToHexStringLower(HMACSHA256.HashData(key is null ? StandInKey : Encoding.UTF8.GetBytes(key), Encoding.UTF8.GetBytes(toSign)));
        var signed = CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(request.Signature.ToLowerInvariant()));

        var now = time.GetUtcNow();
        if (!signed && key is not null)
        {
            // After a rotation the previous key is accepted for a short overlap, so a terminal still being re-keyed
            // raises its alarm (DeviceCredentialService.IssueApiKeyAsync sets the end of the overlap, issue 13).
            // The row read above carries the previous key: no second read, so a bad signature from a known device
            // costs the same as one from an unknown serial (the uniform 401 of issue 14).
            signed = device!.ApiKeyPreviousUntilUtc is { } until && now.UtcDateTime < until && secrets.Unprotect(device.ApiKeyPreviousProtected) is { } previous
                && SignatureMatches(previous, toSign, request.Signature);
        }

        var stale = (now - DateTimeOffset.FromUnixTimeSeconds(Math.Clamp(unix, 0, 253402300799))).Duration() > Window;
        var failure = device is null ? DeviceAuthFailure.UnknownDevice
            : !device.Enabled ? DeviceAuthFailure.Disabled
            : key is null ? DeviceAuthFailure.NoKey
            : !signed ? DeviceAuthFailure.BadSignature
            : stale ? DeviceAuthFailure.Stale
            : DeviceAuthFailure.None;
        if (failure != DeviceAuthFailure.None)
        {
            return Refuse(request, failure);
        }

        if (!spendNonce)
        {
            return (device, DeviceAuthFailure.None);
        }

        // Only a correctly signed request may spend a nonce, so nobody can burn a device's nonces for it.
        await using (var connection = await db.OpenAsync(ct).ConfigureAwait(false))
        {
            var inserted = await connection.ExecuteAsync(new CommandDefinition(db.Pick(InsertNonceSqlServer, InsertNonceSqlite),
                new { DeviceId = device!.Id, request.Nonce, Now = now.UtcDateTime }, cancellationToken: ct)).ConfigureAwait(false);
            if (inserted == 0)
            {
                return Refuse(request, DeviceAuthFailure.Replay);
            }
        }

        return (device, DeviceAuthFailure.None);
    }

    private static bool SignatureMatches(string key, string stringToSign, string signature) =>
        CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Sign(key, stringToSign)), Encoding.ASCII.GetBytes(signature.ToLowerInvariant()));

    /// <summary>
    /// Remembers a correctly signed request's nonce in memory for the window; false when it was seen already (a replay).
    /// Checked before a signed alarm goes to the intake, so a captured press replayed over and over never reaches the
    /// alarm writer nor spends the device's rate limit; the durable check in the alarm's transaction (DeviceNonce) still
    /// catches a replay after a restart or at another instance.
    /// </summary>
    internal bool RememberNonce(int deviceId, string nonce)
    {
        var now = time.GetUtcNow().UtcDateTime;
        if (_recentNonces.Count >= MaxRememberedNonces)
        {
            ForgetNoncesBefore(now - Window - Window);
            if (_recentNonces.Count >= MaxRememberedNonces)
            {
                return true; // full of fresh nonces: leave this one to the durable check
            }
        }

        return _recentNonces.TryAdd((deviceId, nonce), now);
    }

    /// <summary>Forgets a remembered nonce whose request was not carried out after all (refused by the rate limit, or the write failed).</summary>
    internal void ForgetNonce(int deviceId, string nonce) => _recentNonces.TryRemove((deviceId, nonce), out _);

    /// <summary>Forgets nonces older than the window (a replay of them is stale anyway), in the table and in memory.</summary>
    public async Task<int> PruneNoncesAsync(CancellationToken ct = default)
    {
        var before = time.GetUtcNow().UtcDateTime - Window - Window;
        ForgetNoncesBefore(before);
        await using var connection = db.Open();
        return await connection.ExecuteAsync(new CommandDefinition(DeleteOldNonces, new { Before = before }, cancellationToken: ct)).ConfigureAwait(false);
    }

    /// <summary>Counts a replay found later on the write path (see <c>spendNonce</c>).</summary>
    public void CountReplay(string? remoteAddress) => refusals.Count(remoteAddress, DeviceRefusalReasons.Replay);

    private void ForgetNoncesBefore(DateTime before)
    {
        foreach (var (key, seen) in _recentNonces)
        {
            if (seen < before)
            {
                _recentNonces.TryRemove(key, out _);
            }
        }
    }

    private (Device?, DeviceAuthFailure) Refuse(DeviceRequest request, DeviceAuthFailure failure)
    {
        refusals.Count(request.RemoteAddress, failure.ToString());
        return (null, failure);
    }
}
