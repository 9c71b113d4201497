using System.Globalization;
using Dapper;
using Portal.Core.Audit;
using Portal.Core.Data;
using Portal.Core.Devices;
using Portal.Core.Security;
using Portal.Simulator.Terminals;
using Portal.Tests.Core.Alarms;
using Xunit;

namespace Portal.Tests.Core.Devices;

/// <summary>
/// Issue 13: the credentials an administrator issues for a terminal, checked by the real device verifier on a fake
/// clock: a new key works at once, a rotated-out key only for the overlap, a revoked key not at all.
/// </summary>
public sealed class DeviceCredentialServiceTests : IAsyncLifetime
{
    private static readonly Actor Admin = new(new UserScope(1, "admin", Roles.Admin, null, null), "192.0.2.5");
    private static readonly TimeSpan Overlap = TimeSpan.FromMinutes(10);

    private AlarmTestCity _city = default!;
    private DeviceCredentialService _service = default!;
    private AuditRepository _audit = default!;
    private int _nonce;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync()
    {
        _city = new AlarmTestCity();
        _audit = new AuditRepository(_city.Database.Db, _city.Time);
        _service = new DeviceCredentialService(_city.Devices, _city.Secrets, _audit, new DeviceCredentialOptions(Overlap), _city.Time);
        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync() => _city.DisposeAsync();

    private async Task<DeviceAuthFailure> PressAsync(string serial, string key)
    {
        var body = "{}"u8.ToArray();
        var ts = _city.Time.GetUtcNow().ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var nonce = "cred-nonce-" + (++_nonce).ToString(CultureInfo.InvariantCulture);
        var request = new DeviceRequest("POST", SignedAlarmClient.AlarmPath, serial, ts, nonce, SignedAlarmClient.Sign(key, "POST", SignedAlarmClient.AlarmPath, ts, nonce, body), body, "192.0.2.7");
        return (await _city.Verifier.VerifyAsync(request, Ct)).Failure;
    }

    [Fact]
    public async Task IssueApiKeyAsync_NewThenRotated_OldKeyAcceptedOnlyDuringTheOverlap()
    {
        var (_, terminal) = await _city.SchoolInDistrictAsync("370202");
        Assert.True((await _service.RevokeApiKeyAsync(Admin, terminal.Id, Ct)).Succeeded); // the demo key goes: a terminal without one
        var first = await _service.IssueApiKeyAsync(Admin, terminal.Id, Ct);
        Assert.True(first.Succeeded);
        Assert.Equal(DeviceAuthFailure.None, await PressAsync(terminal.SerialNumber, first.Secret!));

        var second = await _service.IssueApiKeyAsync(Admin, terminal.Id, Ct);
        Assert.NotEqual(first.Secret, second.Secret);
        Assert.Equal(DeviceAuthFailure.None, await PressAsync(terminal.SerialNumber, second.Secret!));
        Assert.Equal(DeviceAuthFailure.None, await PressAsync(terminal.SerialNumber, first.Secret!));
        var state = await _service.GetStateAsync(Admin.Scope, terminal.Id, Ct);
        Assert.Equal(_city.Time.GetUtcNow().UtcDateTime + Overlap, state!.PreviousKeyValidUntilUtc);

        _city.Time.Advance(Overlap);
        Assert.Equal(DeviceAuthFailure.BadSignature, await PressAsync(terminal.SerialNumber, first.Secret!));
        Assert.Equal(DeviceAuthFailure.None, await PressAsync(terminal.SerialNumber, second.Secret!));
        Assert.Null((await _service.GetStateAsync(Admin.Scope, terminal.Id, Ct))!.PreviousKeyValidUntilUtc);

        var actions = (await _audit.GetPageAsync(new AuditQuery("device " + terminal.SerialNumber), new PageRequest(0, 10), Ct)).Items.Select(e => e.Action).ToList();
        Assert.Equal([AuditActions.DeviceApiKeyRotated, AuditActions.DeviceApiKeyIssued, AuditActions.DeviceApiKeyRevoked], actions);
    }

    [Fact]
    public async Task RevokeApiKeyAsync_KeyAndPreviousRefusedAtOnce()
    {
        var (_, terminal) = await _city.SchoolInDistrictAsync("370203");
        var first = await _service.IssueApiKeyAsync(Admin, terminal.Id, Ct);
        var second = await _service.IssueApiKeyAsync(Admin, terminal.Id, Ct);
        Assert.True((await _service.RevokeApiKeyAsync(Admin, terminal.Id, Ct)).Succeeded);
        Assert.Equal(DeviceAuthFailure.NoKey, await PressAsync(terminal.SerialNumber, second.Secret!));
        Assert.Equal(DeviceAuthFailure.NoKey, await PressAsync(terminal.SerialNumber, first.Secret!));
        Assert.False((await _service.GetStateAsync(Admin.Scope, terminal.Id, Ct))!.HasApiKey);
    }

    [Fact]
    public async Task Secrets_AreStoredProtectedAndNeverInTheAuditOrTheState()
    {
        var (school, terminal) = await _city.SchoolInDistrictAsync("370211");
        var camera = (await _city.Devices.GetManyBySchoolIdAsync(school.Id, Ct)).Single(d => d.Kind == DeviceKind.GateCamera);
        var key = (await _service.IssueApiKeyAsync(Admin, terminal.Id, Ct)).Secret!;
        var sip = (await _service.IssueSipPasswordAsync(Admin, terminal.Id, Ct)).Secret!;
        Assert.True((await _service.SetCameraLoginAsync(Admin, camera.Id, "onvif-admin", "Cam-Pass-123", Ct)).Succeeded);
        Assert.Equal(20, sip.Length);
        Assert.Equal(43, key.Length);

        await using var connection = _city.Database.Db.Open();
        var everything = string.Join("\n", await connection.QueryAsync<string>(
            "SELECT COALESCE(ApiKeyProtected, '') || COALESCE(SecretProtected, '') || COALESCE(Username, '') FROM Device WHERE Id IN (@t, @c)", new { t = terminal.Id, c = camera.Id }))
            + string.Join("\n", await connection.QueryAsync<string>("SELECT COALESCE(Target, '') || COALESCE(Detail, '') FROM AuditLog"));
        Assert.DoesNotContain(key, everything, StringComparison.Ordinal);
        Assert.DoesNotContain(sip, everything, StringComparison.Ordinal);
        Assert.DoesNotContain("Cam-Pass-123", everything, StringComparison.Ordinal);
        Assert.Equal(sip, _city.Secrets.Unprotect((await _city.Devices.GetByIdAsync(terminal.Id, Ct))!.SecretProtected));

        var cameraState = await _service.GetStateAsync(Admin.Scope, camera.Id, Ct);
        Assert.True(cameraState is { HasUsername: true, HasPassword: true });
        Assert.DoesNotContain("onvif-admin", cameraState.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Changes_WrongKindMissingDeviceOrNotAdmin_RefusedNothingChanged()
    {
        var (school, terminal) = await _city.SchoolInDistrictAsync("370212");
        var camera = (await _city.Devices.GetManyBySchoolIdAsync(school.Id, Ct)).Single(d => d.Kind == DeviceKind.GateCamera);
        Assert.Equal(DeviceCredentialService.NotATerminal, (await _service.IssueApiKeyAsync(Admin, camera.Id, Ct)).Error);
        Assert.Equal(DeviceCredentialService.NotACamera, (await _service.SetCameraLoginAsync(Admin, terminal.Id, "u", "p", Ct)).Error);
        Assert.Equal(DeviceCredentialService.Required, (await _service.SetCameraLoginAsync(Admin, camera.Id, " ", "p", Ct)).Error);
        Assert.Equal(DeviceCredentialService.NotFound, (await _service.IssueApiKeyAsync(Admin, 987654, Ct)).Error);
        var principal = new Actor(new UserScope(2, "p", Roles.Principal, school.DistrictId, school.Id), null);
        await Assert.ThrowsAsync<ScopeDeniedException>(() => _service.IssueApiKeyAsync(principal, terminal.Id, Ct));
        Assert.Equal(terminal, await _city.Devices.GetByIdAsync(terminal.Id, Ct));
        Assert.Equal(camera, await _city.Devices.GetByIdAsync(camera.Id, Ct));
    }
}
