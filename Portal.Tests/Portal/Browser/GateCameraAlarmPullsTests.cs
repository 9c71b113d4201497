using System.Text.Json;
using Xunit;

namespace Portal.Tests.Portal.Browser;

/// <summary>
/// Issue #15: the moment an alarm is committed the portal starts pulling its school's gate camera, before any console
/// has drawn it, so the pop-up's video starts from a cached keyframe. Read back through the admin-only media
/// diagnostics. Terminal ATS00000090 (school 3370000090, 市南区) is this test's own.
/// </summary>
[Trait("Category", "Browser")]
public sealed class GateCameraAlarmPullsTests(PortalFixture portal)
{
    [Fact(Timeout = 300_000)]
    public async Task Press_AlarmCommitted_StartsItsGateCameraPull()
    {
        var (admin, _) = await portal.SignInAsync("admin");
        await using var __ = admin;
        using var http = new HttpClient { BaseAddress = new Uri((await portal.GetPortalAsync()).BaseUrl) };

        var alarmId = await DemoPress.AlarmAsync(http, "ATS00000090");

        // No console has this alarm open: the pull is the intake's, and it plays.
        JsonElement media = default;
        await Poll.UntilAsync(
            async () =>
            {
                var response = await admin.APIRequest.GetAsync("/api/diagnostics/media");
                Assert.Equal(200, response.Status);
                media = JsonDocument.Parse(await response.TextAsync()).RootElement.Clone();
                return media.GetProperty("alarmPulls").EnumerateArray().Any(a => a.GetInt32() == alarmId)
                    && media.GetProperty("cameras").EnumerateArray().Any(c => IsOwnCamera(c) && c.GetProperty("state").GetString() == "Playing");
            },
            TimeSpan.FromSeconds(60),
            "the alarm's camera pull",
            TestContext.Current.CancellationToken);

        // Other tests pull other schools' cameras from the same portal: this test reads only its own school's camera.
        var camera = media.GetProperty("cameras").EnumerateArray().First(c => IsOwnCamera(c) && c.GetProperty("state").GetString() == "Playing");
        Assert.True(camera.GetProperty("viewers").GetInt32() >= 1, camera.ToString());
        Assert.True(camera.GetProperty("keyframes").TryGetProperty("requests", out _), camera.ToString());
    }

    /// <summary>School 3370000090's gate camera is demo camera <c>cam-00090</c>.</summary>
    private static bool IsOwnCamera(JsonElement camera) => camera.GetProperty("camera").GetString()!.Contains("/cam-00090/", StringComparison.Ordinal);
}
