using System.Text.Json;
using Microsoft.Extensions.Logging;
using Portal.Core.Alarms;
using Portal.Core.Alerts;
using Portal.Core.Schools;

namespace Portal.Core.Devices;

/// <summary>Why a device request was refused, as the caller may be told it; the doors map each to their protocol.</summary>
public enum DeviceRefusal
{
    None = 0,

    /// <summary>Signing headers missing or malformed (HTTP 400).</summary>
    Malformed,

    /// <summary>
    /// Unknown serial or SIP account, bad signature, stale timestamp, disabled device, no key: one answer for all
    /// (HTTP 401, SIP 403), so a stranger learns nothing about which serials exist. The reason goes to the counters.
    /// </summary>
    Unauthorized,

    /// <summary>A correctly signed request whose nonce was spent already, or a heartbeat no newer than the last (HTTP 409).</summary>
    Replay,

    /// <summary>An authenticated device that may not do this, e.g. a camera raising an alarm (HTTP 403).</summary>
    NotATerminal,

    /// <summary>The body is neither empty nor a JSON object (HTTP 400).</summary>
    MalformedBody,

    /// <summary>The body is larger than <see cref="DeviceIntake.MaxBodyBytes"/> (HTTP 413).</summary>
    BodyTooLarge,

    /// <summary>No 110 centre can take the alarm: neither the school's district nor the city has one (HTTP 503, SIP 503).</summary>
    NoCentre,
}

/// <summary>
/// The entry point's answer: accepted (for an alarm its id and whether it joined the device's open alarm), or the
/// refusal. Never an exception for anything a device can send.
/// </summary>
public sealed record DeviceAnswer(DeviceRefusal Refusal, int AlarmId = 0, bool Joined = false)
{
    public bool Accepted => Refusal == DeviceRefusal.None;

    public static DeviceAnswer Refused(DeviceRefusal refusal) => new(refusal);
}

/// <summary>
/// What the SIP registrar needs to check a terminal's digest: the device behind a SIP account and its SIP password,
/// decrypted only in memory (stored as <see cref="Device.SecretProtected"/>, see <see cref="DeviceIntake"/>).
/// <see cref="ToString"/> leaves the password out, so logging the record cannot leak it.
/// </summary>
public sealed record SipDeviceCredential(int DeviceId, string SipAccount, bool Enabled, DeviceKind Kind, int SchoolId, string? Password)
{
    public override string ToString() =>
        $"SipDeviceCredential {{ DeviceId = {DeviceId}, SipAccount = {SipAccount}, Enabled = {Enabled}, Kind = {Kind}, SchoolId = {SchoolId}, Password = {(Password is null ? "none" : "***")} }}";
}

/// <summary>
/// The one way in for every device request (DESIGN.md, "One way in for every device alarm"). Whatever the door (the
/// signed HTTP device API, a SIP call from a terminal the SIP registrar has authenticated), it verifies the device,
/// spends its nonce (in the alarm's own transaction), routes, commits through the group-commit <see cref="AlarmIntake"/>,
/// which publishes once committed, and marks the device seen (<see cref="DevicePresence"/>, off the request's path).
/// The doors only translate their protocol to these calls and the <see cref="DeviceAnswer"/> back.
/// <para>
/// Where the secrets live: a terminal's HMAC key for the HTTP device API is <see cref="Device.ApiKeyProtected"/>; its
/// SIP digest password is <see cref="Device.SecretProtected"/> (the device's own login secret: for a camera its
/// RTSP/ONVIF password, for a terminal its SIP password; the SIP account is <see cref="Device.SipAccount"/>). Both are
/// Data Protection ciphertext (<see cref="DeviceSecrets"/>) and are decrypted only in memory, where a protocol needs them.
/// Demo terminals' SIP passwords are <see cref="Demo.DemoCity.DemoSipPassword"/>.
/// </para>
/// </summary>
public sealed class DeviceIntake(
    DeviceRequestVerifier verifier,
    DeviceRepository devices,
    SchoolRepository schools,
    DistrictRepository districts,
    DeviceSecrets secrets,
    AlarmIntake alarms,
    DevicePresence presence,
    AdminAlertRepository alerts,
    TimeProvider time,
    ILogger<DeviceIntake> logger)
{
    /// <summary>The largest body a device request may carry.</summary>
    public const int MaxBodyBytes = 16 * 1024;

    private static readonly TimeSpan CentreCacheAge = TimeSpan.FromSeconds(30);

    private CentreList? _centres;

    /// <summary>The signed HTTP door: a terminal raises an alarm (<c>POST /api/device/alarms</c>).</summary>
    public async Task<DeviceAnswer> RaiseAsync(DeviceRequest request, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var (device, refusal) = await VerifyAsync(request, ct).ConfigureAwait(false);
        if (device is null)
        {
            return DeviceAnswer.Refused(refusal);
        }

        if (device.Kind != DeviceKind.AlarmTerminal)
        {
            await verifier.LogAsync(request.RemoteAddress, device.Id, "NotATerminal", null, ct).ConfigureAwait(false);
            return DeviceAnswer.Refused(DeviceRefusal.NotATerminal);
        }

        if (!IsEmptyOrJsonObject(request.Body))
        {
            await verifier.LogAsync(request.RemoteAddress, device.Id, "MalformedJson", null, ct).ConfigureAwait(false);
            return DeviceAnswer.Refused(DeviceRefusal.MalformedBody);
        }

        return await SubmitAsync(device, AlarmSource.DeviceApi, request.RemoteAddress, request.Nonce, ct).ConfigureAwait(false);
    }

    /// <summary>
    /// The SIP door: a terminal the SIP registrar has authenticated by digest (<see cref="GetSipCredentialAsync"/>)
    /// calls the alarm number. The device is read again here, so one disabled since it registered is refused.
    /// </summary>
    public async Task<DeviceAnswer> RaiseFromSipAsync(int deviceId, string? remoteAddress, CancellationToken ct = default)
    {
        var device = await devices.GetByIdAsync(deviceId, ct).ConfigureAwait(false);
        if (device is null || !device.Enabled)
        {
            await verifier.LogAsync(remoteAddress, device?.Id, device is null ? nameof(DeviceAuthFailure.UnknownDevice) : nameof(DeviceAuthFailure.Disabled), "sip", ct).ConfigureAwait(false);
            return DeviceAnswer.Refused(DeviceRefusal.Unauthorized);
        }

        if (device.Kind != DeviceKind.AlarmTerminal)
        {
            await verifier.LogAsync(remoteAddress, device.Id, "NotATerminal", "sip", ct).ConfigureAwait(false);
            return DeviceAnswer.Refused(DeviceRefusal.NotATerminal);
        }

        return await SubmitAsync(device, AlarmSource.Sip, remoteAddress, nonce: null, ct).ConfigureAwait(false);
    }

    /// <summary>
    /// The SIP registrar's lookup: the device behind <paramref name="sipAccount"/> and its SIP password (plain, in
    /// memory only; null when none is set or it cannot be decrypted). Null when no device has the account. The
    /// registrar refuses a disabled device, a non-terminal or a missing password itself, with the same answer as a
    /// wrong password.
    /// </summary>
    public async Task<SipDeviceCredential?> GetSipCredentialAsync(string sipAccount, CancellationToken ct = default)
    {
        if (string.IsNullOrWhiteSpace(sipAccount) || sipAccount.Length > 64)
        {
            return null;
        }

        var device = await devices.GetBySipAccountAsync(sipAccount, ct).ConfigureAwait(false);
        return device is null ? null
            : new SipDeviceCredential(device.Id, sipAccount, device.Enabled, device.Kind, device.SchoolId, secrets.Unprotect(device.SecretProtected));
    }

    /// <summary>A terminal registered (or refreshed its registration) over SIP: it is alive. No database write on this path.</summary>
    public async Task SipRegisteredAsync(int deviceId, CancellationToken ct = default)
    {
        if (await devices.GetByIdAsync(deviceId, ct).ConfigureAwait(false) is { } device)
        {
            presence.Seen(device);
        }
    }

    /// <summary>The answer to a request whose body was longer than <see cref="MaxBodyBytes"/> (the door stops reading it).</summary>
    public async Task<DeviceAnswer> RefuseOversizedAsync(string? remoteAddress, long? length, CancellationToken ct = default)
    {
        await verifier.LogAsync(remoteAddress, null, "BodyTooLarge", length?.ToString(System.Globalization.CultureInfo.InvariantCulture), ct).ConfigureAwait(false);
        return DeviceAnswer.Refused(DeviceRefusal.BodyTooLarge);
    }

    private async Task<(Device? Device, DeviceRefusal Refusal)> VerifyAsync(DeviceRequest request, CancellationToken ct)
    {
        var (device, failure) = await verifier.VerifySignatureAsync(request, ct).ConfigureAwait(false);
        return device is not null ? (device, DeviceRefusal.None)
            : (null, failure == DeviceAuthFailure.Malformed ? DeviceRefusal.Malformed : DeviceRefusal.Unauthorized);
    }

    private async Task<DeviceAnswer> SubmitAsync(Device device, AlarmSource source, string? remoteAddress, string? nonce, CancellationToken ct)
    {
        var school = await schools.GetByIdAsync(device.SchoolId, ct).ConfigureAwait(false);
        if (school is null)
        {
            // Device.SchoolId is a foreign key: only a school deleted under a running request gets here.
            logger.LogError("Device {DeviceId} raised an alarm but its school {SchoolId} does not exist", device.Id, device.SchoolId);
            return DeviceAnswer.Refused(DeviceRefusal.NoCentre);
        }

        var receipt = await alarms.SubmitAsync(new AlarmSignal(school.Id, school.DistrictId, device.Id, source, false, false, remoteAddress, Nonce: nonce), ct).ConfigureAwait(false);
        presence.Seen(device);
        if (receipt.Replay)
        {
            await verifier.LogReplayAsync(remoteAddress, device.Id, ct).ConfigureAwait(false);
            return DeviceAnswer.Refused(DeviceRefusal.Replay);
        }

        if (receipt.NoCentre)
        {
            logger.LogError("Alarm from device {DeviceId} at school {SchoolCode} refused: no 110 centre for district {DistrictId} and no city centre",
                device.Id, school.Code, school.DistrictId);
            await AlertAsync(AdminAlertKinds.NoCentre, school, "refused", ct).ConfigureAwait(false);
            return DeviceAnswer.Refused(DeviceRefusal.NoCentre);
        }

        if (!receipt.Joined)
        {
            await CheckRoutingAsync(school, ct).ConfigureAwait(false);
        }

        return new DeviceAnswer(DeviceRefusal.None, receipt.AlarmId, receipt.Joined);
    }

    /// <summary>
    /// A district without its own 110 centre has its alarms taken by the city centre (the intake routes them there);
    /// an administrator is told, in one open alert per district, so the gap does not go unnoticed. Checked after the
    /// alarm is committed and answered for, against a list of centres at most <see cref="CentreCacheAge"/> old.
    /// </summary>
    private async Task CheckRoutingAsync(School school, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var cached = _centres;
        if (cached is null || now - cached.LoadedAt > CentreCacheAge)
        {
            cached = new CentreList(now, await districts.GetCentresAsync(ct).ConfigureAwait(false));
            _centres = cached;
        }

        if (!cached.Centres.Any(c => c.DistrictId == school.DistrictId) && cached.Centres.Any(c => c.DistrictId is null))
        {
            logger.LogWarning("District {DistrictId} has no 110 centre: the alarm of school {SchoolCode} goes to the city centre", school.DistrictId, school.Code);
            await AlertAsync(AdminAlertKinds.DistrictWithoutCentre, school, "routed to the city centre", ct).ConfigureAwait(false);
        }
    }

    private async Task AlertAsync(string kind, School school, string what, CancellationToken ct)
    {
        try
        {
            await alerts.RaiseAsync(kind, $"District {school.DistrictId}", $"Last: school {school.Code} {school.Name}, {what}.", time.GetUtcNow().UtcDateTime, ct).ConfigureAwait(false);
        }
        catch (System.Data.Common.DbException ex)
        {
            logger.LogError(ex, "Could not record the administrator alert {Kind} for district {DistrictId}", kind, school.DistrictId);
        }
    }

    private static bool IsEmptyOrJsonObject(ReadOnlyMemory<byte> body)
    {
        if (body.IsEmpty)
        {
            return true;
        }

        try
        {
            using var doc = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = 8 });
            return doc.RootElement.ValueKind == JsonValueKind.Object;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private sealed record CentreList(DateTimeOffset LoadedAt, IReadOnlyList<PoliceCentre> Centres);
}
