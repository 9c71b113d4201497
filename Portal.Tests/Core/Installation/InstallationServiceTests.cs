using Portal.Core.Devices;
using Portal.Core.Installation;
using Portal.Core.Security;
using Xunit;

namespace Portal.Tests.Core.Installation;

public sealed class InstallationServiceTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task RecordStepAsync_SerialOfTheRegistry_RecordsStepAndInstallsDevice()
    {
        await using var city = new InstallationCity();
        var school = await city.SchoolAtAsync(1);
        var terminal = (await new DeviceRepository(city.Database.Db).GetManyBySchoolIdAsync(school.Id, Ct)).Single(d => d.Kind == DeviceKind.AlarmTerminal);
        var result = await city.Installation.RecordStepAsync(InstallationCity.Principal(school), school.Id, InstallationStepKind.TerminalInstalled, null, "装在门卫室东墙", terminal.SerialNumber, Ct);
        Assert.True(result.Succeeded, result.Error);
        Assert.False(result.Held);
        var checklist = await city.Installation.GetChecklistAsync(InstallationCity.Principal(school), school.Id, Ct);
        Assert.Equal(terminal.SerialNumber, checklist!.Step(InstallationStepKind.TerminalInstalled)!.SerialNumber);
        Assert.Equal("principal", checklist.Step(InstallationStepKind.TerminalInstalled)!.DoneBy);
        Assert.Equal(1, await city.CountAsync("SELECT COUNT(*) FROM Device WHERE Id = @Id AND InstallState = 1", new { terminal.Id }));
    }

    /// <summary>Issue 13: a principal's typo must not turn the real terminal into an unknown device.</summary>
    [Fact]
    public async Task RecordStepAsync_SerialDiffersFromRegistry_HeldAndDeviceUnchanged()
    {
        await using var city = new InstallationCity();
        var school = await city.SchoolAtAsync(1);
        var terminal = (await new DeviceRepository(city.Database.Db).GetManyBySchoolIdAsync(school.Id, Ct)).Single(d => d.Kind == DeviceKind.AlarmTerminal);
        var result = await city.Installation.RecordStepAsync(InstallationCity.Principal(school), school.Id, InstallationStepKind.TerminalInstalled, null, "装在门卫室东墙", "ATS-NEW-001", Ct);
        Assert.True(result.Succeeded, result.Error);
        Assert.True(result.Held);

        var device = await new DeviceRepository(city.Database.Db).GetByIdAsync(terminal.Id, Ct);
        Assert.Equal((terminal.SerialNumber, terminal.InstallState, terminal.UpdatedUtc), (device!.SerialNumber, device.InstallState, device.UpdatedUtc));
        Assert.Equal(0, await city.CountAsync("SELECT COUNT(*) FROM Device WHERE SerialNumber = 'ATS-NEW-001'"));
        var checklist = await city.Installation.GetChecklistAsync(InstallationCity.Principal(school), school.Id, Ct);
        Assert.Null(checklist!.Step(InstallationStepKind.TerminalInstalled));
        var hold = Assert.Single(checklist.Holds);
        Assert.Equal((InstallationStepKind.TerminalInstalled, terminal.SerialNumber, "ATS-NEW-001", "principal"), (hold.Step, hold.RegistrySerial, hold.InstalledSerial, hold.DoneBy));

        // While it waits, the step cannot be recorded a second time.
        Assert.Equal(InstallationErrors.HoldPending, (await city.Installation.RecordStepAsync(InstallationCity.Principal(school), school.Id, InstallationStepKind.TerminalInstalled, null, null, terminal.SerialNumber, Ct)).Error);
    }

    [Fact]
    public async Task RecordStepAsync_OutOfOrder_RefusedAndNothingChanged()
    {
        await using var city = new InstallationCity();
        var school = await city.SchoolAtAsync(1);
        var before = await city.CountAsync("SELECT COUNT(*) FROM InstallationStep");
        var result = await city.Installation.RecordStepAsync(InstallationCity.Principal(school), school.Id, InstallationStepKind.CameraInstalled, null, null, "CAM-NEW-1", Ct);
        Assert.Equal(InstallationErrors.OutOfOrder, result.Error);
        Assert.Equal(before, await city.CountAsync("SELECT COUNT(*) FROM InstallationStep"));
        Assert.Equal(0, await city.CountAsync("SELECT COUNT(*) FROM Device WHERE SerialNumber = 'CAM-NEW-1'"));
    }

    [Fact]
    public async Task RecordStepAsync_SerialOfAnotherDevice_RefusedAndNothingChanged()
    {
        await using var city = new InstallationCity();
        var school = await city.SchoolAtAsync(1);
        var before = await city.CountAsync("SELECT COUNT(*) FROM InstallationStep");
        var result = await city.Installation.RecordStepAsync(InstallationCity.Principal(school), school.Id, InstallationStepKind.TerminalInstalled, null, null, "CAM00000000", Ct);
        Assert.Equal(InstallationErrors.DuplicateSerial, result.Error);
        Assert.Equal(before, await city.CountAsync("SELECT COUNT(*) FROM InstallationStep"));
    }

    [Fact]
    public async Task RecordStepAsync_AnotherSchoolOrPlatformStep_Refused()
    {
        await using var city = new InstallationCity();
        var school = await city.SchoolAtAsync(1);
        var other = await city.SchoolAtAsync(0);
        Assert.Equal(InstallationErrors.OutOfScope, (await city.Installation.RecordStepAsync(InstallationCity.Principal(school), other.Id, InstallationStepKind.SiteSurveyed, null, null, null, Ct)).Error);
        Assert.Equal(InstallationErrors.NotManual, (await city.Installation.RecordStepAsync(InstallationCity.CityBureau, school.Id, InstallationStepKind.DevicesOnline, null, null, null, Ct)).Error);
        Assert.Equal(InstallationErrors.NotAllowed, (await city.Installation.RecordStepAsync(InstallationCity.Principal(school), school.Id, InstallationStepKind.SignedOff, null, null, null, Ct)).Error);
        Assert.Equal(InstallationErrors.FutureDate, (await city.Installation.RecordStepAsync(InstallationCity.Principal(other), other.Id, InstallationStepKind.SiteSurveyed, InstallationCity.Now.UtcDateTime.AddDays(2), null, null, Ct)).Error);
    }

    [Fact]
    public async Task MarkDeviceSeenAsync_LastDeviceOfInstalledSchool_WritesDevicesOnlineStep()
    {
        await using var city = new InstallationCity();
        var school = await city.SchoolAtAsync(3);
        var devices = await new DeviceRepository(city.Database.Db).GetManyBySchoolIdAsync(school.Id, Ct);
        Assert.False(await city.Installation.MarkDeviceSeenAsync(devices[0].Id, Ct));
        Assert.True(await city.Installation.MarkDeviceSeenAsync(devices[1].Id, Ct));
        Assert.False(await city.Installation.MarkDeviceSeenAsync(devices[1].Id, Ct)); // seen again: nothing more
        var checklist = await city.Installation.GetChecklistAsync(UserScope.System, school.Id, Ct);
        Assert.Equal(InstallationService.PlatformName, checklist!.Step(InstallationStepKind.DevicesOnline)!.DoneBy);
        Assert.Equal(4, checklist.Progress.StepsDone);
    }

    [Fact]
    public async Task MarkDevicesSeenAsync_BothDevicesInOneBatch_ConnectsThemAndWritesDevicesOnlineOnce()
    {
        await using var city = new InstallationCity();
        var school = await city.SchoolAtAsync(3);
        var repository = new DeviceRepository(city.Database.Db);
        var devices = await repository.GetManyBySchoolIdAsync(school.Id, Ct);

        // One transaction for a batch of first sightings (a SIP registration storm); an unknown id is skipped.
        Assert.Equal(1, await city.Installation.MarkDevicesSeenAsync([devices[0].Id, devices[1].Id, int.MaxValue], Ct));
        Assert.Equal(0, await city.Installation.MarkDevicesSeenAsync([devices[1].Id], Ct)); // seen again: nothing more

        Assert.All(await repository.GetManyBySchoolIdAsync(school.Id, Ct), d => Assert.True(d.InstallState >= DeviceInstallState.Connected));
        var checklist = await city.Installation.GetChecklistAsync(UserScope.System, school.Id, Ct);
        Assert.Equal(InstallationService.PlatformName, checklist!.Step(InstallationStepKind.DevicesOnline)!.DoneBy);
    }

    [Fact]
    public async Task AddPhotoAsync_Png_StoredOutsideDatabaseAndServedOnlyInScope()
    {
        await using var city = new InstallationCity();
        var school = await city.SchoolAtAsync(3);
        byte[] png = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D];
        var result = await city.Installation.AddPhotoAsync(InstallationCity.Principal(school), school.Id, InstallationStepKind.CameraInstalled, new MemoryStream(png), "gate.png", Ct);
        Assert.True(result.Succeeded, result.Error);
        var own = await city.Installation.GetPhotoAsync(InstallationCity.Principal(school), result.Id, Ct);
        Assert.Equal(png, await File.ReadAllBytesAsync(own!.Value.Path, Ct));
        Assert.StartsWith(city.FilesRoot, own.Value.Path, StringComparison.Ordinal);
        var stranger = await city.SchoolAtAsync(0);
        Assert.Null(await city.Installation.GetPhotoAsync(InstallationCity.Principal(stranger), result.Id, Ct));
    }

    [Fact]
    public async Task AddPhotoAsync_OversizedOrNotImage_RefusedAndNothingStored()
    {
        await using var city = new InstallationCity();
        var school = await city.SchoolAtAsync(3);
        var principal = InstallationCity.Principal(school);
        var big = new byte[PhotoCheck.MaxBytes + 10];
        big[0] = 0xFF;
        big[1] = 0xD8;
        big[2] = 0xFF;
        Assert.Equal(InstallationErrors.PhotoTooLarge, (await city.Installation.AddPhotoAsync(principal, school.Id, InstallationStepKind.SiteSurveyed, new MemoryStream(big), "big.jpg", Ct)).Error);
        Assert.Equal(InstallationErrors.PhotoNotImage, (await city.Installation.AddPhotoAsync(principal, school.Id, InstallationStepKind.SiteSurveyed, new MemoryStream("%PDF-1.7 not a photo"u8.ToArray()), "photo.jpg", Ct)).Error);
        Assert.Equal(0, await city.CountAsync("SELECT COUNT(*) FROM InstallationPhoto"));
        Assert.False(Directory.Exists(Path.Combine(city.FilesRoot, "photos")));
    }
}
