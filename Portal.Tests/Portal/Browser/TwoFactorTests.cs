using Dapper;
using Microsoft.Playwright;
using Portal.Core.Security;
using Portal.Services;
using Portal.SignIn;
using Xunit;

namespace Portal.Tests.Portal.Browser;

/// <summary>
/// Two-factor sign-in end to end (issue #14): required for police and administrators, enrolled before anything else,
/// changed only after the password and a current code again, and the key never stored in clear. Each test owns its
/// accounts (<see cref="TestUsers"/>) and types its wrong codes from its own client address.
/// </summary>
[Trait("Category", "Browser")]
public sealed class TwoFactorTests(PortalFixture portal)
{
    [Fact]
    public async Task SignIn_PoliceUserWithoutTwoFactor_IsSentToEnrolBeforeAnythingElse()
    {
        var running = await portal.GetPortalAsync();
        var (_, userName) = await TestUsers.CreateAsync(running, Roles.DistrictOperator, districtCode: "370211");
        await using var context = await portal.NewContextAsync(PortalFixture.NewClientAddress());
        var page = await context.NewPageAsync();
        await page.GotoAsync("/police");
        await page.Locator("#username").FillAsync(userName);
        await page.Locator("#password").FillAsync(DemoUsers.Password);
        await page.Locator("#login-submit").ClickAsync();
        await page.WaitForURLAsync(u => u.Contains(SignInPolicy.EnrolPath, StringComparison.Ordinal));
        await Assertions.Expect(page.GetByTestId("enrol-required")).ToBeVisibleAsync();

        // Nothing else is reachable: the console sends it straight back to the enrolment.
        await page.GotoAsync("/police");
        await page.WaitForURLAsync(u => u.Contains(SignInPolicy.EnrolPath, StringComparison.Ordinal));
        var cookies = await context.CookiesAsync();
        Assert.DoesNotContain(cookies, c => c.Name == "ssp.session");

        var key = (await page.GetByTestId("authenticator-key").InnerTextAsync()).Replace(" ", string.Empty, StringComparison.Ordinal).ToUpperInvariant();
        await page.Locator("#code").FillAsync("000000");
        await page.Locator("#enable-2fa").ClickAsync();
        await Assertions.Expect(page.GetByTestId("enrol-error")).ToContainTextAsync("验证码错误");
        await page.Locator("#code").FillAsync(Totp.Compute(key, TimeProvider.System.GetUtcNow()));
        await page.Locator("#enable-2fa").ClickAsync();
        await Assertions.Expect(page.GetByTestId("recovery-codes")).ToBeVisibleAsync();
        await page.Locator("#enrol-continue").ClickAsync();
        await page.WaitForURLAsync(u => u.EndsWith("/police", StringComparison.Ordinal));
        await PortalFixture.WaitInteractiveAsync(page);
        await Assertions.Expect(page.GetByTestId("centre-name")).ToContainTextAsync("黄岛");

        // The authenticator key is encrypted at rest.
        await using (var connection = running.Db.Open())
        {
            var stored = await connection.QuerySingleAsync<string>(
                "SELECT t.Value FROM AspNetUserTokens t JOIN AspNetUsers u ON u.Id = t.UserId WHERE u.UserName = @userName AND t.Name = 'AuthenticatorKey'", new { userName });
            Assert.DoesNotContain(key, stored, StringComparison.OrdinalIgnoreCase);
        }

        // A fresh browser: password, then the code.
        await using var fresh = await portal.NewContextAsync();
        var again = await fresh.NewPageAsync();
        await again.GotoAsync("/police");
        await again.Locator("#username").FillAsync(userName);
        await again.Locator("#password").FillAsync(DemoUsers.Password);
        await again.Locator("#login-submit").ClickAsync();
        await again.WaitForURLAsync(u => u.Contains("/account/login-2fa", StringComparison.Ordinal));
        await again.Locator("#code").FillAsync(Totp.Compute(key, TimeProvider.System.GetUtcNow()));
        await again.Locator("#code-submit").ClickAsync();
        await again.WaitForURLAsync(u => u.EndsWith("/police", StringComparison.Ordinal));
        await PortalFixture.WaitInteractiveAsync(again);
        await Assertions.Expect(again.GetByTestId("centre-name")).ToContainTextAsync("黄岛");
    }

    [Fact]
    public async Task TwoFactor_PoliceUser_CannotTurnItOffAndResetNeedsPasswordAndCode()
    {
        var running = await portal.GetPortalAsync();
        var (_, userName) = await TestUsers.CreateAsync(running, Roles.DistrictOperator, districtCode: "370211");
        await using var context = await portal.NewContextAsync(PortalFixture.NewClientAddress());
        var page = await context.NewPageAsync();
        await page.GotoAsync("/police");
        await portal.CompleteSignInAsync(page, userName); // enrols, and remembers the key
        var oldKey = portal.TotpKeyOf(userName)!;

        await page.GotoAsync("/account/2fa");
        await Assertions.Expect(page.GetByTestId("2fa-required")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("#disable-2fa")).ToHaveCountAsync(0);

        // A session left open is not enough: the code alone, with a wrong password, is refused.
        await page.Locator("#reauth-password").FillAsync("not-the-password-1A");
        await page.Locator("#reauth-code").FillAsync(Totp.Compute(oldKey, TimeProvider.System.GetUtcNow()));
        await page.Locator("#reset-2fa").ClickAsync();
        await Assertions.Expect(page.GetByTestId("2fa-error")).ToBeVisibleAsync();

        await page.Locator("#reauth-password").FillAsync(DemoUsers.Password);
        await page.Locator("#reauth-code").FillAsync(Totp.Compute(oldKey, TimeProvider.System.GetUtcNow()));
        await page.Locator("#reset-2fa").ClickAsync();
        var newKey = (await page.GetByTestId("authenticator-key").InnerTextAsync()).Replace(" ", string.Empty, StringComparison.Ordinal).ToUpperInvariant();
        Assert.NotEqual(oldKey, newKey);
        await page.Locator("#code").FillAsync(Totp.Compute(newKey, TimeProvider.System.GetUtcNow()));
        await page.Locator("#confirm-reset-2fa").ClickAsync();
        await Assertions.Expect(page.GetByTestId("recovery-codes")).ToBeVisibleAsync();
        portal.RememberTotpKey(userName, newKey);

        // The new key signs in; the old one no longer does.
        await using var fresh = await portal.NewContextAsync(PortalFixture.NewClientAddress());
        var again = await fresh.NewPageAsync();
        await again.GotoAsync("/police");
        await again.Locator("#username").FillAsync(userName);
        await again.Locator("#password").FillAsync(DemoUsers.Password);
        await again.Locator("#login-submit").ClickAsync();
        await again.WaitForURLAsync(u => u.Contains("/account/login-2fa", StringComparison.Ordinal));
        await again.Locator("#code").FillAsync(Totp.Compute(oldKey, TimeProvider.System.GetUtcNow()));
        await again.Locator("#code-submit").ClickAsync();
        await Assertions.Expect(again.GetByTestId("login-error")).ToBeVisibleAsync();
        await again.Locator("#code").FillAsync(Totp.Compute(newKey, TimeProvider.System.GetUtcNow()));
        await again.Locator("#code-submit").ClickAsync();
        await again.WaitForURLAsync(u => u.EndsWith("/police", StringComparison.Ordinal));
    }

    [Fact]
    public async Task TwoFactor_Principal_TurnsItOnThenOffWithPasswordAndCode()
    {
        var running = await portal.GetPortalAsync();
        var (_, userName) = await TestUsers.CreateAsync(running, Roles.Principal, schoolCode: "3370000097");
        await using var context = await portal.NewContextAsync(PortalFixture.NewClientAddress());
        var page = await context.NewPageAsync();
        await page.GotoAsync("/principal/school");
        await portal.CompleteSignInAsync(page, userName); // not required for principals: the password is enough
        Assert.EndsWith("/principal/school", page.Url, StringComparison.Ordinal);

        await page.GotoAsync("/account/2fa");
        var key = (await page.GetByTestId("authenticator-key").InnerTextAsync()).Replace(" ", string.Empty, StringComparison.Ordinal).ToUpperInvariant();
        await page.Locator("#code").FillAsync(Totp.Compute(key, TimeProvider.System.GetUtcNow()));
        await page.Locator("#enable-2fa").ClickAsync();
        await Assertions.Expect(page.GetByTestId("recovery-codes")).ToBeVisibleAsync();

        // Still signed in after the change (this browser's session took the new security stamp).
        await page.GotoAsync("/account/2fa");
        await Assertions.Expect(page.Locator("#disable-2fa")).ToBeVisibleAsync();
        await page.Locator("#reauth-password").FillAsync(DemoUsers.Password);
        await page.Locator("#reauth-code").FillAsync("123456");
        await page.Locator("#disable-2fa").ClickAsync();
        await Assertions.Expect(page.GetByTestId("2fa-error")).ToBeVisibleAsync();
        await page.Locator("#reauth-password").FillAsync(DemoUsers.Password);
        await page.Locator("#reauth-code").FillAsync(Totp.Compute(key, TimeProvider.System.GetUtcNow()));
        await page.Locator("#disable-2fa").ClickAsync();
        await Assertions.Expect(page.Locator("#enable-2fa")).ToBeVisibleAsync();
        await using var connection = running.Db.Open();
        Assert.Equal(0L, await connection.ExecuteScalarAsync<long>("SELECT TwoFactorEnabled FROM AspNetUsers WHERE UserName = @userName", new { userName }));
    }
}
