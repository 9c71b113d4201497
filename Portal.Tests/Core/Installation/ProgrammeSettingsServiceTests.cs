using Portal.Core.Installation;
using Xunit;

namespace Portal.Tests.Core.Installation;

public sealed class ProgrammeSettingsServiceTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task SaveSettingsAsync_EarlierDeadline_EveryUnfinishedSchoolBecomesOverdue()
    {
        await using var city = new InstallationCity();
        var settings = new ProgrammeSettingsService(city.Repository, city.Time);
        var now = InstallationCity.Now.UtcDateTime;
        Assert.True((await settings.SaveSettingsAsync(InstallationCity.CityBureau, new ProgrammeSettings(now.AddDays(-40), now.AddDays(-1)), Ct)).Succeeded);
        var snapshot = await city.Queries.GetSnapshotAsync(InstallationCity.CityBureau, ct: Ct);
        Assert.Equal(now.AddDays(-1), snapshot.Settings.DeadlineUtc);
        Assert.Equal(snapshot.Unfinished.Count(), snapshot.Total.Overdue);
    }

    [Fact]
    public async Task SaveSettingsAsync_DistrictOfficerOrBadDates_RefusedAndNothingChanged()
    {
        await using var city = new InstallationCity();
        var settings = new ProgrammeSettingsService(city.Repository, city.Time);
        var before = await city.CountAsync("SELECT COUNT(*) FROM InstallationProgramme");
        var now = InstallationCity.Now.UtcDateTime;
        var districts = (await city.Queries.GetSnapshotAsync(InstallationCity.CityBureau, ct: Ct)).ByDistrict;
        Assert.Equal(InstallationErrors.NotAllowed, (await settings.SaveSettingsAsync(InstallationCity.DistrictBureau(districts[0].Key), new ProgrammeSettings(now, now.AddDays(3)), Ct)).Error);
        Assert.Equal(InstallationErrors.InvalidDates, (await settings.SaveSettingsAsync(InstallationCity.CityBureau, new ProgrammeSettings(now, now.AddDays(-3)), Ct)).Error);
        Assert.Equal(before, await city.CountAsync("SELECT COUNT(*) FROM InstallationProgramme"));

        var officer = InstallationCity.DistrictBureau(districts[0].Key);
        Assert.Equal(InstallationErrors.OutOfScope, (await settings.SaveDistrictTargetAsync(officer, new DistrictTarget { DistrictId = districts[1].Key, TargetPercent = 50 }, Ct)).Error);
        Assert.True((await settings.SaveDistrictTargetAsync(officer, new DistrictTarget { DistrictId = districts[0].Key, TargetPercent = 80, ContactName = "李老师", ContactPhone = "0532-1" }, Ct)).Succeeded);
        Assert.Equal(80, (await city.Queries.GetSnapshotAsync(officer, ct: Ct)).ByDistrict[0].TargetPercent);
    }
}
