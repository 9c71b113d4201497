using Portal.Core.Security;
using Xunit;

namespace Portal.Tests.Core.Installation;

public sealed class ProgrammeQueriesTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task GetSnapshotAsync_DemoCity_FiguresMatchTheStepTable()
    {
        await using var city = new InstallationCity();
        var snapshot = await city.Queries.GetSnapshotAsync(InstallationCity.CityBureau, ct: Ct);
        Assert.Equal(await city.CountAsync("SELECT COUNT(*) FROM School"), snapshot.Total.Schools);
        Assert.Equal(await city.CountAsync("SELECT COUNT(*) FROM InstallationStep WHERE Step = 5"), snapshot.Total.Done);
        Assert.Equal(await city.CountAsync("SELECT COUNT(*) FROM InstallationStep WHERE Step = 4"), snapshot.Total.Accepted);
        Assert.Equal(snapshot.Total.Schools, snapshot.ByDistrict.Sum(d => d.Schools));
        Assert.Equal(snapshot.Total.Done, snapshot.ByType.Sum(d => d.Done));

        // The demo's two early districts are past their own date, so their unfinished schools are late.
        Assert.True(snapshot.Total.Overdue > 0);
        Assert.All(snapshot.Late, s => Assert.False(s.IsComplete));

        // Steps agree with devices: accepted devices only where the acceptance step exists.
        Assert.Equal(0, await city.CountAsync("SELECT COUNT(*) FROM Device d WHERE d.InstallState = 3 AND NOT EXISTS (SELECT 1 FROM InstallationStep s WHERE s.SchoolId = d.SchoolId AND s.Step = 4)"));
    }

    [Fact]
    public async Task GetSnapshotAsync_DistrictBureau_SeesOnlyOwnDistrictAndIsRefusedAnother()
    {
        await using var city = new InstallationCity();
        var all = await city.Queries.GetSnapshotAsync(InstallationCity.CityBureau, ct: Ct);
        var district = all.ByDistrict[0].Key;
        var own = await city.Queries.GetSnapshotAsync(InstallationCity.DistrictBureau(district), ct: Ct);
        Assert.Single(own.ByDistrict);
        Assert.All(own.Schools, s => Assert.Equal(district, s.DistrictId));
        await Assert.ThrowsAsync<ScopeDeniedException>(() => city.Queries.GetSnapshotAsync(InstallationCity.DistrictBureau(district), all.ByDistrict[1].Key, Ct));
    }

    [Fact]
    public async Task BurnUp_DemoCity_ClimbsToTodaysTotalAndTargetReachesAllAtDeadline()
    {
        await using var city = new InstallationCity();
        var snapshot = await city.Queries.GetSnapshotAsync(InstallationCity.CityBureau, ct: Ct);
        var points = snapshot.BurnUp();
        var past = points.Where(p => p.Done >= 0).ToList();
        Assert.Equal(snapshot.Total.Done, past[^1].Done);
        Assert.True(past.Zip(past.Skip(1)).All(p => p.First.Done <= p.Second.Done));
        Assert.True(past.Select(p => p.Done).Distinct().Count() > 3, "the burn-up should have a shape");
        Assert.Equal(snapshot.Total.Schools, points[^1].Target);
    }
}
