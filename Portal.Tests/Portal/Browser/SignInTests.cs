using System.Globalization;
using Dapper;
using Microsoft.Playwright;
using Portal.Core.Security;
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

    /// <summary>
    /// Issue #14: five wrong passwords from anywhere used to lock any operator for 15 minutes. Now guessing slows only the
    /// guesser's address; the operator at the console signs in as usual, the account is never locked, and the typed user
    /// name (often a password typed in the wrong box) never reaches the log.
    /// </summary>
    [Fact]
    public async Task SignIn_StrangerGuessesFromOneAddress_IsSlowedAndTheOperatorStillSignsIn()
    {
        var running = await portal.GetPortalAsync();
        var (operatorId, operatorName) = await TestUsers.CreateAsync(running, Roles.DistrictOperator, districtCode: "370214");
        await using var stranger = await portal.NewContextAsync(PortalFixture.NewClientAddress());
        var page = await stranger.NewPageAsync();
        await page.GotoAsync("/police");

        const string typedInWrongBox = "My-Secret-Typed-Here-7";
        await page.Locator("#username").FillAsync(typedInWrongBox);
        await page.Locator("#password").FillAsync("wrong-password");
        await page.Locator("#login-submit").ClickAsync();
        await Assertions.Expect(page.GetByTestId("login-error")).ToHaveTextAsync("用户名或密码错误。");

        // Wrong passwords for the operator until the address must wait (the first waits are short, so allow a few more).
        var throttledAfter = 0;
        for (var attempt = 2; attempt <= 12 && throttledAfter == 0; attempt++)
        {
            await page.Locator("#username").FillAsync(operatorName);
            await page.Locator("#password").FillAsync("wrong-password-" + attempt.ToString(CultureInfo.InvariantCulture));
            await page.Locator("#login-submit").ClickAsync();
            var message = await page.GetByTestId("login-error").InnerTextAsync();
            if (message.Contains("秒后再试", StringComparison.Ordinal))
            {
                throttledAfter = attempt;
            }
            else
            {
                Assert.Equal("用户名或密码错误。", message);
            }
        }

        Assert.InRange(throttledAfter, 6, 12); // five free attempts, then waits

        // The real operator, at the console (another address), signs in at once: nothing was locked.
        var (console, consolePage) = await portal.SignInAsync(operatorName);
        await using var _ = console;
        Assert.EndsWith("/police", consolePage.Url, StringComparison.Ordinal);
        await using var connection = running.Db.Open();
        var (failed, lockoutEnd) = await connection.QuerySingleAsync<(long, string?)>("SELECT AccessFailedCount, LockoutEnd FROM AspNetUsers WHERE Id = @operatorId", new { operatorId });
        Assert.Equal(0L, failed);
        Assert.Null(lockoutEnd);
        Assert.DoesNotContain(typedInWrongBox, running.Log, StringComparison.Ordinal);
        Assert.DoesNotContain(operatorName, running.Log, StringComparison.Ordinal);
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
