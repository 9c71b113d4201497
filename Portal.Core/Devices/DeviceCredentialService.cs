using System.Security.Cryptography;
using Portal.Core.Audit;
using Portal.Core.Security;

namespace Portal.Core.Devices;

/// <summary>Settings of the credential administration.</summary>
/// <param name="ApiKeyOverlap">How long a rotated-out API key is still accepted, so a terminal being re-keyed misses no alarm.</param>
public sealed record DeviceCredentialOptions(TimeSpan ApiKeyOverlap)
{
    public static readonly DeviceCredentialOptions Default = new(TimeSpan.FromMinutes(15));
}

/// <summary>What an administrator may know about a device's credentials: whether each is set, never its value.</summary>
public sealed record DeviceCredentialState(
    int DeviceId,
    DeviceKind Kind,
    string SerialNumber,
    bool HasApiKey,
    DateTime? ApiKeyIssuedUtc,
    DateTime? PreviousKeyValidUntilUtc,
    bool HasPassword,
    bool HasUsername,
    bool RekeyRequired);

/// <summary>The outcome of a credential change: an error code (nothing changed), or success with the new secret to show once.</summary>
public sealed record CredentialResult(string? Error, string? Secret = null)
{
    public bool Succeeded => Error is null;

    public static CredentialResult Fail(string code) => new(code);
}

/// <summary>
/// Issues, rotates and revokes device credentials for administrators: a terminal's device API key and SIP
/// password (generated here, returned once, stored only protected), a camera's user name and password (set
/// here, never read back). Every change is audited without its value.
/// </summary>
public sealed class DeviceCredentialService(
    DeviceRepository devices,
    DeviceSecrets secrets,
    AuditRepository audit,
    DeviceCredentialOptions options,
    TimeProvider time)
{
    public const string NotFound = "NotFound";
    public const string NotATerminal = "NotATerminal";
    public const string NotACamera = "NotACamera";
    public const string Required = "Required";
    public const string TooLong = "TooLong";

    /// <summary>Characters of generated SIP passwords: no 0/O, 1/l/I, nothing a keypad or digest header trips on.</summary>
    private const string PasswordAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";

    public async Task<DeviceCredentialState?> GetStateAsync(UserScope scope, int deviceId, CancellationToken ct = default)
    {
        scope.Require(Roles.Admin);
        var c = await devices.GetCredentialsAsync(deviceId, ct).ConfigureAwait(false);
        if (c is null)
        {
            return null;
        }

        var now = time.GetUtcNow().UtcDateTime;
        var previousUntil = c.ApiKeyPreviousProtected is not null && c.ApiKeyPreviousUntilUtc is { } until && until > now ? until : (DateTime?)null;
        return new DeviceCredentialState(c.Id, c.Kind, c.SerialNumber, c.ApiKeyProtected is not null, c.ApiKeyIssuedUtc, previousUntil,
            c.SecretProtected is not null, !string.IsNullOrEmpty(c.Username), c.RekeyRequired);
    }

    /// <summary>
    /// Generates a terminal's device API key. When it has one already this is a rotation: the old key keeps
    /// working for <see cref="DeviceCredentialOptions.ApiKeyOverlap"/>, then only the new one does.
    /// </summary>
    public async Task<CredentialResult> IssueApiKeyAsync(Actor actor, int deviceId, CancellationToken ct = default)
    {
        var (device, refused) = await LoadAsync(actor, deviceId, DeviceKind.AlarmTerminal, ct).ConfigureAwait(false);
        if (refused is not null)
        {
            return refused;
        }

        var key = NewApiKey();
        var now = time.GetUtcNow().UtcDateTime;
        var rotation = device.ApiKeyProtected is not null;
        if (!await devices.RotateApiKeyAsync(deviceId, secrets.Protect(key)!, now + options.ApiKeyOverlap, now, ct).ConfigureAwait(false))
        {
            return CredentialResult.Fail(NotFound);
        }

        await audit.WriteAsync(actor, rotation ? AuditActions.DeviceApiKeyRotated : AuditActions.DeviceApiKeyIssued, Target(device),
            rotation ? "previous key valid until " + (now + options.ApiKeyOverlap).ToString("u", System.Globalization.CultureInfo.InvariantCulture) : null, ct).ConfigureAwait(false);
        return new CredentialResult(null, key);
    }

    /// <summary>Removes the API key (and any previous one) at once: for a stolen or retired terminal.</summary>
    public async Task<CredentialResult> RevokeApiKeyAsync(Actor actor, int deviceId, CancellationToken ct = default)
    {
        var (device, refused) = await LoadAsync(actor, deviceId, kind: null, ct).ConfigureAwait(false);
        if (refused is not null || !await devices.RevokeApiKeyAsync(deviceId, time.GetUtcNow().UtcDateTime, ct).ConfigureAwait(false))
        {
            return CredentialResult.Fail(NotFound);
        }

        await audit.WriteAsync(actor, AuditActions.DeviceApiKeyRevoked, Target(device), null, ct).ConfigureAwait(false);
        return new CredentialResult(null);
    }

    /// <summary>Generates (or replaces) a terminal's SIP digest password; returns it once.</summary>
    public async Task<CredentialResult> IssueSipPasswordAsync(Actor actor, int deviceId, CancellationToken ct = default)
    {
        var (device, refused) = await LoadAsync(actor, deviceId, DeviceKind.AlarmTerminal, ct).ConfigureAwait(false);
        if (refused is not null)
        {
            return refused;
        }

        var password = RandomNumberGenerator.GetString(PasswordAlphabet, 20);
        await devices.SetSecretAsync(deviceId, secrets.Protect(password), time.GetUtcNow().UtcDateTime, ct).ConfigureAwait(false);
        await audit.WriteAsync(actor, AuditActions.DeviceSipPasswordIssued, Target(device), null, ct).ConfigureAwait(false);
        return new CredentialResult(null, password);
    }

    /// <summary>Removes a terminal's SIP password: its next registration is refused.</summary>
    public async Task<CredentialResult> RevokeSipPasswordAsync(Actor actor, int deviceId, CancellationToken ct = default)
    {
        var (device, refused) = await LoadAsync(actor, deviceId, DeviceKind.AlarmTerminal, ct).ConfigureAwait(false);
        if (refused is not null)
        {
            return refused;
        }

        await devices.SetSecretAsync(deviceId, null, time.GetUtcNow().UtcDateTime, ct).ConfigureAwait(false);
        await audit.WriteAsync(actor, AuditActions.DeviceSipPasswordRevoked, Target(device), null, ct).ConfigureAwait(false);
        return new CredentialResult(null);
    }

    /// <summary>Sets a gate camera's user name and password for RTSP and ONVIF. Neither is ever shown again.</summary>
    public async Task<CredentialResult> SetCameraLoginAsync(Actor actor, int deviceId, string? username, string? password, CancellationToken ct = default)
    {
        var (device, refused) = await LoadAsync(actor, deviceId, DeviceKind.GateCamera, ct).ConfigureAwait(false);
        if (refused is not null)
        {
            return refused;
        }

        var user = username?.Trim() ?? string.Empty;
        if (user.Length == 0 || string.IsNullOrEmpty(password))
        {
            return CredentialResult.Fail(Required);
        }

        if (user.Length > 64 || password.Length > 128)
        {
            return CredentialResult.Fail(TooLong);
        }

        await devices.SetLoginAsync(deviceId, user, secrets.Protect(password), time.GetUtcNow().UtcDateTime, ct).ConfigureAwait(false);
        await audit.WriteAsync(actor, AuditActions.DeviceCameraLoginSet, Target(device), null, ct).ConfigureAwait(false);
        return new CredentialResult(null);
    }

    /// <summary>
    /// An administrator's view of the device's credentials, or the refusal: NotFound, or the device is not of
    /// <paramref name="kind"/> (null: any kind).
    /// </summary>
    private async Task<(DeviceCredentials Device, CredentialResult? Refused)> LoadAsync(Actor actor, int deviceId, DeviceKind? kind, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(actor);
        actor.Scope.Require(Roles.Admin);
        var device = await devices.GetCredentialsAsync(deviceId, ct).ConfigureAwait(false);
        return device is null ? (null!, CredentialResult.Fail(NotFound))
            : kind is { } k && device.Kind != k ? (device, CredentialResult.Fail(k == DeviceKind.GateCamera ? NotACamera : NotATerminal))
            : (device, null);
    }

    /// <summary>256 random bits, URL-safe base64: what a terminal stores and signs with (HMAC-SHA256 over its UTF-8 bytes).</summary>
    internal static string NewApiKey() =>
        Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static string Target(DeviceCredentials device) => "device " + device.SerialNumber;
}
