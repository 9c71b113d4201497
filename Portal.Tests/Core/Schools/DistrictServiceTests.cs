using Portal.Core.Audit;
using Portal.Core.Data;
using Portal.Core.Schools;
using Portal.Core.Security;
using Portal.Tests.Data;
using Xunit;

namespace Portal.Tests.Core.Schools;

/// <summary>Districts and 110 centres as administrators keep them: bad input is refused with nothing changed, changes are audited.</summary>
public sealed class DistrictServiceTests : IDisposable
{
    private static readonly Actor Admin = new(new UserScope(1, "admin", Roles.Admin, null, null), "192.0.2.5");

    private readonly SqliteDb _database = new();
    private readonly DistrictRepository _districts;
    private readonly AuditRepository _audit;
    private readonly DistrictService _service;

    public DistrictServiceTests()
    {
        _districts = new DistrictRepository(_database.Db);
        _audit = new AuditRepository(_database.Db, TimeProvider.System);
        _service = new DistrictService(_districts, _audit);
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => _database.Dispose();

    private async Task<int> DistrictAsync(string code, string name)
    {
        var result = await _service.SaveDistrictAsync(Admin, new District(0, code, name, "N" + code), Ct);
        Assert.True(result.Succeeded, string.Join(",", result.Errors));
        return result.Id;
    }

    private async Task<int> AuditCountAsync() => (await _audit.GetPageAsync(new AuditQuery(), new PageRequest(0, 1), Ct)).Total;

    [Fact]
    public async Task SaveDistrictAsync_DuplicateCodeOrName_RefusedNothingChanged()
    {
        var id = await DistrictAsync("370202", "市南区");
        var audited = await AuditCountAsync();

        var duplicateCode = await _service.SaveDistrictAsync(Admin, new District(0, " 370202 ", "别的区", "Other"), Ct);
        Assert.Equal(("Code", "DuplicateDistrictCode"), (duplicateCode.Errors[0].Field, duplicateCode.Errors[0].Code));
        var duplicateName = await _service.SaveDistrictAsync(Admin, new District(0, "370203", "市南区", "Other"), Ct);
        Assert.Equal("DuplicateDistrictName", Assert.Single(duplicateName.Errors).Code);
        var badCode = await _service.SaveDistrictAsync(Admin, new District(0, "37-02", "", ""), Ct);
        Assert.Equal(["DistrictCodeFormat", "Required"], badCode.Errors.Select(e => e.Code).ToArray());

        Assert.Single(await _districts.GetAllAsync(Ct));
        Assert.Equal(audited, await AuditCountAsync());

        // Renaming a district to its own code is fine, and is audited with what it was.
        Assert.True((await _service.SaveDistrictAsync(Admin, new District(id, "370202", "市南区（新）", "Shinan"), Ct)).Succeeded);
        var entry = (await _audit.GetPageAsync(new AuditQuery(Action: AuditActions.DistrictUpdated), new PageRequest(0, 1), Ct)).Items[0];
        Assert.Equal(("admin", "192.0.2.5"), (entry.UserName, entry.RemoteAddress));
        Assert.Contains("市南区", entry.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SaveCentreAsync_UnknownDistrictSecondCentreOrBadDeadline_RefusedNothingChanged()
    {
        var shinan = await DistrictAsync("370202", "市南区");
        Assert.True((await _service.SaveCentreAsync(Admin, new PoliceCentre { Name = "市南分局110", NameEn = "Shinan", DistrictId = shinan, AnswerDeadlineSeconds = 15 }, Ct)).Succeeded);

        var unknown = await _service.SaveCentreAsync(Admin, new PoliceCentre { Name = "X", NameEn = "X", DistrictId = 9999, AnswerDeadlineSeconds = 15 }, Ct);
        Assert.Equal("UnknownDistrict", Assert.Single(unknown.Errors).Code);
        var second = await _service.SaveCentreAsync(Admin, new PoliceCentre { Name = "Y", NameEn = "Y", DistrictId = shinan, AnswerDeadlineSeconds = 15 }, Ct);
        Assert.Equal("DistrictHasCentre", Assert.Single(second.Errors).Code);
        var deadline = await _service.SaveCentreAsync(Admin, new PoliceCentre { Name = "Z", NameEn = "Z", DistrictId = null, AnswerDeadlineSeconds = 4 }, Ct);
        Assert.Equal("DeadlineRange", Assert.Single(deadline.Errors).Code);
        Assert.Single(await _districts.GetCentresAsync(Ct));
    }

    [Fact]
    public async Task SaveCentreAsync_CityCentreAndEscalationTargets_CheckedAndStored()
    {
        var shinan = await DistrictAsync("370202", "市南区");
        var shibei = await DistrictAsync("370203", "市北区");
        var city = await _service.SaveCentreAsync(Admin, new PoliceCentre { Name = "市110", NameEn = "City", AnswerDeadlineSeconds = 30 }, Ct);
        Assert.True(city.Succeeded);
        Assert.Equal("CityCentreExists", Assert.Single((await _service.SaveCentreAsync(Admin, new PoliceCentre { Name = "市110b", NameEn = "City", AnswerDeadlineSeconds = 30 }, Ct)).Errors).Code);
        Assert.Equal("CityCentreNoEscalation", Assert.Single((await _service.SaveCentreAsync(Admin, new PoliceCentre { Id = city.Id, Name = "市110", NameEn = "City", AnswerDeadlineSeconds = 30, EscalatesToCentreId = city.Id }, Ct)).Errors).Code);

        var north = await _service.SaveCentreAsync(Admin, new PoliceCentre { Name = "市北110", NameEn = "Shibei", DistrictId = shibei, AnswerDeadlineSeconds = 15 }, Ct);
        var south = await _service.SaveCentreAsync(Admin, new PoliceCentre { Name = "市南110", NameEn = "Shinan", DistrictId = shinan, AnswerDeadlineSeconds = 20, EscalatesToCentreId = north.Id }, Ct);
        Assert.True(south.Succeeded);
        Assert.Equal(north.Id, (await _districts.GetCentreByIdAsync(south.Id, Ct))!.EscalatesToCentreId);
        Assert.Equal("EscalatesToSelf", Assert.Single((await _service.SaveCentreAsync(Admin, new PoliceCentre { Id = south.Id, Name = "市南110", NameEn = "S", DistrictId = shinan, AnswerDeadlineSeconds = 20, EscalatesToCentreId = south.Id }, Ct)).Errors).Code);
        Assert.Equal("UnknownCentre", Assert.Single((await _service.SaveCentreAsync(Admin, new PoliceCentre { Id = south.Id, Name = "市南110", NameEn = "S", DistrictId = shinan, AnswerDeadlineSeconds = 20, EscalatesToCentreId = 4242 }, Ct)).Errors).Code);
    }

    [Fact]
    public async Task SaveDistrictAsync_NotAdmin_Refused()
    {
        var bureau = new Actor(new UserScope(2, "bureau", Roles.Bureau, null, null), null);
        await Assert.ThrowsAsync<ScopeDeniedException>(() => _service.SaveDistrictAsync(bureau, new District(0, "370202", "市南区", "Shinan"), Ct));
        Assert.Empty(await _districts.GetAllAsync(Ct));
    }
}
