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
}
