using Dapper;
using Portal.Core.Demo;
using Portal.Core.Devices;
using Portal.Core.Security;
using Xunit;

namespace Portal.Tests.Core.Devices;

public sealed class DeviceServiceTests(DemoCityFixture city) : IClassFixture<DemoCityFixture>
{
    [Fact]
    public async Task SaveAsync_NewSecret_IsStoredEncryptedNeverPlain()
    {
        var ct = TestContext.Current.CancellationToken;
        var service = new DeviceService(city.Devices, city.Schools, city.Secrets, TimeProvider.System);
        var device = await city.Devices.GetBySerialNumberAsync("CAM00000003", ct);
        Assert.NotNull(device);
        var result = await service.SaveAsync(UserScope.System, device, "s3cret-camera-pass", ct);
        Assert.True(result.Succeeded, string.Join(",", result.Errors));

        using var connection = city.Database.Db.Open();
        var stored = await connection.ExecuteScalarAsync<string>("SELECT SecretProtected FROM Device WHERE Id = @Id", new { device.Id });
        Assert.NotNull(stored);
        Assert.DoesNotContain("s3cret", stored, StringComparison.Ordinal);
        Assert.Equal("s3cret-camera-pass", city.Secrets.Unprotect(stored));

        // The demo city's own secrets are not stored in plain text either.
        var all = await connection.QueryAsync<string>("SELECT SecretProtected FROM Device WHERE SecretProtected IS NOT NULL");
        Assert.All(all, s => Assert.DoesNotContain(DemoCity.DemoDevicePassword, s, StringComparison.Ordinal));
    }

    [Fact]
    public async Task SaveAsync_SerialOfAnotherDevice_IsRefusedAndNothingChanges()
    {
        var ct = TestContext.Current.CancellationToken;
        var service = new DeviceService(city.Devices, city.Schools, city.Secrets, TimeProvider.System);
        var device = await city.Devices.GetBySerialNumberAsync("ATS00000004", ct);
        var result = await service.SaveAsync(UserScope.System, device! with { SerialNumber = "ATS00000005", RtspUrl = null }, null, ct);
        Assert.False(result.Succeeded);
        Assert.Contains(result.Errors, e => e.Code == "DuplicateSerial");
        Assert.Equal(device, await city.Devices.GetByIdAsync(device!.Id, ct));
    }

    [Fact]
    public async Task SaveAsync_CameraWithHttpRtspUrl_IsRefused()
    {
        var ct = TestContext.Current.CancellationToken;
        var service = new DeviceService(city.Devices, city.Schools, city.Secrets, TimeProvider.System);
        var camera = await city.Devices.GetBySerialNumberAsync("CAM00000006", ct);
        var result = await service.SaveAsync(UserScope.System, camera! with { RtspUrl = "http://cam/stream" }, null, ct);
        Assert.Contains(result.Errors, e => e.Code == "RtspUrl");
    }

    [Fact]
    public void Unprotect_Garbage_ReturnsNullInsteadOfThrowing()
    {
        Assert.Null(city.Secrets.Unprotect("not-a-protected-payload"));
        Assert.Null(city.Secrets.Unprotect(null));
    }

    /// <summary>Issue 13, need to know: principals and the bureau see model, serial, state and last seen, never addresses or logins.</summary>
    [Fact]
    public async Task Views_PrincipalAndBureau_NoAddressesUserNamesOrSecretsAdminSeesThem()
    {
        var ct = TestContext.Current.CancellationToken;
        var service = new DeviceService(city.Devices, city.Schools, city.Secrets, TimeProvider.System);
        var camera = await city.Devices.GetBySerialNumberAsync("CAM00000007", ct);
        var school = await city.Schools.GetByIdAsync(camera!.SchoolId, ct);
        var principal = new UserScope(5, "p", Roles.Principal, school!.DistrictId, school.Id);
        var bureau = new UserScope(6, "b", Roles.Bureau, null, null);

        foreach (var scope in new[] { principal, bureau })
        {
            var view = (await service.GetViewsBySchoolAsync(scope, school.Id, ct)).Single(d => d.Id == camera.Id);
            Assert.Equal((camera.Model, camera.SerialNumber, camera.InstallState, camera.LastSeenUtc), (view.Model, view.SerialNumber, view.InstallState, view.LastSeenUtc));
            Assert.Equal(((string?)null, (string?)null, (string?)null, (bool?)null), (view.RtspUrl, view.OnvifUrl, view.Username, view.HasSecret));
            var json = System.Text.Json.JsonSerializer.Serialize(view);
            Assert.DoesNotContain("Rtsp", json, StringComparison.Ordinal);
            Assert.DoesNotContain("Username", json, StringComparison.Ordinal);
            Assert.DoesNotContain("HasSecret", json, StringComparison.Ordinal);

            var listed = (await service.GetPageAsync(scope, new DeviceQuery(SchoolId: school.Id), new global::Portal.Core.Data.PageRequest(0, 10), ct)).Items;
            Assert.All(listed, d => Assert.Equal(((string?)null, (string?)null), (d.SipAccount, d.RtspUrl)));
        }

        var admin = (await service.GetViewAsync(UserScope.System, camera.Id, ct))!;
        Assert.Equal((camera.RtspUrl, camera.OnvifUrl, (bool?)true), (admin.RtspUrl, admin.OnvifUrl, admin.HasSecret));

        // The media plane still gets the whole device in the caller's scope (it opens the camera with it).
        Assert.Equal(camera.RtspUrl, (await service.GetBySchoolAsync(principal, school.Id, ct)).Single(d => d.Id == camera.Id).RtspUrl);
    }
}
