using System.Net;
using System.Reflection;
using Microsoft.AspNetCore.Components;
using Microsoft.Playwright;
using Xunit;

namespace Portal.Tests.Portal.Browser;

/// <summary>
/// Issue #14: every response carries a Content Security Policy and refuses framing; the console (alarm, pop-up, camera
/// over WebRTC, MudBlazor, Blazor's scripts) works under it in Chromium with no violation; hostile return URLs stay on
/// the site; cookies are Secure when the browser's connection is HTTPS through a proxy.
/// </summary>
[Trait("Category", "Browser")]
public sealed class WebSecurityTests(PortalFixture portal)
{
    private const string CollectViolations = "window.__csp = []; document.addEventListener('securitypolicyviolation', e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));";

    [Fact(Timeout = 300_000)]
    public async Task EveryResponse_CarriesCspAndRefusesFraming()
    {
        var running = await portal.GetPortalAsync();
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = new Uri(running.BaseUrl) };
        var paths = new List<string> { "/", "/account/login", "/account/denied", "/healthz", "/api/alarms", "/no-such-page", "/manifest.webmanifest", "/_framework/blazor.web.js", "/admin/jobs", "/openapi/v1.json" };
        paths.AddRange(RoutablePages());
        foreach (var path in paths)
        {
            using var response = await http.GetAsync(path);
            var csp = response.Headers.TryGetValues("Content-Security-Policy", out var values) ? string.Join(";", values) : string.Empty;
            Assert.True(csp.Contains("frame-ancestors 'none'", StringComparison.Ordinal), $"{path} ({(int)response.StatusCode}): no frame-ancestors in '{csp}'");
            Assert.Contains("script-src 'self'", csp, StringComparison.Ordinal);
            Assert.DoesNotContain("unsafe-eval", csp, StringComparison.Ordinal);
            Assert.Equal("DENY", response.Headers.GetValues("X-Frame-Options").Single(), ignoreCase: true);
            Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        }
    }

    [Fact(Timeout = 300_000)]
    public async Task Console_UnderTheCsp_RingsPopsUpAndPlaysTheCamera_WithoutViolations()
    {
        var running = await portal.GetPortalAsync();
        await using var context = await portal.NewContextAsync();
        await context.AddInitScriptAsync(CollectViolations);
        var page = await context.NewPageAsync();
        await page.GotoAsync("/police");
        await portal.CompleteSignInAsync(page, "city110");
        await Assertions.Expect(page.GetByTestId("alarm-board")).ToBeVisibleAsync();

        var alarmId = await DemoPress.AlarmAsync(running.BaseUrl, "ATS00000095");
        await page.Locator($"[data-testid=alarm-card][data-alarm-id='{alarmId}']").DispatchEventAsync("click");
        var popup = page.Locator($"[data-testid=alarm-popup][data-alarm-id='{alarmId}']");
        await Assertions.Expect(popup.GetByTestId("camera-video")).ToBeVisibleAsync();
        await page.WaitForFunctionAsync(
            "async () => { const v = document.querySelector('[data-testid=alarm-popup] [data-testid=camera-video]'); if (!v || !v.portalPc) return false; let n = 0; (await v.portalPc.getStats()).forEach(r => { if (r.type === 'inbound-rtp' && r.kind === 'video') n = r.framesDecoded || 0; }); return n > 5 && v.videoWidth > 0; }",
            null, new() { Timeout = 60_000, PollingInterval = 200 });
        await NoViolationsAsync(page);

        // MudBlazor's menus and the other pages of the role load under the same policy.
        foreach (var path in new[] { "/alarms", "/schools", "/police/wall" })
        {
            await page.GotoAsync(path);
            await PortalFixture.WaitInteractiveAsync(page);
            await NoViolationsAsync(page);
        }

        await page.GotoAsync("/account/2fa");
        await Assertions.Expect(page.GetByTestId("2fa-enabled")).ToBeVisibleAsync();
        await NoViolationsAsync(page);
    }

    private static async Task NoViolationsAsync(IPage page)
    {
        var violations = await page.EvaluateAsync<string[]>("() => window.__csp");
        Assert.True(violations.Length == 0, $"CSP violations on {page.Url}: " + string.Join(", ", violations));
    }

    [Fact(Timeout = 300_000)]
    public async Task Console_InAFrameOfAnotherSite_IsNotShown()
    {
        var running = await portal.GetPortalAsync();
        await using var context = await portal.NewContextAsync();
        var page = await context.NewPageAsync();
        await page.SetContentAsync($"<iframe id=f src=\"{running.BaseUrl}/account/login\" width=600 height=400></iframe>");
        var frame = await (await page.QuerySelectorAsync("#f"))!.ContentFrameAsync();
        Assert.NotNull(frame);

        // SetContent waited for the frame's load: a page that allowed framing would show its login form here.
        Assert.Equal(0, await frame!.Locator("#username").CountAsync());
    }

    [Theory(Timeout = 300_000)]
    [InlineData("/%09/example.com")]
    [InlineData("//example.com")]
    [InlineData("/%5Cexample.com")]
    [InlineData("https://example.com/")]
    [InlineData("/%0D%0A/example.com")]
    public async Task ReturnUrl_Hostile_StaysOnTheSite(string hostile)
    {
        var running = await portal.GetPortalAsync();
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = new Uri(running.BaseUrl) };
        using var culture = await http.GetAsync("/culture/set?culture=en&redirectUri=" + hostile);
        Assert.Equal(HttpStatusCode.Redirect, culture.StatusCode);
        Assert.Equal("/", culture.Headers.Location!.OriginalString);
    }

    [Fact(Timeout = 300_000)]
    public async Task SignIn_WithHostileReturnUrl_EndsOnThePortal()
    {
        var running = await portal.GetPortalAsync();
        await using var context = await portal.NewContextAsync();
        var page = await context.NewPageAsync();
        await page.GotoAsync("/account/signin?returnUrl=%2F%09%2Fexample.com");
        await portal.CompleteSignInAsync(page, "principal0");
        Assert.StartsWith(running.BaseUrl + "/", page.Url, StringComparison.Ordinal);

        // The login page's own return URL is checked the same way.
        await using var other = await portal.NewContextAsync();
        var direct = await other.NewPageAsync();
        await direct.GotoAsync("/account/login?ReturnUrl=%2F%09%2Fexample.com");
        await direct.Locator("#username").FillAsync("principal1");
        await direct.Locator("#password").FillAsync(global::Portal.Services.DemoUsers.Password);
        await direct.Locator("#login-submit").ClickAsync();
        await direct.WaitForURLAsync(u => !u.Contains("/account/", StringComparison.Ordinal) && !u.Contains("/connect/", StringComparison.Ordinal) && !u.Contains("/signin-oidc", StringComparison.Ordinal));
        Assert.StartsWith(running.BaseUrl + "/", direct.Url, StringComparison.Ordinal);
    }

    [Fact(Timeout = 300_000)]
    public async Task Cookies_BehindAnHttpsProxy_AreSecure()
    {
        var running = await portal.GetPortalAsync();
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false }) { BaseAddress = new Uri(running.BaseUrl) };

        using var plain = await http.GetAsync("/culture/set?culture=en&redirectUri=/");
        Assert.DoesNotContain("secure", string.Join("|", plain.Headers.GetValues("Set-Cookie")), StringComparison.OrdinalIgnoreCase);

        using var request = new HttpRequestMessage(HttpMethod.Get, "/culture/set?culture=en&redirectUri=/");
        request.Headers.Add("X-Forwarded-Proto", "https");
        request.Headers.Add("X-Forwarded-For", "198.51.100.23");
        using var proxied = await http.SendAsync(request);
        Assert.Contains("secure", string.Join("|", proxied.Headers.GetValues("Set-Cookie")), StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>Every routable page of the portal (route parameters filled with a demo school's or alarm's id).</summary>
    private static IEnumerable<string> RoutablePages() =>
        typeof(global::Portal.Extensions).Assembly.GetTypes()
            .SelectMany(t => t.GetCustomAttributes<RouteAttribute>())
            .Select(r => r.Template.Replace("{id:int}", "1", StringComparison.Ordinal).Replace("{id}", "1", StringComparison.Ordinal))
            .Where(t => !t.Contains('{', StringComparison.Ordinal))
            .Distinct();
}
