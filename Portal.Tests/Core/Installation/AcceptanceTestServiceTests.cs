using Portal.Core.Alarms;
using Portal.Core.Installation;
using Portal.Core.Security;
using Xunit;

namespace Portal.Tests.Core.Installation;

public sealed class AcceptanceTestServiceTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task RequestAsync_ThenOperatorConfirmsAudioAndVideo_StepPassedAndDevicesAccepted()
    {
        await using var city = new InstallationCity();
        var school = await city.SchoolAtAsync(4);
        var request = await city.Acceptance.RequestAsync(InstallationCity.Principal(school), school.Id, ct: Ct);
        Assert.True(request.Succeeded, request.Error);
        Assert.Equal(InstallationErrors.TestPending, (await city.Acceptance.RequestAsync(InstallationCity.Principal(school), school.Id, ct: Ct)).Error);

        var alarmId = (await city.Installation.GetChecklistAsync(UserScope.System, school.Id, Ct))!.PendingTest!.AlarmId!.Value;
        Assert.Equal(1, await city.CountAsync("SELECT COUNT(*) FROM Alarm WHERE Id = @alarmId AND IsAcceptance = 1 AND IsTest = 1 AND SchoolId = @Id", new { alarmId, school.Id }));
        var result = await city.Acceptance.RecordResultAsync(InstallationCity.DistrictOperator(school.DistrictId), alarmId, audioOk: true, videoOk: true, null, Ct);
        Assert.True(result.Succeeded, result.Error);
        var checklist = await city.Installation.GetChecklistAsync(UserScope.System, school.Id, Ct);
        Assert.Equal(5, checklist!.Progress.StepsDone);
        Assert.Equal(AcceptanceOutcome.Passed, checklist.Tests[0].Outcome);
        Assert.Equal(2, await city.CountAsync("SELECT COUNT(*) FROM Device WHERE SchoolId = @Id AND InstallState = 3", new { school.Id }));
    }

    [Fact]
    public async Task RecordResultAsync_VideoFailed_KeepsRecordAndStepNotPassed()
    {
        await using var city = new InstallationCity();
        var school = await city.SchoolAtAsync(4);
        var test = await city.Acceptance.RequestAsync(InstallationCity.Principal(school), school.Id, ct: Ct);
        var alarmId = (await city.Installation.GetChecklistAsync(UserScope.System, school.Id, Ct))!.PendingTest!.AlarmId!.Value;
        var op = InstallationCity.DistrictOperator(school.DistrictId);
        Assert.Equal(InstallationErrors.NotesRequired, (await city.Acceptance.RecordResultAsync(op, alarmId, true, false, " ", Ct)).Error);
        Assert.True((await city.Acceptance.RecordResultAsync(op, alarmId, true, false, "球机画面黑屏", Ct)).Succeeded);
        var checklist = await city.Installation.GetChecklistAsync(UserScope.System, school.Id, Ct);
        Assert.Equal(4, checklist!.Progress.StepsDone);
        Assert.Equal(AcceptanceOutcome.Failed, checklist.Tests[0].Outcome);
        Assert.Equal("球机画面黑屏", checklist.Tests[0].Notes);
        Assert.Equal(test.Id, checklist.Tests[0].Id);

        // Once the operator has closed the test alarm, a failed test can be requested again.
        Assert.True((await city.Alarms.AnswerAsync(op, alarmId, null, Ct)).Succeeded);
        Assert.True((await city.Alarms.CloseAsync(op, alarmId, AlarmDisposition.Test, "联调验收", null, Ct)).Succeeded);
        city.Time.Advance(TimeSpan.FromMinutes(2));
        Assert.True((await city.Acceptance.RequestAsync(InstallationCity.Principal(school), school.Id, ct: Ct)).Succeeded);
    }

    [Fact]
    public async Task RecordResultAsync_OperatorOfAnotherDistrictOrNotPolice_Refused()
    {
        await using var city = new InstallationCity();
        var school = await city.SchoolAtAsync(4);
        await city.Acceptance.RequestAsync(InstallationCity.Principal(school), school.Id, ct: Ct);
        var alarmId = (await city.Installation.GetChecklistAsync(UserScope.System, school.Id, Ct))!.PendingTest!.AlarmId!.Value;
        Assert.Equal(InstallationErrors.TestNotFound, (await city.Acceptance.RecordResultAsync(InstallationCity.DistrictOperator(school.DistrictId + 1), alarmId, true, true, null, Ct)).Error);
        Assert.Equal(InstallationErrors.NotAllowed, (await city.Acceptance.RecordResultAsync(InstallationCity.CityBureau, alarmId, true, true, null, Ct)).Error);
        Assert.Equal(0, await city.CountAsync("SELECT COUNT(*) FROM AcceptanceTest WHERE Outcome <> 0 AND SchoolId = @Id", new { school.Id }));
    }

    [Fact]
    public async Task RequestAsync_DevicesNotOnline_Refused()
    {
        await using var city = new InstallationCity();
        var school = await city.SchoolAtAsync(3);
        Assert.Equal(InstallationErrors.DevicesNotOnline, (await city.Acceptance.RequestAsync(InstallationCity.Principal(school), school.Id, ct: Ct)).Error);
        Assert.Equal(InstallationErrors.NotAllowed, (await city.Acceptance.RequestAsync(InstallationCity.CityBureau, school.Id, ct: Ct)).Error);
    }
}
