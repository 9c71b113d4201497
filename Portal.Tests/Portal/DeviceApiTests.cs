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
    /// meanwhile) and the refusals counted from 127.0.0.1 (which only grow).
    /// </summary>
    private async Task<(long Alarms, long Refusals)> CountsAsync(string serial)
    {
        await using var connection = (await portal.GetPortalAsync()).Db.Open();
        return (await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM Alarm a JOIN Device d ON d.Id = a.DeviceId WHERE d.SerialNumber = @serial", new { serial }),
            await connection.ExecuteScalarAsync<long>("SELECT COALESCE(SUM(Requests), 0) FROM DeviceRefusalCount WHERE RemoteAddress = '127.0.0.1'"));
    }

    [Fact]
    public async Task BadRequests_AreRefusedClearly_AndAreCountedNotLogged()
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

        // Chunked, no length given: read up to the limit, then refused the same way.
        using (var chunked = new HttpRequestMessage(HttpMethod.Post, SignedAlarmClient.AlarmPath) { Content = new ByteArrayContent(new byte[40_000]) })
        {
            chunked.Headers.TransferEncodingChunked = true;
            var response = await http.SendAsync(chunked);
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        }

        using (var unsigned = new StringContent("{}", Encoding.UTF8, "application/json"))
        {
            var response = await http.PostAsync(SignedAlarmClient.AlarmPath, unsigned);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Contains("X-Signature", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        // Nothing written for them on the request's path; counted, and in the table at the counter's next flush (every 10 s).
        var after = await CountsAsync(serial);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (after.Refusals - before.Refusals < 7 && clock.Elapsed < TimeSpan.FromSeconds(30))
        {
            await Task.Delay(200);
            after = await CountsAsync(serial);
        }

        Assert.Equal(before.Alarms, after.Alarms);
        Assert.True(after.Refusals - before.Refusals >= 7, $"refusals counted: {after.Refusals - before.Refusals}");

        // The honest press goes through once; its exact replay is refused.
        var nonce = "replay-test-nonce-1";
        Assert.Equal(HttpStatusCode.Created, (await honest.PressAsync(nonce: nonce)).Status);
        var replay = await honest.PressAsync(nonce: nonce);
        Assert.Equal(HttpStatusCode.Conflict, replay.Status);
        Assert.Equal(before.Alarms + 1, (await CountsAsync(serial)).Alarms);
    }

    [Fact]
    public async Task Press_TerminalPastItsOwnAllowance_Answers429WithRetryAfter_AndTheSamePressIsAcceptedLater()
    {
        using var http = new HttpClient { BaseAddress = new Uri((await portal.GetPortalAsync()).BaseUrl) };
        const string serial = "ATS00000071";
        var terminal = new SignedAlarmClient(http, serial, DemoCity.DemoApiKeyPrefix + serial);

        // 60 presses at once against a per-device burst of 40 (DeviceRateLimitOptions' defaults; the shared portal lifts the per-address limit).
        var nonces = Enumerable.Range(0, 60).Select(i => FormattableString.Invariant($"allowance-test-{i}")).ToArray();
        var answers = await Task.WhenAll(nonces.Select(n => terminal.PressAsync(nonce: n)));
        var limited = answers.Select((a, i) => (Answer: a, Nonce: nonces[i])).Where(p => p.Answer.Status == HttpStatusCode.TooManyRequests).ToList();
        Assert.NotEmpty(limited);
        Assert.All(answers, a => Assert.Contains(a.Status, new[] { HttpStatusCode.Created, HttpStatusCode.OK, HttpStatusCode.TooManyRequests }));
        Assert.All(limited, p => Assert.Equal("TooManyRequests", ProblemTitle(p.Answer)));

        // Nothing was kept of a refused press, not even its nonce: the terminal sends it again after Retry-After.
        var retryAfter = await RetryAfterAsync(http, serial);
        Assert.InRange(retryAfter, 1, 60);
        var again = limited[0].Nonce;
        await Poll.UntilAsync(async () => (await terminal.PressAsync(nonce: again)).Status is HttpStatusCode.OK or HttpStatusCode.Created,
            TimeSpan.FromSeconds(30), "the refused press accepted after Retry-After", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Conflict, (await terminal.PressAsync(nonce: again)).Status);
    }

    /// <summary>Spends the terminal's allowance with signed presses until one is refused, and returns that answer's Retry-After (whole seconds).</summary>
    private static async Task<int> RetryAfterAsync(HttpClient http, string serial)
    {
        for (var i = 0; i < 100; i++)
        {
            var nonce = FormattableString.Invariant($"retry-after-test-{i}");
            var timestamp = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture);
            var body = "{}"u8.ToArray();
            using var request = new HttpRequestMessage(HttpMethod.Post, SignedAlarmClient.AlarmPath) { Content = new ByteArrayContent(body) };
            request.Headers.Add("X-Device-Serial", serial);
            request.Headers.Add("X-Timestamp", timestamp);
            request.Headers.Add("X-Nonce", nonce);
            request.Headers.Add("X-Signature", SignedAlarmClient.Sign(DemoCity.DemoApiKeyPrefix + serial, "POST", SignedAlarmClient.AlarmPath, timestamp, nonce, body));
            using var response = await http.SendAsync(request);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                return (int)response.Headers.RetryAfter!.Delta!.Value.TotalSeconds;
            }
        }

        throw new InvalidOperationException("The terminal was never refused for its rate.");
    }

    [Fact]
    public async Task Heartbeat_SignedByATerminal_IsAcceptedOnce_AndItsReplayRefused()
    {
        using var http = new HttpClient { BaseAddress = new Uri((await portal.GetPortalAsync()).BaseUrl) };
        const string serial = "ATS00000061";
        // A clock that stands still, so the same call sends the very same signed request again (a replay).
        var terminal = new SignedAlarmClient(http, serial, DemoCity.DemoApiKeyPrefix + serial, new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UtcNow));

        var beat = await terminal.HeartbeatAsync(nonce: "heartbeat-test-1");
        Assert.Equal(HttpStatusCode.OK, beat.Status);
        using var answer = System.Text.Json.JsonDocument.Parse(beat.Body);
        Assert.Equal(60, answer.RootElement.GetProperty("intervalSeconds").GetInt32());
        Assert.InRange(answer.RootElement.GetProperty("serverTime").GetInt64(), DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 60, DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 60);

        // The same heartbeat again (a replay), and a fresh one signed earlier: not newer, refused; a newer one is fine.
        Assert.Equal(HttpStatusCode.Conflict, (await terminal.HeartbeatAsync(nonce: "heartbeat-test-1")).Status);
        Assert.Equal(HttpStatusCode.Conflict, (await terminal.HeartbeatAsync(timestampOffset: TimeSpan.FromSeconds(-5))).Status);
        Assert.Equal(HttpStatusCode.OK, (await terminal.HeartbeatAsync(timestampOffset: TimeSpan.FromSeconds(1))).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await new SignedAlarmClient(http, serial, "wrong-key").HeartbeatAsync()).Status);
    }

    [Fact]
    public async Task OpenApi_DeviceEndpoints_DocumentHeadersBodyAndEveryAnswer()
    {
        using var http = new HttpClient { BaseAddress = new Uri((await portal.GetPortalAsync()).BaseUrl) };
        using var document = System.Text.Json.JsonDocument.Parse(await http.GetStringAsync("/openapi/v1.json"));
        var paths = document.RootElement.GetProperty("paths");
        foreach (var (path, bodyProperty, answers) in new[]
        {
            (SignedAlarmClient.HeartbeatPath, "uptimeSeconds", new[] { "200", "400", "401", "409", "413", "429" }),
            (SignedAlarmClient.AlarmPath, "event", new[] { "200", "201", "400", "401", "403", "409", "413", "429", "503" }),
        })
        {
            var operation = paths.GetProperty(path).GetProperty("post");
            var headers = operation.GetProperty("parameters").EnumerateArray()
                .Where(p => p.GetProperty("in").GetString() == "header" && p.GetProperty("required").GetBoolean())
                .Select(p => p.GetProperty("name").GetString()).ToList();
            Assert.Equal(["X-Device-Serial", "X-Timestamp", "X-Nonce", "X-Signature"], headers);
            Assert.Contains(bodyProperty, Schema(document, operation.GetProperty("requestBody").GetProperty("content").GetProperty("application/json").GetProperty("schema"))
                .GetProperty("properties").EnumerateObject().Select(p => p.Name));
            var responses = operation.GetProperty("responses");
            foreach (var status in answers)
            {
                var content = responses.GetProperty(status).GetProperty("content");
                Assert.True(status.StartsWith('2') ? content.TryGetProperty("application/json", out _) : content.TryGetProperty("application/problem+json", out _), $"{path} {status}");
            }
        }
    }

    /// <summary>A schema, following a $ref into components when it is one.</summary>
    private static System.Text.Json.JsonElement Schema(System.Text.Json.JsonDocument document, System.Text.Json.JsonElement schema) =>
        schema.TryGetProperty("$ref", out var reference)
            ? document.RootElement.GetProperty("components").GetProperty("schemas").GetProperty(reference.GetString()!["#/components/schemas/".Length..])
            : schema;

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
