using Portal.Core.Audit;
using Portal.Core.Data;
using Portal.Core.Devices;
using Portal.Core.Security;
using Portal.Tests.Data;
using Xunit;

namespace Portal.Tests.Core.Devices;

/// <summary>
/// Issue #15, item 3: the pre-warm setting on a real SQLite database. Administrators only, audited; a school's own setting
/// wins over its district's, default off; only gate cameras with a sub-stream are pre-warmed.
/// </summary>
public sealed class GateCameraPrewarmServiceTests : IDisposable
{
    private static readonly Actor Admin = new(new UserScope(1, "admin", Roles.Admin, null, null), "192.0.2.5");

    private readonly SqliteDb _database = new();
    private readonly GateCameraPrewarmRepository _settings;
    private readonly AuditRepository _audit;
    private readonly GateCameraPrewarmService _service;

    public GateCameraPrewarmServiceTests()
    {
        _settings = new GateCameraPrewarmRepository(_database.Db);
        _audit = new AuditRepository(_database.Db, TimeProvider.System);
        _service = new GateCameraPrewarmService(_settings, _audit, TimeProvider.System);
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => _database.Dispose();

    private async Task<RegistrySeed.Seeded> SchoolWithSubStreamAsync()
    {
        var seeded = await RegistrySeed.SchoolWithDevicesAsync(_database.Db, TimeProvider.System.GetUtcNow().UtcDateTime, Ct);
        await new DeviceRepository(_database.Db).UpdateAsync(seeded.Camera with { RtspSubStreamUrl = "rtsp://192.0.2.9/Streaming/Channels/102" }, Ct);
        return seeded;
    }

    [Theory]
    [InlineData(Roles.CityOperator, null, null)]
    [InlineData(Roles.DistrictOperator, 1, null)]
    [InlineData(Roles.Bureau, null, null)]
    [InlineData(Roles.Principal, 1, 1)]
    public async Task SetAsync_NotAdmin_RefusedAndNothingWritten(string role, int? districtId, int? schoolId)
    {
        var seeded = await SchoolWithSubStreamAsync();
        var actor = new Actor(new UserScope(7, "someone", role, districtId is null ? null : seeded.District.Id, schoolId is null ? null : seeded.School.Id), "192.0.2.6");

        await Assert.ThrowsAsync<ScopeDeniedException>(() => _service.SetSchoolAsync(actor, seeded.School.Id, true, Ct));
        await Assert.ThrowsAsync<ScopeDeniedException>(() => _service.SetDistrictAsync(actor, seeded.District.Id, true, Ct));
        await Assert.ThrowsAsync<ScopeDeniedException>(() => _service.GetAllAsync(actor.Scope, Ct));

        Assert.Empty(await _settings.GetAllAsync(Ct));
        Assert.Empty(await _settings.GetCameraIdsAsync(Ct));
        Assert.Equal(0, (await _audit.GetPageAsync(new AuditQuery(Action: AuditActions.PrewarmChanged), new PageRequest(0, 10), Ct)).Total);
    }

    [Fact]
    public async Task GetCameraIdsAsync_SchoolSettingWinsOverDistrict_DefaultOff()
    {
        var seeded = await SchoolWithSubStreamAsync();
        var changes = 0;
        _service.Changed += () => changes++;
        Assert.Empty(await _settings.GetCameraIdsAsync(Ct)); // default off

        await _service.SetDistrictAsync(Admin, seeded.District.Id, true, Ct);
        Assert.Equal([seeded.Camera.Id], await _settings.GetCameraIdsAsync(Ct)); // the school follows its district

        await _service.SetSchoolAsync(Admin, seeded.School.Id, false, Ct);
        Assert.Empty(await _settings.GetCameraIdsAsync(Ct)); // the school's own "off" wins

        await _service.SetDistrictAsync(Admin, seeded.District.Id, null, Ct);
        await _service.SetSchoolAsync(Admin, seeded.School.Id, true, Ct);
        Assert.Equal([seeded.Camera.Id], await _settings.GetCameraIdsAsync(Ct)); // the school's own "on" with no district setting

        await _service.SetSchoolAsync(Admin, seeded.School.Id, null, Ct);
        Assert.Empty(await _settings.GetCameraIdsAsync(Ct)); // back to following the district, which has none

        Assert.Equal(5, changes);
        var audit = await _audit.GetPageAsync(new AuditQuery(Action: AuditActions.PrewarmChanged), new PageRequest(0, 10), Ct);
        Assert.Equal(5, audit.Total);
        Assert.All(audit.Items, e => Assert.Equal("admin", e.UserName));
    }

    [Fact]
    public async Task GetCameraIdsAsync_CameraWithoutSubStream_NotPrewarmed()
    {
        var seeded = await RegistrySeed.SchoolWithDevicesAsync(_database.Db, TimeProvider.System.GetUtcNow().UtcDateTime, Ct);
        await _service.SetSchoolAsync(Admin, seeded.School.Id, true, Ct);

        Assert.Empty(await _settings.GetCameraIdsAsync(Ct)); // nothing derived from the main URL
    }
}
