using Microsoft.Playwright;
using Portal.Services;
using Portal.SignIn;

namespace Portal.Benchmarks.Harness;

/// <summary>
/// Signs a demo account in on a page that shows (or leads to) the login form: user name, the demo password, and the
/// second factor from the account's published key where its role has one (police and administrators, issue #14).
/// One copy for the benchmarks and the tests that drive their own portal.
/// </summary>
public static class DemoSignIn
{
    public static async Task SignInAsync(IPage page, string userName, float timeoutMs = 60_000)
    {
        ArgumentNullException.ThrowIfNull(page);
        await page.Locator("#username").FillAsync(userName).ConfigureAwait(false);
        await page.Locator("#password").FillAsync(DemoUsers.Password).ConfigureAwait(false);
        await page.Locator("#login-submit").ClickAsync().ConfigureAwait(false);
        var demo = DemoUsers.All.FirstOrDefault(u => u.UserName == userName);
        if (demo != default && DemoUsers.HasTwoFactor(demo.Role))
        {
            await page.Locator("#code").FillAsync(Totp.Compute(DemoUsers.TotpKey(userName), TimeProvider.System.GetUtcNow())).ConfigureAwait(false);
            await page.Locator("#code-submit").ClickAsync().ConfigureAwait(false);
        }

        await page.Locator("[data-testid=main][data-interactive=true]").WaitForAsync(new LocatorWaitForOptions { Timeout = timeoutMs }).ConfigureAwait(false);
    }
}
