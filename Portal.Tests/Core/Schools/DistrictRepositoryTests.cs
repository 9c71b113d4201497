using Portal.Core.Data;
using Portal.Core.Schools;
using Portal.Tests.Data;
using Xunit;

namespace Portal.Tests.Core.Schools;

/// <summary>Districts and 110 centres on a real database of each engine.</summary>
public abstract class DistrictRepositoryTests(ITestDatabase database) : RepositoryTestsBase(database)
{
    [Fact]
    public async Task CreateAndUpdate_DistrictWithCentre_ListedWithCentreAndSchoolCount()
    {
        var districts = new DistrictRepository(Db);
        var seeded = await RegistrySeed.SchoolWithDevicesAsync(Db, TimeProvider.System.GetUtcNow().UtcDateTime, Ct);
        var other = new District { Code = Unique("E"), Name = Unique("区"), NameEn = "Other" };
        other = other with { Id = await districts.CreateAsync(other, Ct) };
        var target = await districts.CreateCentreAsync(new PoliceCentre { Name = Unique("中心"), NameEn = "Target", DistrictId = other.Id, AnswerDeadlineSeconds = 20 }, Ct);
        var centreId = await districts.CreateCentreAsync(new PoliceCentre
        {
            Name = "分局" + seeded.District.Code,
            NameEn = "Station",
            DistrictId = seeded.District.Id,
            AnswerDeadlineSeconds = 12,
            EscalatesToCentreId = target,
        }, Ct);

        await districts.UpdateAsync(seeded.District with { Name = seeded.District.Name + "改" }, Ct);
        var centre = await districts.GetCentreByIdAsync(centreId, Ct);
        Assert.Equal((12, (int?)target), (centre!.AnswerDeadlineSeconds, centre.EscalatesToCentreId));
        await districts.UpdateCentreAsync(centre with { AnswerDeadlineSeconds = 40, EscalatesToCentreId = null }, Ct);

        var page = await districts.GetPageAsync(seeded.District.Code, new PageRequest(0, 10), Ct);
        var row = Assert.Single(page.Items);
        Assert.Equal(seeded.District.Name + "改", row.Name);
        Assert.Equal((centreId, 40, (int?)null, 1), (row.CentreId!.Value, row.AnswerDeadlineSeconds!.Value, row.EscalatesToCentreId, row.SchoolCount));
        Assert.Equal(seeded.District.Name + "改", (await districts.GetByIdAsync(seeded.District.Id, Ct))!.Name);
    }

    [Fact]
    public async Task GetPageAsync_DistrictWithoutCentre_ListedWithNoCentre()
    {
        var districts = new DistrictRepository(Db);
        var code = Unique("N");
        await districts.CreateAsync(new District { Code = code, Name = Unique("区"), NameEn = "Bare" }, Ct);
        var row = Assert.Single((await districts.GetPageAsync(code, new PageRequest(0, 10), Ct)).Items);
        Assert.Null(row.CentreId);
        Assert.Equal(0, row.SchoolCount);
    }

    [Fact]
    public async Task CreateCentreAsync_SecondCentreForADistrict_RefusedByTheUniqueIndex()
    {
        var districts = new DistrictRepository(Db);
        var district = new District { Code = Unique("U"), Name = Unique("区"), NameEn = "U" };
        district = district with { Id = await districts.CreateAsync(district, Ct) };
        await districts.CreateCentreAsync(new PoliceCentre { Name = "A", NameEn = "A", DistrictId = district.Id, AnswerDeadlineSeconds = 15 }, Ct);
        await Assert.ThrowsAnyAsync<System.Data.Common.DbException>(() =>
            districts.CreateCentreAsync(new PoliceCentre { Name = "B", NameEn = "B", DistrictId = district.Id, AnswerDeadlineSeconds = 15 }, Ct));
    }
}

public sealed class SqliteDistrictRepositoryTests(SqliteDb database) : DistrictRepositoryTests(database), IClassFixture<SqliteDb>;

[Trait("Category", "SqlServer")]
public sealed class SqlServerDistrictRepositoryTests(SqlServerDb database) : DistrictRepositoryTests(database), IClassFixture<SqlServerDb>;
