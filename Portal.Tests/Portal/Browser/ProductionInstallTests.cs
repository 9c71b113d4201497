using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using Dapper;
using Microsoft.Playwright;
using Portal.Simulator.Terminals;
using Portal.SignIn;
using Xunit;

namespace Portal.Tests.Portal.Browser;

/// <summary>
/// Issue 13's "done when": a portal started without demo mode is brought to a working city through its pages alone,
/// as a new operator would: the setup link from the log, the first administrator with TOTP, a district with its 110
/// centre and an operator, the registry import, the terminal's key, and a signed press from that terminal ringing on
/// the new operator's console. Its own portal process (a production install has no demo city) and its own Chromium.
/// </summary>
[Trait("Category", "Browser")]
public sealed partial class ProductionInstallTests
{
    private const string Header = "学校标识码,学校名称,学校类型,所属区市,地址,经度,纬度,校长,联系电话,报警终端型号,报警终端序列号,报警终端SIP账号,球机型号,球机序列号,球机RTSP地址,球机ONVIF地址";
    private const string AdminPassword = "Setup-Admin@2026-first";
    private const string OperatorPassword = "Operator-Init@2026-one";
    private const string OperatorNewPassword = "Operator-Mine@2026-own";
    private const string TerminalSerial = "PRODT0000001";
    private const string OrphanSerial = "PRODT0000002";
    private const string SchoolName = "青岛市测试新区第一小学";

    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _browserLog = new();
    private PortalProcess? _own;

    [GeneratedRegex(@"https?://\S+/setup\?token=[A-Za-z0-9_\-]+")]
    private static partial Regex SetupLink();

    [Fact]
    public async Task FreshInstall_SetupToFirstAlarm_ThroughThePagesAlone()
    {
        await using var own = await PortalProcess.StartAsync(new PortalProcessOptions { DemoMode = false });
        _own = own;
        var link = (await own.WaitForLogAsync(SetupLink(), TimeSpan.FromSeconds(30))).Value;
        await using (var connection = own.Db.Open())
        {
            Assert.Equal(0, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM District"));
            Assert.Equal(0, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM AspNetUsers"));
        }

        using var playwright = await Microsoft.Playwright.Playwright.CreateAsync();
        await using var browser = await Chromium.LaunchAsync(playwright);
        var options = new BrowserNewContextOptions { BaseURL = own.BaseUrl, Locale = "zh-CN" };

        // 1. The setup link: the first administrator, enrolled with an authenticator in the same flow.
        await using var adminContext = await browser.NewPatientContextAsync(options);
        await adminContext.AddInitScriptAsync(LayoutShiftRecorder);
        var admin = await adminContext.NewPageAsync();
        admin.Console += (_, m) => _browserLog.Enqueue($"{m.Type}: {m.Text}");
        admin.PageError += (_, e) => _browserLog.Enqueue("page error: " + e);
        await admin.GotoAsync(new Uri(link).PathAndQuery);
        var setup = admin.GetByTestId("setup");
        await Assertions.Expect(setup).ToHaveAttributeAsync("data-interactive", "true", new() { Timeout = 20_000 });
        await Assertions.Expect(setup).ToHaveAttributeAsync("data-step", "Account");
        await admin.Locator("#setup-username").FillAsync("cityadmin");
        await admin.Locator("#setup-displayname").FillAsync("市局管理员");
        await admin.Locator("#setup-password").FillAsync(AdminPassword);
        await admin.Locator("#setup-password2").FillAsync(AdminPassword);
        await admin.Locator("#setup-next").ClickAsync();
        await Assertions.Expect(setup).ToHaveAttributeAsync("data-step", "Enrol");
        var adminKey = await KeyOnPageAsync(admin);
        await admin.Locator("#code").FillAsync(Totp.Compute(adminKey, TimeProvider.System.GetUtcNow()));
        await admin.Locator("#setup-finish").ClickAsync();
        await Assertions.Expect(admin.GetByTestId("setup-done")).ToBeVisibleAsync();
        await Assertions.Expect(admin.GetByTestId("recovery-codes")).Not.ToBeEmptyAsync();

        // The link is spent: opening it again creates nothing.
        await using (var again = await browser.NewPatientContextAsync(options))
        {
            var page = await again.NewPageAsync();
            await page.GotoAsync(new Uri(link).PathAndQuery);
            await Assertions.Expect(page.GetByTestId("setup-invalid")).ToBeVisibleAsync(new() { Timeout = 20_000 });
        }

        await admin.Locator("#setup-signin").ClickAsync();
        await SignInAsync(admin, "cityadmin", AdminPassword, adminKey);
        await Assertions.Expect(admin).ToHaveURLAsync(new Regex("/admin/districts"));

        // 2. A district and its 110 centre (and a second district, for an outside system that must not see the first).
        await CreateDistrictAsync(admin, "370299", "测试新区", "Test New District");
        await CreateDistrictAsync(admin, "370298", "测试旧区", "Test Old District");
        var row = admin.Locator("tr", new() { Has = admin.GetByTestId("district-code").GetByText("370299", new() { Exact = true }) });
        await Assertions.Expect(row.GetByTestId("no-centre")).ToBeVisibleAsync();
        await OpenDialogAsync(admin, row.GetByTestId("edit-centre"), "centre-name-input");
        await admin.GetByTestId("centre-name-input").FillAsync("测试新区分局110指挥中心");
        await admin.GetByTestId("centre-save").ClickAsync();
        await Assertions.Expect(row.GetByTestId("district-centre")).ToContainTextAsync("测试新区分局110指挥中心");

        // 3. Its operator: the initial password must be changed, and police sign in with two factors.
        await admin.GotoAsync("/admin/users");
        await PortalFixture.WaitInteractiveAsync(admin);
        await OpenDialogAsync(admin, admin.GetByTestId("new-user"), "user-name-input");
        await admin.GetByTestId("user-name-input").FillAsync("xinqu110");
        await admin.GetByTestId("user-display-input").FillAsync("测试新区值班员");
        await ChooseAsync(admin, "user-role-input", "分局110指挥中心");
        await ChooseAsync(admin, "user-district-input", "370299 测试新区");
        await admin.GetByTestId("user-password-input").FillAsync(OperatorPassword);
        await admin.GetByTestId("user-save").ClickAsync();
        await Assertions.Expect(admin.Locator("tr", new() { HasText = "xinqu110" }).GetByTestId("user-must-change")).ToBeVisibleAsync();

        // 4. The registry: the school with its terminal and camera, in the new district (and one in the district without a centre).
        await admin.GotoAsync("/admin/import");
        await PortalFixture.WaitInteractiveAsync(admin);
        var file = Encoding.UTF8.GetBytes(Header + "\n3379990201," + SchoolName + ",小学,测试新区,测试新区某路1号,120.3,36.1,校长甲,0532-1,AT-200,"
            + TerminalSerial + ",prod-0001,PTZ-4K,PRODC0000001,rtsp://prod-1.school.local/1,http://prod-1.school.local/onvif\n"
            + "3379990202,青岛市测试旧区第一小学,小学,测试旧区,测试旧区某路2号,120.3,36.1,校长乙,0532-2,AT-200,"
            + OrphanSerial + ",prod-0002,PTZ-4K,PRODC0000002,rtsp://prod-2.school.local/1,http://prod-2.school.local/onvif\n");
        await admin.Locator("input[type=file]").First.SetInputFilesAsync(new FilePayload { Name = "register.csv", MimeType = "text/csv", Buffer = file });
        await Assertions.Expect(admin.GetByTestId("import-result")).ToHaveAttributeAsync("data-succeeded", "true");
        await admin.GetByTestId("import-apply").ClickAsync();
        await Assertions.Expect(admin.GetByTestId("import-result")).ToContainTextAsync("导入完成");

        // 5. The terminals' keys, shown once.
        await admin.GotoAsync("/admin/devices");
        await PortalFixture.WaitInteractiveAsync(admin);
        var apiKey = await IssueKeyAsync(admin, TerminalSerial);
        var orphanKey = await IssueKeyAsync(admin, OrphanSerial);
        await using (var connection = own.Db.Open())
        {
            var stored = await connection.QuerySingleAsync<string?>("SELECT ApiKeyProtected FROM Device WHERE SerialNumber = @TerminalSerial", new { TerminalSerial });
            Assert.False(string.IsNullOrEmpty(stored));
            Assert.DoesNotContain(apiKey, stored, StringComparison.Ordinal);
        }

        Assert.DoesNotContain(apiKey, own.Log, StringComparison.Ordinal);

        // 6. The operator's first sign-in (new password, authenticator), then the console.
        await using var operatorContext = await browser.NewPatientContextAsync(options);
        var console = await operatorContext.NewPageAsync();
        await console.GotoAsync("/police");
        await SignInAsync(console, "xinqu110", OperatorPassword, totpKey: null, newPassword: OperatorNewPassword);
        await Assertions.Expect(console.GetByTestId("alarm-board")).ToBeVisibleAsync();

        // 7. A press signed with that key rings on that console.
        using var http = new HttpClient { BaseAddress = new Uri(own.BaseUrl) };
        var press = await new SignedAlarmClient(http, TerminalSerial, apiKey).PressAsync();
        Assert.Equal(HttpStatusCode.Created, press.Status);
        await Assertions.Expect(console.Locator("[data-testid=alarm-card]").Filter(new() { HasText = SchoolName })).ToBeVisibleAsync(new() { Timeout = 15_000 });

        // A key it does not have is refused.
        Assert.Equal(HttpStatusCode.Unauthorized, (await new SignedAlarmClient(http, TerminalSerial, apiKey + "x").PressAsync()).Status);
        var alarmId = DemoPress.AlarmId(press);

        // A terminal whose district has no centre, in a city without a city centre: a clear answer, and an alert on the
        // administrators' districts page until one of them deals with it (audited).
        var orphan = await new SignedAlarmClient(http, OrphanSerial, orphanKey).PressAsync();
        Assert.Equal(HttpStatusCode.ServiceUnavailable, orphan.Status);
        Assert.Contains("NoCentre", orphan.Body, StringComparison.Ordinal);
        await admin.GotoAsync("/admin/districts");
        await PortalFixture.WaitInteractiveAsync(admin);
        var alert = admin.Locator("[data-testid=admin-alert][data-kind=NoCentre]");
        await Assertions.Expect(alert).ToContainTextAsync("测试旧区第一小学");
        await alert.GetByTestId("admin-alert-close").ClickAsync();
        await Assertions.Expect(alert).ToHaveCountAsync(0);
        await using (var connection = own.Db.Open())
        {
            Assert.Equal("cityadmin", await connection.QuerySingleAsync<string>("SELECT UserName FROM AuditLog WHERE Action = 'Alert.Closed'"));
        }

        // 8. Outside systems (client credentials): one for the new district's alarms, one for the other district's.
        var (newId, newSecret) = await RegisterClientAsync(admin, "测试新区接警系统", "370299 测试新区");
        var (oldId, oldSecret) = await RegisterClientAsync(admin, "测试旧区接警系统", "370298 测试旧区");
        Assert.DoesNotContain(newSecret, own.Log, StringComparison.Ordinal);

        var token = await ClientTokenAsync(http, newId, newSecret, "alarms.read");
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(http, token, "/api/alarms/" + alarmId)).Status);
        var list = await GetAsync(http, token, "/api/alarms");
        Assert.Equal(HttpStatusCode.OK, list.Status);
        Assert.Contains(alarmId, AlarmIds(list.Body));
        Assert.Equal(HttpStatusCode.Forbidden, (await GetAsync(http, token, "/api/schools")).Status); // registry.read was not granted

        var other = await ClientTokenAsync(http, oldId, oldSecret, "alarms.read");
        Assert.Equal(HttpStatusCode.NotFound, (await GetAsync(http, other, "/api/alarms/" + alarmId)).Status);
        var otherList = await GetAsync(http, other, "/api/alarms");
        Assert.Equal(HttpStatusCode.OK, otherList.Status);
        Assert.Empty(AlarmIds(otherList.Body));

        // A scope the client was not registered for, or a wrong secret: no token at all.
        Assert.Equal(HttpStatusCode.BadRequest, (await TokenResponseAsync(http, newId, newSecret, "registry.read")).StatusCode);
        Assert.NotEqual(HttpStatusCode.OK, (await TokenResponseAsync(http, newId, newSecret + "x", "alarms.read")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await GetAsync(http, null, "/api/alarms")).Status);

        // 9. /connect/userinfo: a person's token (code + PKCE as the portal's own public client, in the administrator's
        // signed-in browser) names the person; an outside system's token names nobody.
        var verifier = Base64Url(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        var challenge = Base64Url(System.Security.Cryptography.SHA256.HashData(Encoding.ASCII.GetBytes(verifier)));
        var redirect = own.BaseUrl + "/signin-oidc";
        var authorize = await adminContext.APIRequest.GetAsync("/connect/authorize?client_id=portal-web&response_type=code&scope=openid%20profile%20roles"
            + "&redirect_uri=" + Uri.EscapeDataString(redirect) + "&code_challenge=" + challenge + "&code_challenge_method=S256&state=userinfo-test",
            new() { MaxRedirects = 0 });
        Assert.Equal(302, authorize.Status);
        var code = System.Web.HttpUtility.ParseQueryString(new Uri(authorize.Headers["location"]).Query)["code"];
        Assert.False(string.IsNullOrEmpty(code), authorize.Headers["location"]);
        using var exchange = new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code",
            ["client_id"] = "portal-web",
            ["code"] = code,
            ["redirect_uri"] = redirect,
            ["code_verifier"] = verifier,
        });
        using var tokens = await http.PostAsync(new Uri("/connect/token", UriKind.Relative), exchange);
        var tokenBody = await tokens.Content.ReadAsStringAsync();
        Assert.True(tokens.IsSuccessStatusCode, tokenBody);
        var personToken = System.Text.Json.JsonDocument.Parse(tokenBody).RootElement.GetProperty("access_token").GetString();
        var userinfo = await GetAsync(http, personToken, "/connect/userinfo");
        Assert.Equal(HttpStatusCode.OK, userinfo.Status);
        Assert.Contains("\"cityadmin\"", userinfo.Body, StringComparison.Ordinal);
        Assert.Contains("\"Admin\"", userinfo.Body, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Unauthorized, (await GetAsync(http, token, "/connect/userinfo")).Status);
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>
    /// Clicks what opens a dialog and waits for the dialog's first field. Twice in 23 fresh-clone runs (issue 13) such a
    /// click, made on a page that was already interactive, opened nothing and the test waited out its 60 s; the cause is
    /// not known. A miss is now reported with what could explain it (the button's place before and after, layout shifts
    /// the page recorded, the browser's console, Blazor's error banner, the portal's log since the page opened) and the
    /// click is made once more, as a person would; a second miss fails the test.
    /// </summary>
    private async Task OpenDialogAsync(IPage page, ILocator button, string fieldTestId)
    {
        var logFrom = _own!.Log.Length;
        var before = await button.BoundingBoxAsync();
        await button.ClickAsync();
        var field = page.GetByTestId(fieldTestId).First;
        try
        {
            await Assertions.Expect(field).ToBeVisibleAsync(new() { Timeout = 15_000 });
            return;
        }
        catch (PlaywrightException)
        {
        }

        var after = await button.BoundingBoxAsync();
        var shifts = await page.EvaluateAsync<string>("() => JSON.stringify(window.__portalShifts || [])");
        var errorBanner = await page.Locator("#blazor-error-ui").IsVisibleAsync();
        var log = _own.Log;
        var late = await field.IsVisibleAsync();
        Console.Error.WriteLine(
            $"[dialog] a click at {page.Url} opened no {fieldTestId} within 15 s ({(late ? "it showed just after" : "clicking again")}). Button before {Box(before)}, after {Box(after)}; "
            + $"Blazor's error banner shown: {errorBanner}; layout shifts: {shifts}\nbrowser console:\n{string.Join('\n', _browserLog)}\n"
            + $"portal log since the click:\n{log[Math.Min(logFrom, log.Length)..]}");
        if (!late)
        {
            await button.ClickAsync();
        }

        await Assertions.Expect(field).ToBeVisibleAsync();
    }

    private static string Box(LocatorBoundingBoxResult? box) => box is null ? "(none)" : $"({box.X:0.#},{box.Y:0.#} {box.Width:0.#}x{box.Height:0.#})";

    /// <summary>The page's layout shifts (beyond the progress bars' tiny ones) with what moved; read back only when a click misses.</summary>
    private const string LayoutShiftRecorder = """
        window.__portalShifts = [];
        new PerformanceObserver(list => list.getEntries().filter(e => e.value >= 0.001).forEach(e => window.__portalShifts.push({
            at: Math.round(e.startTime), value: e.value, input: e.hadRecentInput,
            moved: (e.sources || []).map(s => s.node && s.node.nodeType === 1 ? (s.node.getAttribute('data-testid') || s.node.className || s.node.tagName) : '#text')
        }))).observe({ type: 'layout-shift', buffered: true });
        """;

    /// <summary>Picks <paramref name="text"/> in a MudSelect (its test id is on a hidden input: the click goes to the field around it).</summary>
    private static async Task ChooseAsync(IPage page, string testId, string text)
    {
        await page.GetByTestId(testId).Locator("xpath=..").ClickAsync();
        await page.Locator(".mud-popover-open").GetByText(text, new() { Exact = true }).ClickAsync();
        await Assertions.Expect(page.Locator(".mud-popover-open").GetByText(text, new() { Exact = true })).ToHaveCountAsync(0);
    }

    private async Task<string> IssueKeyAsync(IPage admin, string serial)
    {
        await OpenDialogAsync(admin, admin.Locator("tr", new() { HasText = serial }).GetByTestId("device-credentials"), "api-key-issue");
        await admin.GetByTestId("api-key-issue").ClickAsync();
        var key = (await admin.GetByTestId("secret-once").InnerTextAsync()).Trim();
        Assert.False(string.IsNullOrEmpty(key));
        await admin.GetByTestId("secret-once-close").ClickAsync();
        await admin.GetByTestId("credentials-close").ClickAsync();
        await Assertions.Expect(admin.GetByTestId("credentials-close")).ToHaveCountAsync(0);
        return key;
    }

    private async Task CreateDistrictAsync(IPage admin, string code, string name, string nameEn)
    {
        await OpenDialogAsync(admin, admin.GetByTestId("new-district"), "district-code-input");
        await admin.GetByTestId("district-code-input").FillAsync(code);
        await admin.GetByTestId("district-name-input").FillAsync(name);
        await admin.GetByTestId("district-name-en-input").FillAsync(nameEn);
        await admin.GetByTestId("district-save").ClickAsync();
        await Assertions.Expect(admin.GetByTestId("district-code").GetByText(code, new() { Exact = true })).ToBeVisibleAsync();
    }

    /// <summary>Registers a district operator's outside system for alarms.read at /admin/clients; the id and the secret shown once.</summary>
    private async Task<(string Id, string Secret)> RegisterClientAsync(IPage admin, string name, string district)
    {
        await admin.GotoAsync("/admin/clients");
        await PortalFixture.WaitInteractiveAsync(admin);
        await OpenDialogAsync(admin, admin.GetByTestId("new-client"), "client-name-input");
        await admin.GetByTestId("client-name-input").FillAsync(name);
        await ChooseAsync(admin, "client-role-input", "分局110指挥中心");
        await ChooseAsync(admin, "client-district-input", district);
        // alarms.read is ticked for a new client, registry.read is not: left as they are.
        await admin.GetByTestId("client-save").ClickAsync();
        var shown = admin.GetByTestId("secret-once");
        await Assertions.Expect(shown).ToHaveCountAsync(2);
        var (id, secret) = ((await shown.Nth(0).InnerTextAsync()).Trim(), (await shown.Nth(1).InnerTextAsync()).Trim());
        await admin.GetByTestId("secret-once-close").ClickAsync();
        await Assertions.Expect(admin.GetByTestId("client-id").GetByText(id, new() { Exact = true })).ToBeVisibleAsync();
        return (id, secret);
    }

    private static async Task<HttpResponseMessage> TokenResponseAsync(HttpClient http, string clientId, string secret, string scope)
    {
        using var form = new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials",
            ["client_id"] = clientId,
            ["client_secret"] = secret,
            ["scope"] = scope,
        });
        return await http.PostAsync(new Uri("/connect/token", UriKind.Relative), form);
    }

    private static async Task<string> ClientTokenAsync(HttpClient http, string clientId, string secret, string scope)
    {
        using var response = await TokenResponseAsync(http, clientId, secret, scope);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, body);
        return System.Text.Json.JsonDocument.Parse(body).RootElement.GetProperty("access_token").GetString()!;
    }

    private static List<int> AlarmIds(string page) =>
        [.. System.Text.Json.JsonDocument.Parse(page).RootElement.GetProperty("items").EnumerateArray().Select(a => a.GetProperty("id").GetInt32())];

    private static async Task<(HttpStatusCode Status, string Body)> GetAsync(HttpClient http, string? token, string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(path, UriKind.Relative));
        if (token is not null)
        {
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        }

        using var response = await http.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private static async Task<string> KeyOnPageAsync(IPage page) =>
        (await page.GetByTestId("authenticator-key").InnerTextAsync()).Replace(" ", string.Empty, StringComparison.Ordinal).ToUpperInvariant();

    /// <summary>
    /// The sign-in server's pages as a person goes through them: password, a new password if one is due, the
    /// authenticator code (or its enrolment when none is set up yet), until the page behind them is live.
    /// </summary>
    private static async Task SignInAsync(IPage page, string userName, string password, string? totpKey, string? newPassword = null)
    {
        await page.Locator("#username").FillAsync(userName);
        await page.Locator("#password").FillAsync(password);
        await page.Locator("#login-submit").ClickAsync();
        await page.WaitForURLAsync(url => IsPastSignIn(url) || url.Contains("/account/login-2fa", StringComparison.Ordinal)
            || url.Contains(SignInPolicy.EnrolPath, StringComparison.Ordinal) || url.Contains(SignInPolicy.ChangePasswordPath, StringComparison.Ordinal));
        if (page.Url.Contains(SignInPolicy.ChangePasswordPath, StringComparison.Ordinal))
        {
            Assert.NotNull(newPassword);
            await page.Locator("#current-password").FillAsync(password);
            await page.Locator("#new-password").FillAsync(newPassword);
            await page.Locator("#confirm-password").FillAsync(newPassword);
            await page.Locator("#change-password").ClickAsync();
            await page.WaitForURLAsync(url => IsPastSignIn(url) || url.Contains(SignInPolicy.EnrolPath, StringComparison.Ordinal));
        }

        if (page.Url.Contains("/account/login-2fa", StringComparison.Ordinal))
        {
            Assert.NotNull(totpKey);
            await page.Locator("#code").FillAsync(Totp.Compute(totpKey, TimeProvider.System.GetUtcNow()));
            await page.Locator("#code-submit").ClickAsync();
        }
        else if (page.Url.Contains(SignInPolicy.EnrolPath, StringComparison.Ordinal))
        {
            var key = await KeyOnPageAsync(page);
            await page.Locator("#code").FillAsync(Totp.Compute(key, TimeProvider.System.GetUtcNow()));
            await page.Locator("#enable-2fa").ClickAsync();
            await page.Locator("#enrol-continue").ClickAsync();
        }

        await page.WaitForURLAsync(IsPastSignIn);
        await PortalFixture.WaitInteractiveAsync(page);
    }

    private static bool IsPastSignIn(string url) =>
        !url.Contains("/account/", StringComparison.Ordinal) && !url.Contains("/connect/", StringComparison.Ordinal) && !url.Contains("/signin-oidc", StringComparison.Ordinal);
}
