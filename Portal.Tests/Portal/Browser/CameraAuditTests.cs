using Dapper;
using Microsoft.Playwright;
using Portal.Core.Audit;
using Portal.Core.Security;
using Xunit;

namespace Portal.Tests.Portal.Browser;

/// <summary>
/// Issue #14: camera actions outside an alarm were not audited (and stopping PTZ never was). From a school page: the
/// video view, a PTZ move and its stop, and the warning light each leave a row with who, which school, when and the
/// client's address as a proxy forwarded it; administrators find them on /admin/audit. Owns school 3370000094
/// (Licang) and its own operator.
/// </summary>
[Trait("Category", "Browser")]
public sealed class CameraAuditTests(PortalFixture portal)
{
    [Fact(Timeout = 300_000)]
    public async Task SchoolPage_VideoPtzAndLight_AreAuditedWithTheClientsAddress()
    {
        var running = await portal.GetPortalAsync();
        var (userId, userName) = await TestUsers.CreateAsync(running, Roles.DistrictOperator, districtCode: "370213");
        int schoolId;
        await using (var connection = running.Db.Open())
        {
            schoolId = await connection.QuerySingleAsync<int>("SELECT Id FROM School WHERE Code = '3370000094'");
        }

        var address = PortalFixture.NewClientAddress();
        await using var context = await portal.NewContextAsync(address);
        var page = await context.NewPageAsync();
        await page.GotoAsync($"/schools/{schoolId}");
        await portal.CompleteSignInAsync(page, userName);
        var camera = page.GetByTestId("gate-camera");
        await page.WaitForFunctionAsync(
            "async () => { const v = document.querySelector('[data-testid=camera-video]'); if (!v || !v.portalPc) return false; let n = 0; (await v.portalPc.getStats()).forEach(r => { if (r.type === 'inbound-rtp' && r.kind === 'video') n = r.framesDecoded || 0; }); return n > 5; }",
            null, new() { Timeout = 60_000, PollingInterval = 200 });
        await Assertions.Expect(camera.GetByTestId("camera-controls")).ToBeVisibleAsync();

        await camera.GetByTestId("ptz-left").HoverAsync();
        await page.Mouse.DownAsync();
        await WaitForActionAsync(running, userId, CameraAction.PtzMove);
        await page.Mouse.UpAsync();
        await WaitForActionAsync(running, userId, CameraAction.PtzStop);
        await camera.GetByTestId("warning-light").ClickAsync();
        await camera.GetByTestId("warning-light-yes").ClickAsync();
        await Assertions.Expect(camera.GetByTestId("warning-light")).ToHaveAttributeAsync("data-on", "true");
        await WaitForActionAsync(running, userId, CameraAction.WarningLightOn);

        await using (var connection = running.Db.Open())
        {
            var rows = (await connection.QueryAsync<(long Action, long Origin, long SchoolId, string UserName, string? RemoteAddress, string? Detail, long? AlarmId)>(
                "SELECT Action, Origin, SchoolId, UserName, RemoteAddress, Detail, AlarmId FROM CameraAudit WHERE UserId = @userId ORDER BY Id", new { userId })).ToList();
            Assert.Contains(rows, r => r.Action == (long)CameraAction.View);
            Assert.Contains(rows, r => r.Action == (long)CameraAction.PtzMove && r.Detail == "left");
            Assert.All(rows, r =>
            {
                Assert.Equal((long)CameraOrigin.SchoolPage, r.Origin);
                Assert.Equal(schoolId, r.SchoolId);
                Assert.Equal(userName, r.UserName);
                Assert.Equal(address, r.RemoteAddress);
                Assert.Null(r.AlarmId);
            });
        }

        // The administrators' page finds them by user, zh-CN.
        var (adminContext, admin) = await portal.SignInAsync("admin");
        await using var _ = adminContext;
        await admin.GotoAsync("/admin/audit");
        await PortalFixture.WaitInteractiveAsync(admin);
        await admin.GetByTestId("audit-user").FillAsync(userName);
        await Assertions.Expect(admin.GetByTestId("audit-user-name")).ToHaveCountAsync(4, new() { Timeout = 15_000 });
        await Assertions.Expect(admin.Locator("[data-testid=audit-action-name][data-action=WarningLightOn]")).ToContainTextAsync("开启警灯");
        await Assertions.Expect(admin.GetByTestId("audit-address").First).ToHaveTextAsync(address);
    }

    private static async Task WaitForActionAsync(PortalProcess running, int userId, CameraAction action)
    {
        await using var connection = running.Db.Open();
        for (var i = 0; i < 100; i++)
        {
            if (await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM CameraAudit WHERE UserId = @userId AND Action = @action", new { userId, action = (int)action }) > 0)
            {
                return;
            }

            await Task.Delay(100);
        }

        Assert.Fail($"no {action} row in the camera audit");
    }
}
