using Microsoft.Playwright;
using Xunit;

[assembly: AssemblyFixture(typeof(Portal.Tests.Portal.PortalFixture))]

namespace Portal.Tests.Portal;

/// <summary>
/// One real portal process (demo city, SQLite in a temp folder, a free port on 127.0.0.1) and one headless
/// Debian Chromium, shared by every browser test in the run. Started on first use, so a test run that
/// filters the browser tests out pays nothing.
/// </summary>
public sealed class PortalFixture : IAsyncDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private PortalProcess? _portal;
    private IPlaywright? _playwright;
    private IBrowser? _browser;

    /// <summary>
    /// The running portal, started on first use. There is no synchronous handle on purpose: a test that read the
    /// database handle before any other test had started the portal got null, depending on which test ran first.
    /// </summary>
    public async Task<PortalProcess> GetPortalAsync()
    {
        await EnsureStartedAsync();
        return _portal!;
    }

    public async Task<IBrowser> GetBrowserAsync()
    {
        await EnsureStartedAsync();
        return _browser!;
    }

    /// <summary>A fresh browser context (own cookies) signed in through the real login page.</summary>
    public async Task<(IBrowserContext Context, IPage Page)> SignInAsync(string userName, string password = "Demo@2026")
    {
        var browser = await GetBrowserAsync();
        var context = await browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = _portal!.BaseUrl, Locale = "zh-CN" });
        var page = await context.NewPageAsync();
        await page.GotoAsync("/");
        await page.Locator("#username").FillAsync(userName);
        await page.Locator("#password").FillAsync(password);
        await page.Locator("#login-submit").ClickAsync();
        await page.WaitForURLAsync(url => !url.Contains("/account/login", StringComparison.Ordinal) && !url.Contains("/connect/", StringComparison.Ordinal) && !url.Contains("/signin-oidc", StringComparison.Ordinal));
        await WaitInteractiveAsync(page);
        return (context, page);
    }

    /// <summary>Waits until the page's Blazor circuit is live, so clicks reach their handlers.</summary>
    public static Task WaitInteractiveAsync(IPage page) =>
        Assertions.Expect(page.Locator("[data-testid=main][data-interactive=true]")).ToBeVisibleAsync(new LocatorAssertionsToBeVisibleOptions { Timeout = 20_000 });

    private async Task EnsureStartedAsync()
    {
        if (_browser is not null)
        {
            return;
        }

        await _gate.WaitAsync();
        try
        {
            if (_browser is not null)
            {
                return;
            }

            _portal = await PortalProcess.StartAsync();
            _playwright = await Playwright.CreateAsync();
            _browser = await Chromium.LaunchAsync(_playwright);
        }
        finally
        {
            _gate.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.CloseAsync();
        }

        _playwright?.Dispose();
        if (_portal is not null)
        {
            await _portal.DisposeAsync();
        }

        _gate.Dispose();
    }
}

/// <summary>
/// Browser tests that change or count the whole city (the register import, reports compared with the database)
/// run in this collection: alone, after every other test, so no test beside them moves the figures they read.
/// The other browser tests run side by side and each owns its schools and alarms.
/// </summary>
[CollectionDefinition(nameof(WholeCity), DisableParallelization = true)]
public sealed class WholeCity;
