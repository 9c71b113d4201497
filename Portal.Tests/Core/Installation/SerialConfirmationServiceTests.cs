using Dapper;
using Portal.Core.Audit;
using Portal.Core.Data;
using Portal.Core.Devices;
using Portal.Core.Installation;
using Portal.Core.Schools;
using Portal.Core.Security;
using Xunit;

namespace Portal.Tests.Core.Installation;

/// <summary>Issue 13: a held installation step changes the device only when an administrator confirms it.</summary>
public sealed class SerialConfirmationServiceTests
{
    private static readonly Actor Admin = new(new UserScope(9, "admin", Roles.Admin, null, null), "192.0.2.1");

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task<(School School, Device Terminal, InstallationHoldItem Hold)> HeldAsync(InstallationCity city, string serial)
    {
        var school = await city.SchoolAtAsync(1);
        var terminal = (await new DeviceRepository(city.Database.Db).GetManyBySchoolIdAsync(school.Id, Ct)).Single(d => d.Kind == DeviceKind.AlarmTerminal);
        var result = await city.Installation.RecordStepAsync(InstallationCity.Principal(school), school.Id, InstallationStepKind.TerminalInstalled, null, "new unit", serial, Ct);
        Assert.True(result.Held);
        var hold = (await city.Serials.GetWaitingAsync(Admin.Scope, new PageRequest(0, 50), Ct)).Items.Single(h => h.SchoolId == school.Id);
        return (school, terminal, hold);
    }

    [Fact]
    public async Task ConfirmAsync_WaitingHold_DeviceTakesSerialFlaggedForKeyStepRecordedAndAudited()
    {
        await using var city = new InstallationCity();
        var (school, terminal, hold) = await HeldAsync(city, "ATS-REPLACED-1");
        Assert.Equal((terminal.SerialNumber, "ATS-REPLACED-1", school.Code), (hold.RegistrySerial, hold.InstalledSerial, hold.SchoolCode));

        Assert.True((await city.Serials.ConfirmAsync(Admin, hold.Id, Ct)).Succeeded);
        var devices = new DeviceRepository(city.Database.Db);
        var device = await devices.GetByIdAsync(terminal.Id, Ct);
        Assert.Equal(("ATS-REPLACED-1", DeviceInstallState.Installed, terminal.ApiKeyProtected), (device!.SerialNumber, device.InstallState, device.ApiKeyProtected));
        Assert.True((await devices.GetCredentialsAsync(terminal.Id, Ct))!.RekeyRequired);

        var checklist = await city.Installation.GetChecklistAsync(UserScope.System, school.Id, Ct);
        var step = checklist!.Step(InstallationStepKind.TerminalInstalled)!;
        Assert.Equal(("ATS-REPLACED-1", "principal", "new unit"), (step.SerialNumber, step.DoneBy, step.Notes));
        Assert.Empty(checklist.Holds);
        var audit = Assert.Single((await city.Audit.GetPageAsync(new AuditQuery(Action: AuditActions.DeviceSerialConfirmed), new PageRequest(0, 10), Ct)).Items);
        Assert.Equal(("admin", "192.0.2.1"), (audit.UserName, audit.RemoteAddress));

        Assert.Equal(InstallationErrors.HoldNotFound, (await city.Serials.ConfirmAsync(Admin, hold.Id, Ct)).Error);
    }

    [Fact]
    public async Task RejectAsync_WaitingHold_NothingChangesAndTheSchoolRecordsAgain()
    {
        await using var city = new InstallationCity();
        var (school, terminal, hold) = await HeldAsync(city, "ATS-TYPO-1");
        Assert.True((await city.Serials.RejectAsync(Admin, hold.Id, Ct)).Succeeded);
        Assert.Equal(terminal.SerialNumber, (await new DeviceRepository(city.Database.Db).GetByIdAsync(terminal.Id, Ct))!.SerialNumber);
        Assert.Equal(0, (await city.Serials.GetWaitingAsync(Admin.Scope, new PageRequest(0, 50), Ct)).Total);

        var again = await city.Installation.RecordStepAsync(InstallationCity.Principal(school), school.Id, InstallationStepKind.TerminalInstalled, null, null, terminal.SerialNumber, Ct);
        Assert.True(again is { Succeeded: true, Held: false }, again.Error);
    }

    [Fact]
    public async Task ConfirmAsync_SerialTakenMeanwhileOrNotAdmin_RefusedAndHoldWaits()
    {
        await using var city = new InstallationCity();
        var (school, terminal, hold) = await HeldAsync(city, "ATS-CLASH-1");
        await using (var connection = city.Database.Db.Open())
        {
            var other = await connection.ExecuteScalarAsync<int>("SELECT Id FROM Device WHERE Kind = 0 AND Id <> @Id ORDER BY Id LIMIT 1", new { terminal.Id });
            await connection.ExecuteAsync("UPDATE Device SET SerialNumber = 'ATS-CLASH-1' WHERE Id = @other", new { other });
        }

        Assert.Equal(InstallationErrors.DuplicateSerial, (await city.Serials.ConfirmAsync(Admin, hold.Id, Ct)).Error);
        Assert.Equal(terminal.SerialNumber, (await new DeviceRepository(city.Database.Db).GetByIdAsync(terminal.Id, Ct))!.SerialNumber);
        await Assert.ThrowsAsync<ScopeDeniedException>(() => city.Serials.ConfirmAsync(new Actor(InstallationCity.Principal(school), null), hold.Id, Ct));
        Assert.Equal(1, (await city.Serials.GetWaitingAsync(Admin.Scope, new PageRequest(0, 50), Ct)).Total);
    }
}
