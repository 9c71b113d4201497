using System.Text.Json;
using Portal.Core.Demo;
using Portal.Simulator.Cameras;
using Portal.Simulator.Terminals;
using Portal.Tests.Media.Bridges;
using Xunit;

namespace Portal.Tests.Portal.Browser;

/// <summary>
/// Issue #15: the per-model keyframe hook as an administrator configures it. A portal of its own (its setting names the
/// demo gate cameras' model) whose demo cameras stand in as one simulated camera that ignores RTCP and starts each
/// session mid-GOP; a press starts the pull at intake, RTCP goes unanswered, the portal calls the model's HTTP keyframe
/// request on 127.0.0.1 with the device's own login (Digest), the camera sends an IDR, and the admin-only media
/// diagnostics show the hook's calls. The password appears in no log line, even with HTTP client tracing on.
/// </summary>
[Trait("Category", "Browser")]
public sealed class CameraKeyframeHookPortalTests(PortalFixture fixture)
{
    [Fact(Timeout = 600_000)]
    public async Task Press_ModelWithKeyframeHook_HookCalledWithDeviceLoginAndShownInDiagnostics()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var camera = await SimulatedCamera.StartAsync(
            new SimulatedCameraOptions { HonourRtcpKeyframeRequests = false, StartFrame = 10, Username = null, Password = null }, cancellationToken: ct);
        await using var endpoint = new KeyframeHookEndpoint("admin", DemoCity.DemoDevicePassword, basicOnly: false, camera.Rtsp.ForceKeyframe);
        await using var portal = await PortalProcess.StartAsync(new PortalProcessOptions
        {
            DemoSchoolCount = 10,
            Arguments =
            [
                "--Portal:DemoCameraRtspUrl=" + camera.RtspUri,
                "--Portal:CameraKeyframeHooks:0:Model=ptz-4k", // the demo gate cameras' model, in another case
                $"--Portal:CameraKeyframeHooks:0:UrlTemplate=http://{{host}}:{endpoint.Port}/cgi-bin/keyframe?channel=1",
                "--Portal:CameraKeyframeHooks:0:Method=POST",
                "--Logging:LogLevel:System.Net.Http=Trace",
                "--Logging:LogLevel:Portal=Debug",
            ],
        });

        var browser = await fixture.GetBrowserAsync();
        await using var context = await browser.NewPatientContextAsync(new() { BaseURL = portal.BaseUrl });
        var admin = await context.NewPageAsync();
        await admin.GotoAsync("/");
        await fixture.CompleteSignInAsync(admin, "admin");

        using var http = new HttpClient { BaseAddress = new Uri(portal.BaseUrl) };
        var press = await new SignedAlarmClient(http, "ATS00000003", DemoCity.DemoApiKeyPrefix + "ATS00000003").PressAsync(ct: ct);
        Assert.True((int)press.Status is 200 or 201, press.Body);

        JsonElement hook = default;
        await Poll.UntilAsync(
            async () =>
            {
                var response = await admin.APIRequest.GetAsync("/api/diagnostics/media");
                Assert.Equal(200, response.Status);
                var media = JsonDocument.Parse(await response.TextAsync()).RootElement.Clone();
                var pulled = media.GetProperty("cameras").EnumerateArray().FirstOrDefault(c => c.GetProperty("state").GetString() == "Playing");
                if (pulled.ValueKind != JsonValueKind.Object || pulled.GetProperty("keyframes").GetProperty("hook").ValueKind != JsonValueKind.Object)
                {
                    return false;
                }

                hook = pulled.GetProperty("keyframes").GetProperty("hook");
                return hook.GetProperty("lastOutcome").GetString() is not null;
            },
            TimeSpan.FromSeconds(90),
            "the keyframe hook's outcome in the media diagnostics",
            ct);

        Assert.Equal("200 OK", hook.GetProperty("lastOutcome").GetString());
        Assert.Equal(0, hook.GetProperty("failures").GetInt64());
        Assert.True(hook.GetProperty("calls").GetInt64() >= 1, hook.ToString());
        Assert.True(endpoint.Accepted >= 1);
        Assert.All(endpoint.Lines, l => Assert.Equal("POST /cgi-bin/keyframe?channel=1", l));
        Assert.All(endpoint.Authorizations, a => Assert.StartsWith("Digest username=\"admin\"", a, StringComparison.Ordinal));
        Assert.True(camera.Rtsp.KeyframeRequests >= 1, "RTCP was tried first");
        Assert.DoesNotContain(DemoCity.DemoDevicePassword, portal.Log, StringComparison.Ordinal);
        Assert.Contains("/cgi-bin/keyframe", portal.Log, StringComparison.Ordinal); // the HTTP client's trace was on
    }
}
