using Portal.Core.Devices;
using Portal.Tests.Data;
using Xunit;

namespace Portal.Tests.Core.Devices;

/// <summary>The credential columns of Device on a real database of each engine: each change touches only its own columns.</summary>
public abstract class DeviceRepositoryCredentialsTests(ITestDatabase database) : RepositoryTestsBase(database)
{
    private static readonly DateTime Now = new(2026, 12, 2, 8, 0, 0, DateTimeKind.Utc);

    [Fact]
    public async Task RotateApiKeyAsync_CurrentKeyBecomesPreviousUntilTheOverlapEnds()
    {
        var seeded = await RegistrySeed.SchoolWithDevicesAsync(Db, Now, Ct);
        var devices = new DeviceRepository(Db);
        Assert.True(await devices.RotateApiKeyAsync(seeded.Terminal.Id, "key-1", Now.AddMinutes(15), Now, Ct));
        var first = await devices.GetCredentialsAsync(seeded.Terminal.Id, Ct);
        Assert.Equal(("key-1", (string?)null, (DateTime?)null, (DateTime?)Now), (first!.ApiKeyProtected, first.ApiKeyPreviousProtected, first.ApiKeyPreviousUntilUtc, first.ApiKeyIssuedUtc));

        Assert.True(await devices.RotateApiKeyAsync(seeded.Terminal.Id, "key-2", Now.AddMinutes(20), Now.AddMinutes(5), Ct));
        var second = await devices.GetCredentialsAsync(seeded.Terminal.Id, Ct);
        Assert.Equal(("key-2", "key-1", (DateTime?)Now.AddMinutes(20)), (second!.ApiKeyProtected, second.ApiKeyPreviousProtected, second.ApiKeyPreviousUntilUtc));
        var verified = await devices.GetBySerialNumberAsync(seeded.Terminal.SerialNumber, Ct); // what the device verifier reads
        Assert.Equal(("key-1", (DateTime?)Now.AddMinutes(20)), (verified!.ApiKeyPreviousProtected, verified.ApiKeyPreviousUntilUtc));

        // Nothing else in the row moved.
        var device = await devices.GetByIdAsync(seeded.Terminal.Id, Ct);
        Assert.Equal((seeded.Terminal.SerialNumber, seeded.Terminal.SipAccount, seeded.Terminal.Model), (device!.SerialNumber, device.SipAccount, device.Model));
    }

    [Fact]
    public async Task RevokeApiKeyAsync_RemovesCurrentAndPrevious()
    {
        var seeded = await RegistrySeed.SchoolWithDevicesAsync(Db, Now, Ct);
        var devices = new DeviceRepository(Db);
        await devices.RotateApiKeyAsync(seeded.Terminal.Id, "key-1", Now.AddMinutes(15), Now, Ct);
        await devices.RotateApiKeyAsync(seeded.Terminal.Id, "key-2", Now.AddMinutes(15), Now, Ct);
        Assert.True(await devices.RevokeApiKeyAsync(seeded.Terminal.Id, Now, Ct));
        var c = await devices.GetCredentialsAsync(seeded.Terminal.Id, Ct);
        Assert.Equal(((string?)null, (string?)null, (DateTime?)null), (c!.ApiKeyProtected, c.ApiKeyPreviousProtected, c.ApiKeyPreviousUntilUtc));
        Assert.False(await devices.RevokeApiKeyAsync(-1, Now, Ct));
    }

    [Fact]
    public async Task SetLoginAsync_AndSetSecretAsync_WriteOnlyTheirColumns()
    {
        var seeded = await RegistrySeed.SchoolWithDevicesAsync(Db, Now, Ct);
        var devices = new DeviceRepository(Db);
        await devices.SetLoginAsync(seeded.Camera.Id, "onvif-user", "protected-pass", Now, Ct);
        await devices.SetSecretAsync(seeded.Terminal.Id, "protected-sip", Now, Ct);
        var camera = await devices.GetByIdAsync(seeded.Camera.Id, Ct);
        Assert.Equal(("onvif-user", "protected-pass", seeded.Camera.RtspUrl), (camera!.Username, camera.SecretProtected, camera.RtspUrl));
        Assert.Equal("protected-sip", (await devices.GetByIdAsync(seeded.Terminal.Id, Ct))!.SecretProtected);
    }
}

public sealed class SqliteDeviceRepositoryCredentialsTests(SqliteDb database) : DeviceRepositoryCredentialsTests(database), IClassFixture<SqliteDb>;

[Trait("Category", "SqlServer")]
public sealed class SqlServerDeviceRepositoryCredentialsTests(SqlServerDb database) : DeviceRepositoryCredentialsTests(database), IClassFixture<SqlServerDb>;
