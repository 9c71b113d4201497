using Portal.Core.Data;
using Portal.Core.Devices;
using Portal.Core.Schools;
using Portal.Core.Security;
using Xunit;

namespace Portal.Tests.Core.Schools;

/// <summary>Scope is enforced in Core, whatever the UI shows: every role asks for another scope's ids and gets nothing.</summary>
public sealed class SchoolServiceTests(DemoCityFixture city) : IClassFixture<DemoCityFixture>
{
    private readonly SchoolService _schools = new(city.Schools, city.Districts, TimeProvider.System);
    private readonly DeviceService _devices = new(city.Devices, city.Schools, city.Secrets, TimeProvider.System);

    private async Task<(District A, District B, School InA, School InB)> TwoDistrictsAsync()
    {
        var districts = await city.Districts.GetAllAsync(TestContext.Current.CancellationToken);
        var all = await city.Schools.GetPageAsync(UserScope.System, new SchoolQuery(), new PageRequest(0, 500), TestContext.Current.CancellationToken);
        var a = districts[0];
        var b = districts[1];
        return (a, b, all.Items.First(s => s.DistrictId == a.Id), all.Items.First(s => s.DistrictId == b.Id));
    }

    [Fact]
    public async Task GetPageAsync_DistrictOperator_SeesOnlyOwnDistrict()
    {
        var (a, _, _, _) = await TwoDistrictsAsync();
        var scope = new UserScope(5, "op", Roles.DistrictOperator, a.Id, null);

        // Even asking for another district by filter does not widen the scope.
        var page = await _schools.GetPageAsync(scope, new SchoolQuery(), new PageRequest(0, 500), TestContext.Current.CancellationToken);
        var all = await _schools.GetPageAsync(UserScope.System, new SchoolQuery(DistrictId: a.Id), new PageRequest(0, 500), TestContext.Current.CancellationToken);
        Assert.NotEmpty(page.Items);
        Assert.All(page.Items, s => Assert.Equal(a.Id, s.DistrictId));
        Assert.Equal(all.Total, page.Total);
    }

    [Fact]
    public async Task GetPageAsync_FilterForOtherDistrict_ReturnsNothing()
    {
        var (a, b, _, _) = await TwoDistrictsAsync();
        var scope = new UserScope(5, "op", Roles.DistrictOperator, a.Id, null);
        var page = await _schools.GetPageAsync(scope, new SchoolQuery(DistrictId: b.Id), new PageRequest(0, 50), TestContext.Current.CancellationToken);
        Assert.Empty(page.Items);
        Assert.Equal(0, page.Total);
    }

    [Fact]
    public async Task GetAsync_EachRoleAskingForAnotherScope_ReturnsNull()
    {
        var (a, _, inA, inB) = await TwoDistrictsAsync();
        var ct = TestContext.Current.CancellationToken;
        var districtOperator = new UserScope(5, "op", Roles.DistrictOperator, a.Id, null);
        var districtBureau = new UserScope(6, "bu", Roles.Bureau, a.Id, null);
        var principal = new UserScope(7, "pr", Roles.Principal, a.Id, inA.Id);
        var city = new UserScope(8, "city", Roles.CityOperator, null, null);

        Assert.Null(await _schools.GetAsync(districtOperator, inB.Id, ct));
        Assert.Null(await _schools.GetAsync(districtBureau, inB.Id, ct));
        Assert.Null(await _schools.GetAsync(principal, inB.Id, ct));
        Assert.NotNull(await _schools.GetAsync(city, inB.Id, ct));
        Assert.NotNull(await _schools.GetAsync(districtOperator, inA.Id, ct));

        // A principal sees only their own school, even in their own district.
        var otherInA = (await _schools.GetPageAsync(UserScope.System, new SchoolQuery(DistrictId: a.Id), new PageRequest(0, 50), ct)).Items.First(s => s.Id != inA.Id);
        Assert.Null(await _schools.GetAsync(principal, otherInA.Id, ct));
        var principalPage = await _schools.GetPageAsync(principal, new SchoolQuery(), new PageRequest(0, 50), ct);
        Assert.Equal([inA.Id], principalPage.Items.Select(s => s.Id));
        Assert.Single(await _schools.GetDistrictsAsync(districtBureau, ct));
    }

    [Fact]
    public async Task DeviceService_OtherScopesDevice_IsInvisible()
    {
        var (a, _, inA, inB) = await TwoDistrictsAsync();
        var ct = TestContext.Current.CancellationToken;
        var scope = new UserScope(5, "op", Roles.DistrictOperator, a.Id, null);
        var deviceInB = (await city.Devices.GetManyBySchoolIdAsync(inB.Id, ct))[0];
        Assert.Null(await _devices.GetAsync(scope, deviceInB.Id, ct));
        Assert.Empty(await _devices.GetBySchoolAsync(scope, inB.Id, ct));
        Assert.NotEmpty(await _devices.GetBySchoolAsync(scope, inA.Id, ct));
        var page = await _devices.GetPageAsync(scope, new DeviceQuery(), new PageRequest(0, 500), ct);
        Assert.NotEmpty(page.Items);
        Assert.All(page.Items, d => Assert.Equal(a.Id, d.DistrictId));
    }

    [Theory]
    [InlineData(Roles.CityOperator)]
    [InlineData(Roles.DistrictOperator)]
    [InlineData(Roles.Bureau)]
    [InlineData(Roles.Principal)]
    public async Task SaveAsync_NonAdmin_IsRefused(string role)
    {
        var (a, _, inA, _) = await TwoDistrictsAsync();
        var scope = new UserScope(9, "x", role, role == Roles.CityOperator ? null : a.Id, role == Roles.Principal ? inA.Id : null);
        await Assert.ThrowsAsync<ScopeDeniedException>(() => _schools.SaveAsync(scope, inA with { Name = "改名" }, TestContext.Current.CancellationToken));
        var device = (await city.Devices.GetManyBySchoolIdAsync(inA.Id, TestContext.Current.CancellationToken))[0];
        await Assert.ThrowsAsync<ScopeDeniedException>(() => _devices.SaveAsync(scope, device, "secret", TestContext.Current.CancellationToken));
        Assert.Equal(inA.Name, (await city.Schools.GetByIdAsync(inA.Id, TestContext.Current.CancellationToken))!.Name);
    }

    [Fact]
    public async Task SaveAsync_BadSchool_ListsEveryProblemAndWritesNothing()
    {
        var (_, _, inA, inB) = await TwoDistrictsAsync();
        var bad = inA with { Code = inB.Code, Name = " ", Longitude = 500, Latitude = null, DistrictId = 9999 };
        var result = await _schools.SaveAsync(UserScope.System, bad, TestContext.Current.CancellationToken);
        Assert.False(result.Succeeded);
        Assert.Contains(result.Errors, e => e.Code == "DuplicateCode");
        Assert.Contains(result.Errors, e => e.Field == "Name");
        Assert.Contains(result.Errors, e => e.Code == "OutOfRange");
        Assert.Contains(result.Errors, e => e.Code == "CoordinatesPair");
        Assert.Contains(result.Errors, e => e.Code == "UnknownDistrict");
        Assert.Equal(inA, await city.Schools.GetByIdAsync(inA.Id, TestContext.Current.CancellationToken));
    }
}
