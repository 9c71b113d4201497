using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Portal.Core.Alarms;
using Portal.Core.Alerts;
using Portal.Core.Diagnostics;
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

    /// <summary>Too many requests from this address or this device; try again after <see cref="DeviceAnswer.RetryAfter"/> (HTTP 429).</summary>
    RateLimited,
}

/// <summary>
/// The entry point's answer: accepted (for an alarm its id and whether it joined the device's open alarm), or the
/// refusal. Never an exception for anything a device can send.
/// </summary>
public sealed record DeviceAnswer(DeviceRefusal Refusal, int AlarmId = 0, bool Joined = false, TimeSpan RetryAfter = default)
{
    public bool Accepted => Refusal == DeviceRefusal.None;

    public static DeviceAnswer Refused(DeviceRefusal refusal) => new(refusal);

    public static DeviceAnswer RateLimited(TimeSpan retryAfter) => new(DeviceRefusal.RateLimited, RetryAfter: retryAfter);
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
    DeviceRefusalCounter refusals,
    DeviceRateLimiter limiter,
    TimeProvider time,
    ILogger<DeviceIntake> logger)
{
    /// <summary>The largest body a device request may carry.</summary>
    public const int MaxBodyBytes = 16 * 1024;

    /// <summary>How often a device on the HTTP API should send a heartbeat (it is told so in each answer).</summary>
    public static readonly TimeSpan HeartbeatInterval = TimeSpan.FromSeconds(60);

    /// <summary>
    /// How long a SIP account's lookup (device row and decrypted password) is reused. A change made through this process
    /// (<see cref="DeviceRepository.CredentialGeneration"/>) drops it at once; this bounds a change written by another instance.
    /// </summary>
    public static readonly TimeSpan SipCredentialCacheAge = TimeSpan.FromSeconds(30);

    private const int MaxCachedSipAccounts = 100_000;

    private static readonly TimeSpan CentreCacheAge = TimeSpan.FromSeconds(30);

    private CentreList? _centres;

    // The registrar's lookups (issue 11): a registration storm reads and decrypts each account once, not per REGISTER.
    private readonly ConcurrentDictionary<string, CachedSipAccount> _sipAccounts = new(StringComparer.Ordinal);

    // The device row behind each cached account, for registration freshness without a read per registration.
    private readonly ConcurrentDictionary<int, CachedSipAccount> _sipDevices = new();

    /// <summary>
    /// The signed HTTP door: a terminal raises an alarm (<c>POST /api/device/alarms</c>). The code after the commit,
    /// down to the answer's bytes, runs on the alarm intake's answer thread (see <see cref="AlarmIntake"/>).
    /// </summary>
    public Task<DeviceAnswer> RaiseAsync(DeviceRequest request, CancellationToken ct = default) => RaiseAsync(request, answerInline: true, ct);

    /// <summary>
    /// <inheritdoc cref="RaiseAsync(DeviceRequest, CancellationToken)"/> Unless <paramref name="answerInline"/> is false:
    /// then on the thread pool (only to compare, see <c>Portal:DeviceAnswerInline</c>).
    /// </summary>
    public async Task<DeviceAnswer> RaiseAsync(DeviceRequest request, bool answerInline, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var (device, refusal) = await VerifyAsync(request, ct).ConfigureAwait(false);
        RequestStamps.Current?.Verified = RequestStamps.Now();
        if (device is null)
        {
            return DeviceAnswer.Refused(refusal);
        }

        if (device.Kind != DeviceKind.AlarmTerminal)
        {
            return Refuse(request.RemoteAddress, DeviceRefusalReasons.NotATerminal, DeviceRefusal.NotATerminal);
        }

        if (!IsEmptyOrJsonObject(request.Body))
        {
            return Refuse(request.RemoteAddress, DeviceRefusalReasons.MalformedJson, DeviceRefusal.MalformedBody);
        }

        // A replay of a captured press stops here, before it spends the terminal's allowance or reaches the alarm writer.
        if (!verifier.RememberNonce(device.Id, request.Nonce!))
        {
            return Refuse(request.RemoteAddress, DeviceRefusalReasons.Replay, DeviceRefusal.Replay);
        }

        // Nothing written yet when refused here or when the write fails: the same signed request may be sent again.
        if (!limiter.TryAcquire(device, out var retryAfter))
        {
            verifier.ForgetNonce(device.Id, request.Nonce!);
            refusals.Count(request.RemoteAddress, DeviceRefusalReasons.DeviceRateLimited);
            return DeviceAnswer.RateLimited(retryAfter);
        }

        try
        {
            return await SubmitAsync(device, AlarmSource.DeviceApi, request.RemoteAddress, request.Nonce, answerInline, ct).ConfigureAwait(false);
        }
        catch
        {
            verifier.ForgetNonce(device.Id, request.Nonce!);
            throw;
        }
    }

    /// <summary>
    /// The signed HTTP door for liveness: a device says it is alive (<c>POST /api/device/heartbeat</c>, about every
    /// <see cref="HeartbeatInterval"/>). Same signature and freshness rules as an alarm; its X-Timestamp must be newer
    /// than the device's last accepted heartbeat (else <see cref="DeviceRefusal.Replay"/>). Records the sighting in
    /// memory (<see cref="DevicePresence"/>): no database write on this path, and nothing in the alarm writer's queue.
    /// </summary>
    public async Task<DeviceAnswer> HeartbeatAsync(DeviceRequest request, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var (device, refusal) = await VerifyAsync(request, ct).ConfigureAwait(false);
        if (device is null)
        {
            return DeviceAnswer.Refused(refusal);
        }

        if (!IsEmptyOrJsonObject(request.Body))
        {
            return Refuse(request.RemoteAddress, DeviceRefusalReasons.MalformedJson, DeviceRefusal.MalformedBody);
        }

        // The verifier has checked the timestamp is a number within the window. A replay is refused before the
        // device's allowance is spent, so replaying its heartbeats cannot block its alarm presses.
        var signedUtc = DateTimeOffset.FromUnixTimeSeconds(long.Parse(request.Timestamp!, System.Globalization.CultureInfo.InvariantCulture)).UtcDateTime;
        if (!presence.TryAcceptHeartbeat(device, signedUtc))
        {
            return Refuse(request.RemoteAddress, DeviceRefusalReasons.Replay, DeviceRefusal.Replay);
        }

        if (!limiter.TryAcquire(device, out var retryAfter))
        {
            refusals.Count(request.RemoteAddress, DeviceRefusalReasons.DeviceRateLimited);
            return DeviceAnswer.RateLimited(retryAfter);
        }

        return new DeviceAnswer(DeviceRefusal.None);
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
            return Refuse(remoteAddress, (device is null ? DeviceAuthFailure.UnknownDevice : DeviceAuthFailure.Disabled).ToString(), DeviceRefusal.Unauthorized);
        }

        if (device.Kind != DeviceKind.AlarmTerminal)
        {
            return Refuse(remoteAddress, DeviceRefusalReasons.NotATerminal, DeviceRefusal.NotATerminal);
        }

        if (!limiter.TryAcquire(device, out var retryAfter))
        {
            refusals.Count(remoteAddress, DeviceRefusalReasons.DeviceRateLimited);
            return DeviceAnswer.RateLimited(retryAfter);
        }

        return await SubmitAsync(device, AlarmSource.Sip, remoteAddress, nonce: null, answerInline: false, ct).ConfigureAwait(false);
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

        // The generation is read before the row: a credential change committed after this read moves it, so what this
        // lookup caches is stale at once (never a revoked password kept under the new generation).
        var generation = devices.CredentialGeneration;
        if (_sipAccounts.TryGetValue(sipAccount, out var cached) && IsFresh(cached, generation))
        {
            return cached.Credential;
        }

        var device = await devices.GetBySipAccountAsync(sipAccount, ct).ConfigureAwait(false);
        var credential = device is null ? null
            : new SipDeviceCredential(device.Id, sipAccount, device.Enabled, device.Kind, device.SchoolId, secrets.Unprotect(device.SecretProtected));
        if (_sipAccounts.Count >= MaxCachedSipAccounts)
        {
            _sipAccounts.Clear();
            _sipDevices.Clear();
        }

        var entry = new CachedSipAccount(credential, device, generation, time.GetTimestamp());
        _sipAccounts[sipAccount] = entry;
        if (device is not null)
        {
            _sipDevices[device.Id] = entry;
        }

        return credential;
    }

    /// <summary>
    /// A terminal registered (or refreshed its registration) over SIP: it is alive. No database write on this path, and
    /// no read either when the registrar's lookup of the device is fresh (see <see cref="TrySipRegistered"/>).
    /// </summary>
    public async Task SipRegisteredAsync(int deviceId, CancellationToken ct = default)
    {
        if (TrySipRegistered(deviceId))
        {
            return;
        }

        if (await devices.GetByIdAsync(deviceId, ct).ConfigureAwait(false) is { } device)
        {
            presence.Seen(device);
        }
    }

    /// <summary>
    /// The registrar's fast path, on its receive thread: records the sighting from the row its credential lookup cached
    /// (in memory only) and returns true; false when that row is not cached or stale (then <see cref="SipRegisteredAsync"/>
    /// reads it). A row cached before its device became Connected is fine: <see cref="DevicePresence"/> remembers which
    /// devices it has just marked Connected and does not queue them again.
    /// </summary>
    public bool TrySipRegistered(int deviceId)
    {
        if (!_sipDevices.TryGetValue(deviceId, out var cached) || cached.Device is not { } device || !IsFresh(cached, devices.CredentialGeneration))
        {
            return false;
        }

        presence.Seen(device);
        return true;
    }

    private bool IsFresh(CachedSipAccount cached, long generation) =>
        cached.Generation == generation && time.GetElapsedTime(cached.Ticks) < SipCredentialCacheAge;

    /// <summary>One SIP account as read: the credential (null: no such account), its device row, when and under which generation.</summary>
    private sealed record CachedSipAccount(SipDeviceCredential? Credential, Device? Device, long Generation, long Ticks);

    /// <summary>The answer to a request whose body was longer than <see cref="MaxBodyBytes"/> (the door stops reading it).</summary>
    public DeviceAnswer RefuseOversized(string? remoteAddress) => Refuse(remoteAddress, DeviceRefusalReasons.BodyTooLarge, DeviceRefusal.BodyTooLarge);

    /// <summary>
    /// The door asks this before it reads a request's body: a <see cref="DeviceRefusal.RateLimited"/> answer when the
    /// device named by <paramref name="serial"/> has used up its allowance (see <see cref="DeviceRateLimiter"/>), else null.
    /// </summary>
    public DeviceAnswer? Throttled(string? serial, string? remoteAddress)
    {
        if (!limiter.IsBlocked(serial, out var retryAfter))
        {
            return null;
        }

        refusals.Count(remoteAddress, DeviceRefusalReasons.DeviceRateLimited);
        return DeviceAnswer.RateLimited(retryAfter);
    }

    /// <summary>Counts a refusal by the door's own per-address limit (it answers before anything reaches this class).</summary>
    public void CountAddressLimited(string? remoteAddress) => refusals.Count(remoteAddress, DeviceRefusalReasons.RateLimited);

    private async Task<(Device? Device, DeviceRefusal Refusal)> VerifyAsync(DeviceRequest request, CancellationToken ct)
    {
        var (device, failure) = await verifier.VerifySignatureAsync(request, ct).ConfigureAwait(false);
        return device is not null ? (device, DeviceRefusal.None)
            : (null, failure == DeviceAuthFailure.Malformed ? DeviceRefusal.Malformed : DeviceRefusal.Unauthorized);
    }

    /// <summary>
    /// Writes the alarm through the intake. With <paramref name="answerInline"/> (the HTTP door) the code after the
    /// commit runs on the intake's answer thread, so the device's answer does not queue behind the consoles' renders
    /// for a thread-pool thread: it must not block there, so what may touch the database afterwards (the routing check
    /// when its list is stale, an administrator alert) moves to the thread pool first.
    /// </summary>
    private async Task<DeviceAnswer> SubmitAsync(Device device, AlarmSource source, string? remoteAddress, string? nonce, bool answerInline, CancellationToken ct)
    {
        var school = await schools.GetByIdAsync(device.SchoolId, ct).ConfigureAwait(false);
        if (school is null)
        {
            // Device.SchoolId is a foreign key: only a school deleted under a running request gets here.
            logger.LogError("Device {DeviceId} raised an alarm but its school {SchoolId} does not exist", device.Id, device.SchoolId);
            return DeviceAnswer.Refused(DeviceRefusal.NoCentre);
        }

        RequestStamps.Current?.SchoolRead = RequestStamps.Now();
        var receipt = await alarms.SubmitAsync(new AlarmSignal(school.Id, school.DistrictId, device.Id, source, false, false, remoteAddress, Nonce: nonce), answerInline, ct).ConfigureAwait(false);
        RequestStamps.Current?.Resumed = RequestStamps.Now();
        presence.Seen(device);
        if (receipt.Replay)
        {
            return Refuse(remoteAddress, DeviceRefusalReasons.Replay, DeviceRefusal.Replay);
        }

        if (receipt.NoCentre)
        {
            refusals.Count(remoteAddress, DeviceRefusalReasons.NoCentre);
            logger.LogError("Alarm from device {DeviceId} at school {SchoolCode} refused: no 110 centre for district {DistrictId} and no city centre",
                device.Id, school.Code, school.DistrictId);
            await Task.Run(() => AlertAsync(AdminAlertKinds.NoCentre, school, "refused", ct), ct).ConfigureAwait(false);
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
            cached = new CentreList(now, await Task.Run(() => districts.GetCentresAsync(ct), ct).ConfigureAwait(false));
            _centres = cached;
        }

        if (!cached.Centres.Any(c => c.DistrictId == school.DistrictId) && cached.Centres.Any(c => c.DistrictId is null))
        {
            logger.LogWarning("District {DistrictId} has no 110 centre: the alarm of school {SchoolCode} goes to the city centre", school.DistrictId, school.Code);
            await Task.Run(() => AlertAsync(AdminAlertKinds.DistrictWithoutCentre, school, "routed to the city centre", ct), ct).ConfigureAwait(false);
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

    private DeviceAnswer Refuse(string? remoteAddress, string reason, DeviceRefusal refusal)
    {
        refusals.Count(remoteAddress, reason);
        return DeviceAnswer.Refused(refusal);
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
