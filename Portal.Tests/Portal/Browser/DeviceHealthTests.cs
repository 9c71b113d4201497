using System.Globalization;
using Dapper;
using Microsoft.Playwright;
using Portal.Core.Devices;
using Portal.Core.Security;
using Xunit;

namespace Portal.Tests.Portal.Browser;

/// <summary>
/// Device health end to end (issue 12) in Debian's Chromium: an administrator takes a demo school's camera down on the
/// simulated fleet; within three check cycles the principal sees it offline on the device list and in the notification
/// centre, the district bureau's dashboard counts it, and neither another school's principal nor another district's
/// police see it; brought back up, the principal sees it online and is told so. The test starts its own portal (40 demo
/// schools) checking every 5 s with no notice delay, so that three missed intervals take seconds, not minutes; the
/// shared portal keeps the production schedule.
/// </summary>
[Trait("Category", "Browser")]
public sealed class DeviceHealthTests(PortalFixture fixture)
{
    private const int IntervalSeconds = 5;

    [Fact(Timeout = 600_000)]
    public async Task CameraTakenDown_PrincipalSeesItOfflineAndBack_BureauCountsIt_OthersDoNot()
    {
        await using var portal = await PortalProcess.StartAsync(new PortalProcessOptions
        {
            DemoSchoolCount = 40,
            Arguments =
            [
                "--Portal:Health:CheckIntervalSeconds=" + IntervalSeconds.ToString(CultureInfo.InvariantCulture),
                "--Portal:Health:ProbeTimeoutSeconds=2",
                "--Portal:Health:ProbeSpreadSeconds=0",
                "--Portal:Health:NotifyAfterSeconds=0",
            ],
        });
        var target = await PickCameraAsync(portal);
        var (_, principal) = await TestUsers.CreateAsync(portal, Roles.Principal, schoolCode: target.SchoolCode);
        var (_, otherPrincipal) = await TestUsers.CreateAsync(portal, Roles.Principal, schoolCode: target.OtherSchoolCode);
        var (_, bureau) = await TestUsers.CreateAsync(portal, Roles.Bureau, districtCode: target.DistrictCode);
        var (_, police) = await TestUsers.CreateAsync(portal, Roles.DistrictOperator, districtCode: target.OtherDistrictCode);

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await Chromium.LaunchAsync(playwright);

        // The checks have run (the per-minute job's first run comes at the next whole minute) and found the camera up.
        await WaitForAsync(portal, "SELECT COUNT(*) FROM HealthCheckRun", n => n > 0, "a first health check cycle");
        await WaitForAsync(portal, $"SELECT HealthState FROM Device WHERE Id = {target.CameraId}", s => s == (long)DeviceHealthState.Online, "the camera online");

        var principalPage = await SignInAsync(browser, portal, principal);
        await principalPage.GotoAsync("/principal/devices");
        await PortalFixture.WaitInteractiveAsync(principalPage);
        var cameraRow = principalPage.Locator($"[data-testid=device-health-row][data-kind={nameof(DeviceKind.GateCamera)}]");
        await Assertions.Expect(cameraRow).ToHaveAttributeAsync("data-state", nameof(DeviceHealthState.Online));
        var unreadBefore = int.Parse(await principalPage.GetByTestId("notification-count").InnerTextAsync(), CultureInfo.InvariantCulture);

        // An administrator takes the camera down: the fleet closes its connections unanswered from now on.
        var admin = await SignInAsync(browser, portal, "admin");
        var down = await admin.APIRequest.PostAsync($"/api/diagnostics/demo-cameras/{target.Serial}/Down");
        Assert.Equal(204, down.Status);
        var downAt = TimeProvider.System.GetUtcNow().UtcDateTime;

        // The principal's list shows it offline, without a reload (the page follows the checks), and the bell counts the notice.
        await Assertions.Expect(cameraRow).ToHaveAttributeAsync("data-state", nameof(DeviceHealthState.Offline), new() { Timeout = 120_000 });
        await Assertions.Expect(principalPage.GetByTestId("notification-count")).Not.ToHaveTextAsync(unreadBefore.ToString(CultureInfo.InvariantCulture));

        // Within the check interval: offline at the third cycle that found the camera down (the first may have begun just
        // before the take-down), whatever the machine's load did to the cycles' timing.
        var (runs, offlineAt) = await CyclesUntilOfflineAsync(portal, target.CameraId, downAt);
        Assert.InRange(runs, 2, 3);
        Assert.True(offlineAt > downAt.AddSeconds(-IntervalSeconds), $"offline at {offlineAt:O}, taken down at {downAt:O}");

        await principalPage.GotoAsync("/notifications");
        await PortalFixture.WaitInteractiveAsync(principalPage);
        var offlineNotice = principalPage.GetByTestId("notification-text").Filter(new() { HasText = target.Serial });
        await Assertions.Expect(offlineNotice).ToHaveCountAsync(1);
        await Assertions.Expect(principalPage.Locator("[data-testid=notification-kind][data-kind=DeviceOffline]")).ToHaveCountAsync(1);

        // The district bureau's dashboard lists it and counts it with its district's other offline devices, if any.
        var bureauPage = await SignInAsync(browser, portal, bureau);
        await bureauPage.GotoAsync("/bureau/health");
        await PortalFixture.WaitInteractiveAsync(bureauPage);
        await Assertions.Expect(bureauPage.GetByTestId("offline-serial").Filter(new() { HasText = target.Serial })).ToHaveCountAsync(1);
        var districtOffline = await CountAsync(portal,
            $"SELECT COUNT(*) FROM Device d JOIN School s ON s.Id = d.SchoolId WHERE s.DistrictId = {target.DistrictId} AND d.HealthState = {(int)DeviceHealthState.Offline}");
        Assert.True(districtOffline >= 1);
        await Assertions.Expect(bureauPage.Locator($"tr:has([data-testid=health-district][data-district='{target.DistrictId}']) [data-testid=district-offline]"))
            .ToHaveTextAsync(districtOffline.ToString(CultureInfo.InvariantCulture));
        await Assertions.Expect(bureauPage.GetByTestId("health-district")).ToHaveCountAsync(1); // its own district only
        await bureauPage.GotoAsync("/notifications");
        await Assertions.Expect(bureauPage.GetByTestId("notification-text").Filter(new() { HasText = target.Serial })).ToHaveCountAsync(1);

        // Another school's principal (same district) and another district's police: not on their lists, not in their APIs.
        foreach (var (user, ownPage) in new[] { (otherPrincipal, "/principal/devices"), (police, "/police") })
        {
            var page = await SignInAsync(browser, portal, user);
            await page.GotoAsync("/notifications");
            await PortalFixture.WaitInteractiveAsync(page);
            await Assertions.Expect(page.Locator("[data-testid=notification-text], [data-testid=no-notifications]").First).ToBeVisibleAsync();
            await Assertions.Expect(page.GetByTestId("notification-text").Filter(new() { HasText = target.Serial })).ToHaveCountAsync(0);
            var offline = await page.APIRequest.GetAsync("/api/health/devices?state=Offline");
            Assert.True(offline.Ok, $"{user}: {offline.Status}");
            Assert.DoesNotContain(target.Serial, await offline.TextAsync(), StringComparison.Ordinal);
            Assert.Equal(404, (await page.APIRequest.GetAsync($"/api/health/schools/{target.SchoolId}")).Status);
            await page.GotoAsync(ownPage);
            await PortalFixture.WaitInteractiveAsync(page);
            Assert.DoesNotContain(target.Serial, await page.Locator("[data-testid=main]").InnerTextAsync(), StringComparison.Ordinal);
        }

        // Back up: online again on the principal's list, and a "back online" notice.
        var up = await admin.APIRequest.PostAsync($"/api/diagnostics/demo-cameras/{target.Serial}/Up");
        Assert.Equal(204, up.Status);
        await principalPage.GotoAsync("/principal/devices");
        await PortalFixture.WaitInteractiveAsync(principalPage);
        await Assertions.Expect(cameraRow).ToHaveAttributeAsync("data-state", nameof(DeviceHealthState.Online), new() { Timeout = 120_000 });
        await principalPage.GotoAsync("/notifications");
        await PortalFixture.WaitInteractiveAsync(principalPage);
        await Assertions.Expect(principalPage.Locator("[data-testid=notification-kind][data-kind=DeviceBackOnline]")).ToHaveCountAsync(1, new() { Timeout = 60_000 });
        await Assertions.Expect(principalPage.GetByTestId("notification-text").Filter(new() { HasText = target.Serial })).ToHaveCountAsync(2);

        // The bureau's offline list is empty again.
        await bureauPage.GotoAsync("/bureau/health");
        await PortalFixture.WaitInteractiveAsync(bureauPage);
        await Assertions.Expect(bureauPage.GetByTestId("offline-serial")).ToHaveCountAsync(0);
    }

    private sealed record Target(int CameraId, string Serial, int SchoolId, string SchoolCode, int DistrictId, string DistrictCode, string OtherSchoolCode, string OtherDistrictCode);

    /// <summary>A connected camera (served by the fleet), another school of its district, and another district.</summary>
    private static async Task<Target> PickCameraAsync(PortalProcess portal)
    {
        await using var connection = portal.Db.Open();
        var rows = (await connection.QueryAsync<(int CameraId, string Serial, int SchoolId, string SchoolCode, int DistrictId, string DistrictCode)>(
            """
            SELECT d.Id, d.SerialNumber, s.Id, s.Code, s.DistrictId, t.Code FROM Device d JOIN School s ON s.Id = d.SchoolId JOIN District t ON t.Id = s.DistrictId
            WHERE d.Kind = @Camera AND d.Enabled = 1 AND d.InstallState >= @Connected ORDER BY s.Code
            """, new { Camera = (int)DeviceKind.GateCamera, Connected = (int)DeviceInstallState.Connected })).ToList();
        foreach (var r in rows)
        {
            var other = await connection.QueryFirstOrDefaultAsync<string>(
                "SELECT Code FROM School WHERE DistrictId = @DistrictId AND Id <> @SchoolId ORDER BY Code", new { r.DistrictId, r.SchoolId });
            var otherDistrict = await connection.QueryFirstOrDefaultAsync<string>(
                "SELECT t.Code FROM District t WHERE t.Id <> @DistrictId AND EXISTS (SELECT 1 FROM School s WHERE s.DistrictId = t.Id) ORDER BY t.Code", new { r.DistrictId });
            if (other is not null && otherDistrict is not null)
            {
                return new Target(r.CameraId, r.Serial, r.SchoolId, r.SchoolCode, r.DistrictId, r.DistrictCode, other, otherDistrict);
            }
        }

        throw new InvalidOperationException("The demo city has no connected camera with a neighbour school.");
    }

    /// <summary>Check cycles that began after the take-down up to the camera's offline transition, and that transition's time.</summary>
    private static async Task<(int Runs, DateTime OfflineAt)> CyclesUntilOfflineAsync(PortalProcess portal, int cameraId, DateTime downAt)
    {
        await using var connection = portal.Db.Open();
        var offlineAt = (await connection.QueryAsync<DateTime>("SELECT AtUtc FROM DeviceHealthEvent WHERE DeviceId = @cameraId AND ToState = @Offline",
            new { cameraId, Offline = (int)DeviceHealthState.Offline })).Single();
        var starts = await connection.QueryAsync<DateTime>("SELECT StartedUtc FROM HealthCheckRun");
        return (starts.Count(s => s >= downAt && s <= offlineAt), offlineAt);
    }

    private async Task<IPage> SignInAsync(IBrowser browser, PortalProcess portal, string userName)
    {
        var context = await browser.NewPatientContextAsync(new BrowserNewContextOptions { BaseURL = portal.BaseUrl, Locale = "zh-CN" });
        var page = await context.NewPageAsync();
        await page.GotoAsync("/");
        await fixture.CompleteSignInAsync(page, userName);
        return page;
    }

    private static async Task<long> CountAsync(PortalProcess portal, string sql)
    {
        await using var connection = portal.Db.Open();
        return await connection.ExecuteScalarAsync<long>(sql);
    }

    /// <summary>Waits for a condition on the portal's database (a hang guard of 3 minutes, not a speed claim).</summary>
    private static async Task WaitForAsync(PortalProcess portal, string sql, Func<long, bool> condition, string what)
    {
        var deadline = TimeProvider.System.GetUtcNow().UtcDateTime.AddMinutes(3);
        while (true)
        {
            if (condition(await CountAsync(portal, sql)))
            {
                return;
            }

            if (TimeProvider.System.GetUtcNow().UtcDateTime > deadline)
            {
                throw new TimeoutException($"No {what} within 3 minutes:\n{portal.Log[^Math.Min(4000, portal.Log.Length)..]}");
            }

            await Task.Delay(500);
        }
    }
}
