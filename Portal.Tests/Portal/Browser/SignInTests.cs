using Dapper;
using Microsoft.Playwright;
using Xunit;

namespace Portal.Tests.Portal.Browser;

/// <summary>Each demo role signs in through the real login page in Chromium and sees only its scope.</summary>
[Trait("Category", "Browser")]
public sealed class SignInTests(PortalFixture portal)
{

    [Fact]
    public async Task SignIn_DistrictOperator_SeesOnlyOwnDistrictSchools()
    {
        var (context, page) = await portal.SignInAsync("shinan110");
        await using var _ = context;
        Assert.EndsWith("/police", page.Url, StringComparison.Ordinal);
        await Assertions.Expect(page.GetByTestId("centre-name")).ToContainTextAsync("市南分局110指挥中心");
        var districts = page.GetByTestId("school-district");
        await Assertions.Expect(districts.First).ToBeVisibleAsync();
        Assert.All(await districts.AllInnerTextsAsync(), d => Assert.Equal("市南区", d));

        // A school of another district cannot be found by searching for its code...
        await using var connection = (await portal.GetPortalAsync()).Db.Open();
        var other = await connection.QuerySingleAsync<(long Id, string Code)>(
            "SELECT s.Id, s.Code FROM School s JOIN District d ON d.Id = s.DistrictId WHERE d.Code = '370203' ORDER BY s.Id LIMIT 1");
        await page.GetByTestId("school-search").FillAsync(other.Code);
        await Assertions.Expect(page.GetByTestId("school-table")).ToContainTextAsync("没有记录");

        // ...nor opened by its address.
        await page.GotoAsync($"/schools/{other.Id}");
        await Assertions.Expect(page.GetByTestId("school-not-found")).ToBeVisibleAsync();
    }

    [Fact]
    public async Task SignIn_Principal_SeesOnlyOwnSchool()
    {
        var (context, page) = await portal.SignInAsync("principal0");
        await using var _ = context;
        Assert.EndsWith("/principal/school", page.Url, StringComparison.Ordinal);
        await using var connection = (await portal.GetPortalAsync()).Db.Open();
        var own = await connection.QuerySingleAsync<string>("SELECT Name FROM School WHERE Code = '3370000000'");
        await Assertions.Expect(page.GetByTestId("school-title")).ToHaveTextAsync(own);
        await Assertions.Expect(page.GetByTestId("device-serial")).ToHaveCountAsync(2);

        var otherId = await connection.QuerySingleAsync<long>("SELECT Id FROM School WHERE Code = '3370000001'");
        await page.GotoAsync($"/schools/{otherId}");
        await Assertions.Expect(page.GetByTestId("school-not-found")).ToBeVisibleAsync();

        // Pages of other roles are refused outright.
        await page.GotoAsync("/admin/schools");
        await Assertions.Expect(page.GetByText("无权访问").First).ToBeVisibleAsync();
        await page.GotoAsync("/police");
        await Assertions.Expect(page.GetByText("无权访问").First).ToBeVisibleAsync();
    }

    [Fact]
    public async Task SignIn_Bureau_DistrictOfficerSeesOneDistrictCityOfficerSeesTen()
    {
        var (districtContext, districtPage) = await portal.SignInAsync("bureau-shinan");
        await using var a = districtContext;
        Assert.EndsWith("/bureau", districtPage.Url, StringComparison.Ordinal);
        await Assertions.Expect(districtPage.GetByTestId("progress-district")).ToHaveCountAsync(1);
        await Assertions.Expect(districtPage.GetByTestId("progress-district")).ToHaveTextAsync("市南区");

        var (cityContext, cityPage) = await portal.SignInAsync("bureau");
        await using var b = cityContext;
        await Assertions.Expect(cityPage.GetByTestId("progress-district")).ToHaveCountAsync(10);
        await using var connection = (await portal.GetPortalAsync()).Db.Open();
        var schools = await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM School");
        await Assertions.Expect(cityPage.GetByTestId("total-schools")).ToHaveTextAsync(schools.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task SignIn_CityOperatorAndAdmin_SeeEveryDistrict()
    {
        var (context, page) = await portal.SignInAsync("city110");
        await using var _ = context;
        Assert.EndsWith("/police", page.Url, StringComparison.Ordinal);
        await Assertions.Expect(page.GetByTestId("school-district").First).ToBeVisibleAsync();
        await page.GetByTestId("school-search").FillAsync("3370000001");
        await Assertions.Expect(page.GetByTestId("school-district")).ToHaveTextAsync(["市北区"]);

        var (adminContext, adminPage) = await portal.SignInAsync("admin");
        await using var __ = adminContext;
        Assert.EndsWith("/admin/schools", adminPage.Url, StringComparison.Ordinal);
        await Assertions.Expect(adminPage.GetByTestId("admin-school-table")).ToContainTextAsync("3370000000");
    }

    [Fact]
    public async Task SignIn_WrongPassword_ShowsClearMessageThenLocksOut()
    {
        var browser = await portal.GetBrowserAsync();
        await using var context = await browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = (await portal.GetPortalAsync()).BaseUrl });
        var page = await context.NewPageAsync();
        await page.GotoAsync("/principal/school");
        for (var i = 0; i < 5; i++)
        {
            await page.Locator("#username").FillAsync("principal2");
            await page.Locator("#password").FillAsync("wrong-password-" + i);
            await page.Locator("#login-submit").ClickAsync();
            await Assertions.Expect(page.GetByTestId("login-error")).ToBeVisibleAsync();
            if (i < 4)
            {
                await Assertions.Expect(page.GetByTestId("login-error")).ToHaveTextAsync("用户名或密码错误。");
            }
        }

        // Locked: even the right password is refused now, and the message says why.
        await page.Locator("#username").FillAsync("principal2");
        await page.Locator("#password").FillAsync("Demo@2026");
        await page.Locator("#login-submit").ClickAsync();
        await Assertions.Expect(page.GetByTestId("login-error")).ToContainTextAsync("锁定");
        Assert.Contains("/account/login", page.Url, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CultureSwitch_English_TranslatesTheNavigation()
    {
        var (context, page) = await portal.SignInAsync("admin");
        await using var _ = context;
        await Assertions.Expect(page.GetByText("学校管理").First).ToBeVisibleAsync();
        await page.GotoAsync("/culture/set?culture=en&redirectUri=%2Fadmin%2Fdevices");
        await Assertions.Expect(page.GetByText("Serial number").First).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("html")).ToHaveAttributeAsync("lang", "en");
    }
}
