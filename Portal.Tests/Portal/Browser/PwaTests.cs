using System.Text.Json;
using Microsoft.Playwright;
using Xunit;

namespace Portal.Tests.Portal.Browser;

/// <summary>The portal installs as a PWA: a manifest with icons, and a service worker that serves an offline page.</summary>
[Trait("Category", "Browser")]
public sealed class PwaTests(PortalFixture portal)
{
    [Fact]
    public async Task Manifest_And_ServiceWorker_AreInstallable()
    {
        var (context, page) = await portal.SignInAsync("city110");
        await using var _ = context;
        var href = await page.Locator("link[rel=manifest]").GetAttributeAsync("href");
        Assert.Equal("manifest.webmanifest", href);
        using var manifest = JsonDocument.Parse(await (await context.APIRequest.GetAsync("/manifest.webmanifest")).TextAsync());
        Assert.Equal("standalone", manifest.RootElement.GetProperty("display").GetString());
        var sizes = manifest.RootElement.GetProperty("icons").EnumerateArray().Select(i => i.GetProperty("sizes").GetString()).ToList();
        Assert.Contains("192x192", sizes);
        Assert.Contains("512x512", sizes);
        foreach (var icon in manifest.RootElement.GetProperty("icons").EnumerateArray())
        {
            var response = await context.APIRequest.GetAsync("/" + icon.GetProperty("src").GetString());
            Assert.Equal(200, response.Status);
            Assert.Equal("image/png", response.Headers["content-type"]);
        }

        var scope = await page.EvaluateAsync<string>("async () => (await navigator.serviceWorker.ready).scope");
        Assert.Equal((await portal.GetPortalAsync()).BaseUrl + "/", scope);

        // Offline, a navigation gets the cached offline page instead of the browser's error.
        await page.ReloadAsync(); // let the now-active worker control the page
        await context.SetOfflineAsync(true);
        await page.GotoAsync("/police");
        await Assertions.Expect(page.Locator("h1")).ToHaveTextAsync("网络已断开");
        await context.SetOfflineAsync(false);
    }
}
