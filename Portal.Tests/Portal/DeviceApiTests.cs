using System.Net;
using System.Text;
using Dapper;
using Portal.Core.Demo;
using Portal.Simulator.Terminals;
using Xunit;

namespace Portal.Tests.Portal;

/// <summary>The signed device API over real HTTP: every bad request gets a clear 4xx and writes no alarm.</summary>
[Trait("Category", "Integration")]
public sealed class DeviceApiTests(PortalFixture portal)
{
    /// <summary>
    /// The terminal's alarms (not every alarm: the tests share one portal, and others press their own terminals
    /// meanwhile) and the whole security log (which only grows).
    /// </summary>
    private async Task<(long Alarms, long SecurityLog)> CountsAsync(string serial)
    {
        await using var connection = (await portal.GetPortalAsync()).Db.Open();
        return (await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM Alarm a JOIN Device d ON d.Id = a.DeviceId WHERE d.SerialNumber = @serial", new { serial }),
            await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM SecurityLog"));
    }

    [Fact]
    public async Task BadRequests_AreRefusedClearly_AndWriteOnlyASecurityLogEntry()
    {
        await portal.GetBrowserAsync();
        using var http = new HttpClient { BaseAddress = new Uri((await portal.GetPortalAsync()).BaseUrl) };
        const string serial = "ATS00000051";
        var honest = new SignedAlarmClient(http, serial, DemoCity.DemoApiKeyPrefix + serial);
        var before = await CountsAsync(serial);

        // Bad signature, unknown serial and stale timestamp: one answer, word for word (issue 14: the reason is not the caller's).
        var badSignature = await new SignedAlarmClient(http, serial, "wrong-key").PressAsync();
        var unknown = await new SignedAlarmClient(http, "ATS77777777", "k").PressAsync();
        var stale = await honest.PressAsync(timestampOffset: TimeSpan.FromMinutes(-10));
        Assert.All([badSignature, unknown, stale], r => Assert.Equal((HttpStatusCode.Unauthorized, "Unauthorized", ProblemDetail(badSignature)), (r.Status, ProblemTitle(r), ProblemDetail(r))));
        Assert.Equal(HttpStatusCode.BadRequest, (await honest.PressAsync(body: "{not json")).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await honest.PressAsync(body: "[1,2,3]")).Status);

        using (var huge = new ByteArrayContent(new byte[40_000]))
        {
            var response = await http.PostAsync(SignedAlarmClient.AlarmPath, huge);
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        }

        using (var unsigned = new StringContent("{}", Encoding.UTF8, "application/json"))
        {
            var response = await http.PostAsync(SignedAlarmClient.AlarmPath, unsigned);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Contains("X-Signature", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        var after = await CountsAsync(serial);
        Assert.Equal(before.Alarms, after.Alarms);
        Assert.True(after.SecurityLog - before.SecurityLog >= 7, $"security log grew by {after.SecurityLog - before.SecurityLog}");

        // The honest press goes through once; its exact replay is refused.
        var nonce = "replay-test-nonce-1";
        Assert.Equal(HttpStatusCode.Created, (await honest.PressAsync(nonce: nonce)).Status);
        var replay = await honest.PressAsync(nonce: nonce);
        Assert.Equal(HttpStatusCode.Conflict, replay.Status);
        Assert.Equal(before.Alarms + 1, (await CountsAsync(serial)).Alarms);
    }

    private static string? ProblemTitle(AlarmPressResult r) => System.Text.Json.JsonDocument.Parse(r.Body).RootElement.GetProperty("title").GetString();

    private static string? ProblemDetail(AlarmPressResult r) => System.Text.Json.JsonDocument.Parse(r.Body).RootElement.GetProperty("detail").GetString();

    [Fact]
    public async Task Restart_MidDeadline_StillEscalates()
    {
        await using var own = await PortalProcess.StartAsync();
        await using (var connection = own.Db.Open())
        {
            await connection.ExecuteAsync("UPDATE PoliceCentre SET AnswerDeadlineSeconds = 4 WHERE DistrictId IS NOT NULL");
        }

        using var http = new HttpClient { BaseAddress = new Uri(own.BaseUrl) };
        var press = await new SignedAlarmClient(http, "ATS00000005", DemoCity.DemoApiKeyPrefix + "ATS00000005").PressAsync();
        Assert.Equal(HttpStatusCode.Created, press.Status);
        await own.KillAsync(); // the portal dies with the alarm ringing and its deadline 4 s away

        await Task.Delay(TimeSpan.FromSeconds(5));
        await own.StartAgainAsync();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        int state;
        do
        {
            await using var connection = own.Db.Open();
            state = await connection.ExecuteScalarAsync<int>("SELECT State FROM Alarm");
            if (state == 1)
            {
                break;
            }

            await Task.Delay(100);
        }
        while (clock.Elapsed < TimeSpan.FromSeconds(5));

        Assert.Equal(1, state);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"escalated {clock.Elapsed.TotalSeconds:0.0} s after the restart");
    }
}
