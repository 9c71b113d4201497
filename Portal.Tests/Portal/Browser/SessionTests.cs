using System.Net;
using System.Text.Json;
using Dapper;
using Microsoft.Playwright;
using Portal.Core.Security;
using Xunit;

namespace Portal.Tests.Portal.Browser;

/// <summary>
/// Sessions end on the server (issue #14): a cookie copied before sign-out is refused after it, and a locked, disabled
/// or re-scoped operator loses access within the revalidation interval (3 s on the shared test portal, at most 60 s in
/// production) — the open console stops ringing and its alarm subscription ends. Each test owns its accounts and its
/// schools (Laoshan 370212: demo schools and terminals ending in 3; Licang 370213: ending in 4).
/// </summary>
[Trait("Category", "Browser")]
public sealed class SessionTests(PortalFixture portal)
{
    [Fact(Timeout = 300_000)]
    public async Task SignOut_CookieCopiedBefore_IsRefusedAfterOnPagesAndApi()
    {
        var running = await portal.GetPortalAsync();
        var (userId, userName) = await TestUsers.CreateAsync(running, Roles.Principal, schoolCode: "3370000096");
        var (context, page) = await portal.SignInAsync(userName);
        await using var _ = context;
        using var copy = await CopyCookiesAsync(context, running.BaseUrl);

        Assert.Equal(HttpStatusCode.OK, (await copy.GetAsync("/api/alarms")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await copy.GetAsync("/principal/school")).StatusCode);

        await page.Locator("form[action=\"/account/signout\"] button").ClickAsync();
        await page.WaitForURLAsync(u => u.Contains("/account/login", StringComparison.Ordinal));

        Assert.Equal(HttpStatusCode.Unauthorized, (await copy.GetAsync("/api/alarms")).StatusCode);
        var pageAfter = await copy.GetAsync("/principal/school");
        Assert.Equal(HttpStatusCode.Redirect, pageAfter.StatusCode); // to the sign-in, not the page
        Assert.Contains("/connect/authorize", pageAfter.Headers.Location!.ToString(), StringComparison.Ordinal);

        // The sign-in server's cookie was ended too: the copy cannot get a new portal session without the password.
        var authorize = await copy.GetAsync(pageAfter.Headers.Location);
        Assert.Contains("/account/login", authorize.Headers.Location?.ToString() ?? string.Empty, StringComparison.Ordinal);
        await using var connection = running.Db.Open();
        Assert.Equal(0L, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM UserSession WHERE UserId = @userId", new { userId }));
    }

    [Fact(Timeout = 300_000)]
    public async Task LockedOperator_OpenConsole_LosesAccessAndStopsRinging()
    {
        var running = await portal.GetPortalAsync();
        var (userId, userName) = await TestUsers.CreateAsync(running, Roles.DistrictOperator, districtCode: "370212");
        var (adminContext, _) = await portal.SignInAsync("admin");
        await using var __ = adminContext;
        var (context, console) = await portal.SignInAsync(userName);
        await using var _ = context;
        Assert.EndsWith("/police", console.Url, StringComparison.Ordinal);
        await Assertions.Expect(console.GetByTestId("alarm-board")).ToBeVisibleAsync();
        Assert.Equal(1, (await HeldAsync(adminContext, userId)).Consoles);
        using var copy = await CopyCookiesAsync(context, running.BaseUrl);

        // It rings for its district.
        var alarmId = await PressAsync(running, "ATS00000093");
        await Assertions.Expect(console.Locator($"[data-testid=alarm-card][data-alarm-id='{alarmId}']")).ToBeVisibleAsync();
        await Assertions.Expect(console.GetByTestId("alarm-banner")).ToBeVisibleAsync();

        // An administrator locks the account: the open console goes to the sign-in within the interval.
        await TestUsers.LockAsync(running, userId);
        await console.WaitForURLAsync(u => u.Contains("/account/login", StringComparison.Ordinal), new() { Timeout = 60_000 });
        Assert.Equal((0, 0), await HeldUntilNoneAsync(adminContext, userId));
        Assert.Equal(0, await console.EvaluateAsync<int>("() => window.portalAlarm ? window.portalAlarm._level : 0"));
        Assert.Equal(HttpStatusCode.Unauthorized, (await copy.GetAsync("/api/alarms")).StatusCode);

        // A new alarm of its district reaches nobody on that browser; the account cannot sign in again.
        var next = await PressAsync(running, "ATS00000193");
        Assert.NotEqual(alarmId, next);
        await console.Locator("#username").FillAsync(userName);
        await console.Locator("#password").FillAsync(global::Portal.Services.DemoUsers.Password);
        await console.Locator("#login-submit").ClickAsync();
        await Assertions.Expect(console.GetByTestId("login-error")).ToContainTextAsync("锁定");
        Assert.Equal(0, (await HeldAsync(adminContext, userId)).Consoles);
    }

    [Fact(Timeout = 300_000)]
    public async Task DisabledOrReScopedOperator_ApiRefusedWithinTheInterval()
    {
        var running = await portal.GetPortalAsync();
        var (disabledId, disabledName) = await TestUsers.CreateAsync(running, Roles.DistrictOperator, districtCode: "370213");
        var (movedId, movedName) = await TestUsers.CreateAsync(running, Roles.DistrictOperator, districtCode: "370213");
        var (a, _) = await portal.SignInAsync(disabledName);
        await using var disabledContext = a;
        var (b, _) = await portal.SignInAsync(movedName);
        await using var movedContext = b;
        using var disabled = await CopyCookiesAsync(disabledContext, running.BaseUrl);
        using var moved = await CopyCookiesAsync(movedContext, running.BaseUrl);
        Assert.Equal(HttpStatusCode.OK, (await disabled.GetAsync("/api/alarms")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await moved.GetAsync("/api/alarms")).StatusCode);

        await TestUsers.SetAsync(running, disabledId, "IsDisabled", 1);
        await using (var connection = running.Db.Open())
        {
            var laoshan = await connection.QuerySingleAsync<int>("SELECT Id FROM District WHERE Code = '370212'");
            await TestUsers.SetAsync(running, movedId, "DistrictId", laoshan);
        }

        Assert.True(await RefusedWithinAsync(disabled, TimeSpan.FromSeconds(60)), "the disabled operator's session still reads alarms");
        Assert.True(await RefusedWithinAsync(moved, TimeSpan.FromSeconds(60)), "the re-scoped operator's session still reads alarms");
    }

    /// <summary>Polls the API with the copied cookie until it answers 401 (no fixed sleep: the bound is the timeout).</summary>
    private static async Task<bool> RefusedWithinAsync(HttpClient client, TimeSpan timeout)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            if ((await client.GetAsync("/api/alarms")).StatusCode == HttpStatusCode.Unauthorized)
            {
                return true;
            }

            await Task.Delay(250);
        }

        return false;
    }

    /// <summary>An HTTP client carrying a copy of the browser's cookies, as a thief who copied them would.</summary>
    internal static async Task<HttpClient> CopyCookiesAsync(IBrowserContext context, string baseUrl)
    {
        var cookies = await context.CookiesAsync();
        var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false }) { BaseAddress = new Uri(baseUrl), Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Add("Cookie", string.Join("; ", cookies.Select(c => c.Name + "=" + c.Value)));
        return client;
    }

    private static Task<int> PressAsync(PortalProcess running, string serial) => DemoPress.AlarmAsync(running.BaseUrl, serial);

    /// <summary>Polls until the account holds nothing, for at most 10 s (the console's page is replaced as it is revalidated).</summary>
    private static async Task<(int Consoles, int Sessions)> HeldUntilNoneAsync(IBrowserContext admin, int userId)
    {
        var held = await HeldAsync(admin, userId);
        for (var i = 0; i < 40 && held != (0, 0); i++)
        {
            await Task.Delay(250);
            held = await HeldAsync(admin, userId);
        }

        return held;
    }

    /// <summary>What the account still holds open, from the administrators' diagnostics endpoint.</summary>
    private static async Task<(int Consoles, int Sessions)> HeldAsync(IBrowserContext admin, int userId)
    {
        var response = await admin.APIRequest.GetAsync($"/api/diagnostics/users/{userId}/sessions");
        Assert.Equal(200, response.Status);
        using var json = JsonDocument.Parse(await response.TextAsync());
        return (json.RootElement.GetProperty("consoles").GetInt32(), json.RootElement.GetProperty("sessions").GetInt32());
    }
}
