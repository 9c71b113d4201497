using System.Text.Json;
using Dapper;
using Microsoft.Playwright;
using Xunit;

namespace Portal.Tests.Portal.Browser;

/// <summary>The HTTP APIs answer in the caller's scope: another scope's ids get 404, never data.</summary>
[Trait("Category", "Browser")]
public sealed class ApiScopeTests(PortalFixture portal)
{
    private async Task<(long InShinan, long InShibei, long DeviceInShibei)> IdsAsync()
    {
        await using var connection = (await portal.GetPortalAsync()).Db.Open();
        var shinan = await connection.QuerySingleAsync<long>("SELECT s.Id FROM School s JOIN District d ON d.Id = s.DistrictId WHERE d.Code = '370202' ORDER BY s.Id LIMIT 1");
        var shibei = await connection.QuerySingleAsync<long>("SELECT s.Id FROM School s JOIN District d ON d.Id = s.DistrictId WHERE d.Code = '370203' ORDER BY s.Id LIMIT 1");
        var device = await connection.QuerySingleAsync<long>("SELECT Id FROM Device WHERE SchoolId = @shibei LIMIT 1", new { shibei });
        return (shinan, shibei, device);
    }

    [Fact]
    public async Task Api_DistrictOperator_OtherDistrictIds_Answer404()
    {
        var (inShinan, inShibei, deviceInShibei) = await IdsAsync();
        var (context, _) = await portal.SignInAsync("shinan110");
        await using var __ = context;
        var api = context.APIRequest;

        Assert.Equal(200, (await api.GetAsync($"/api/schools/{inShinan}")).Status);
        Assert.Equal(404, (await api.GetAsync($"/api/schools/{inShibei}")).Status);
        Assert.Equal(404, (await api.GetAsync($"/api/schools/{inShibei}/devices")).Status);
        Assert.Equal(404, (await api.GetAsync($"/api/devices/{deviceInShibei}")).Status);

        // The list holds exactly the district's schools, whatever filter is asked for.
        await using var connection = (await portal.GetPortalAsync()).Db.Open();
        var expected = await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM School s JOIN District d ON d.Id = s.DistrictId WHERE d.Code = '370202'");
        using var list = JsonDocument.Parse(await (await api.GetAsync("/api/schools?take=500")).TextAsync());
        Assert.Equal(expected, list.RootElement.GetProperty("total").GetInt64());
        var shibeiDistrict = await connection.ExecuteScalarAsync<long>("SELECT Id FROM District WHERE Code = '370203'");
        using var widened = JsonDocument.Parse(await (await api.GetAsync($"/api/schools?districtId={shibeiDistrict}")).TextAsync());
        Assert.Equal(0, widened.RootElement.GetProperty("total").GetInt64());
    }

    [Fact]
    public async Task Api_Principal_SeesOneSchoolAndNoSecrets()
    {
        var (context, _) = await portal.SignInAsync("principal1");
        await using var __ = context;
        var api = context.APIRequest;
        using var list = JsonDocument.Parse(await (await api.GetAsync("/api/schools?take=500")).TextAsync());
        Assert.Equal(1, list.RootElement.GetProperty("total").GetInt32());
        var id = list.RootElement.GetProperty("items")[0].GetProperty("id").GetInt32();

        var devices = await (await api.GetAsync($"/api/schools/{id}/devices")).TextAsync();
        // Need to know (issue 13): a principal sees the devices and their state, not their addresses, logins or whether
        // a secret is set; that is the administrator's view.
        Assert.Contains("serialNumber", devices, StringComparison.Ordinal);
        Assert.DoesNotContain("hasSecret", devices, StringComparison.Ordinal);
        Assert.DoesNotContain("rtspUrl", devices, StringComparison.Ordinal);
        Assert.DoesNotContain("secretProtected", devices, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("CfDJ8", devices, StringComparison.Ordinal); // Data Protection payloads start so

        var (inShinan, _, _) = await IdsAsync();
        if (inShinan != id)
        {
            Assert.Equal(404, (await api.GetAsync($"/api/schools/{inShinan}")).Status);
        }
    }

    [Fact]
    public async Task Api_Anonymous_Gets401AndDiscoveryIsPublic()
    {
        var browser = await portal.GetBrowserAsync();
        await using var context = await browser.NewPatientContextAsync(new BrowserNewContextOptions { BaseURL = (await portal.GetPortalAsync()).BaseUrl });
        var api = context.APIRequest;
        Assert.Equal(401, (await api.GetAsync("/api/schools", new APIRequestContextOptions { MaxRedirects = 0 })).Status);
        Assert.Equal(401, (await api.GetAsync("/api/devices/1", new APIRequestContextOptions { MaxRedirects = 0 })).Status);

        using var discovery = JsonDocument.Parse(await (await api.GetAsync("/.well-known/openid-configuration")).TextAsync());
        Assert.Equal((await portal.GetPortalAsync()).BaseUrl + "/", discovery.RootElement.GetProperty("issuer").GetString());
        Assert.Contains("S256", discovery.RootElement.GetProperty("code_challenge_methods_supported").EnumerateArray().Select(e => e.GetString()));

        var openApi = await (await api.GetAsync("/openapi/v1.json")).TextAsync();
        Assert.Contains("/api/schools/{id}", openApi, StringComparison.Ordinal);
        var health = await api.GetAsync("/healthz");
        Assert.Equal(200, health.Status);
        Assert.Contains("healthy", await health.TextAsync(), StringComparison.Ordinal);
    }
}
