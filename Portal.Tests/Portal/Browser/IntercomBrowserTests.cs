using System.Net;
using System.Text.Json;
using Dapper;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Playwright;
using Portal.Core.Demo;
using Portal.Core.Security;
using Portal.Media.Sip;
using Portal.Media.Sip.Calls;
using Portal.Media.Sip.Transport;
using Portal.Simulator.Terminals;
using Xunit;

namespace Portal.Tests.Portal.Browser;

/// <summary>
/// The guard talks to the police (issue 11) in Debian's Chromium with a fake microphone: a simulated SIP terminal
/// presses, the district operator answers in the pop-up and the intercom connects beside the gate camera; the browser
/// decodes the terminal's G.711 and H.264 (getStats), the terminal counts the operator's G.711; another operator in
/// scope sees who is talking; the operator mutes and unmutes, hangs up, and the alarm stays open.
/// Owns demo school 313 (terminal-00313, district 3 崂山区) and its own two operators.
/// </summary>
[Trait("Category", "Browser")]
public sealed class IntercomBrowserTests(PortalFixture fixture)
{
    private const string Account = "terminal-00313";

    private const string StatsScript = """
        async (root) => {
          const pc = root && root.portalPc;
          const s = { audioPackets: 0, videoFrames: 0, audioSent: 0, audioCodec: '', videoCodec: '' };
          if (!pc) return JSON.stringify(s);
          const stats = await pc.getStats();
          const codecs = {};
          stats.forEach(r => { if (r.type === 'codec') codecs[r.id] = r.mimeType; });
          stats.forEach(r => {
            if (r.type === 'inbound-rtp' && r.kind === 'audio') { s.audioPackets = r.packetsReceived || 0; s.audioCodec = codecs[r.codecId] || ''; }
            if (r.type === 'inbound-rtp' && r.kind === 'video') { s.videoFrames = r.framesDecoded || 0; s.videoCodec = codecs[r.codecId] || ''; }
            if (r.type === 'outbound-rtp' && r.kind === 'audio') s.audioSent = r.packetsSent || 0;
          });
          return JSON.stringify(s);
        }
        """;

    private static readonly JsonSerializerOptions Json = new() { PropertyNameCaseInsensitive = true };

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact(Timeout = 240_000)]
    public async Task Press_OperatorAnswers_TalkBothWays_OthersSeeWho_HangUpKeepsAlarm()
    {
        var portal = await fixture.GetPortalAsync();
        int schoolId, deviceId;
        await using (var connection = portal.Db.Open())
        {
            (schoolId, deviceId) = await connection.QuerySingleAsync<(int, int)>("SELECT SchoolId, Id FROM Device WHERE SipAccount = @Account", new { Account });
        }

        var (_, operatorName) = await TestUsers.CreateAsync(portal, Roles.DistrictOperator, districtCode: "370212");
        var (_, cityName) = await TestUsers.CreateAsync(portal, Roles.CityOperator);
        var (context, page) = await fixture.SignInAsync(operatorName);
        await using var _ = context;
        var (cityContext, city) = await fixture.SignInAsync(cityName);
        await using var __ = cityContext;
        await Assertions.Expect(page.GetByTestId("alarm-board")).ToBeVisibleAsync();

        await using var fleet = SimulatedTerminalFleet.Start(new SipEndPoint(SipTransportProtocol.Udp, new IPEndPoint(IPAddress.Loopback, portal.SipPort)), NullLoggerFactory.Instance);
        var terminal = fleet.Get(Account, DemoCity.DemoSipPassword(Account));
        Assert.Equal(SipStatus.Ok, (await terminal.RegisterAsync(600, Ct)).StatusCode);

        // The guard presses: the call rings until the operator answers in the browser.
        using var ring = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var press = terminal.PressAsync(ct: ring.Token);
        var alarmId = await OpenAlarmAsync(portal, deviceId, press);

        var card = page.Locator($"[data-testid=alarm-card][data-alarm-id='{alarmId}']");
        await Assertions.Expect(card).ToBeVisibleAsync();
        await card.DispatchEventAsync("click");
        var popup = page.Locator($"[data-testid=alarm-popup][data-alarm-id='{alarmId}']");
        await Assertions.Expect(popup.GetByTestId("gate-camera")).ToBeVisibleAsync();
        var intercom = popup.GetByTestId("intercom");
        await Assertions.Expect(intercom).ToHaveAttributeAsync("data-phase", "Ringing");
        await popup.GetByTestId("answer").ClickAsync();

        // Answering the alarm takes the call: 200 OK to the terminal, media both ways.
        await Assertions.Expect(intercom).ToHaveAttributeAsync("data-connected", "true", new() { Timeout = 30_000 });
        var pressed = await press.WaitAsync(TimeSpan.FromSeconds(30), Ct);
        Assert.Equal(SipStatus.Ok, pressed.Status);
        var browser = await WaitStatsAsync(intercom, s => s.AudioPackets >= 50 && s.VideoFrames >= 10);
        Assert.StartsWith("audio/PCM", browser.AudioCodec, StringComparison.Ordinal);
        Assert.Equal("video/H264", browser.VideoCodec);
        await WaitTerminalHearsAsync(terminal, 50);
        Assert.Equal(terminal.Call!.Plan!.Audio!.Codec.Name, browser.AudioCodec["audio/".Length..], StringComparer.OrdinalIgnoreCase); // no transcoding

        // Others in scope see who is talking (the city operator on the school's page); they cannot take it.
        await city.GotoAsync($"/schools/{schoolId}");
        await PortalFixture.WaitInteractiveAsync(city);
        var cityPanel = city.Locator($"[data-testid=intercom][data-device-id='{deviceId}']");
        await Assertions.Expect(cityPanel).ToHaveAttributeAsync("data-phase", "Talking");
        await Assertions.Expect(cityPanel.GetByTestId("intercom-holder")).ToContainTextAsync(operatorName);
        await Assertions.Expect(cityPanel.GetByTestId("intercom-hangup")).ToHaveCountAsync(0);

        // Mute stops the operator's audio reaching the terminal's speaker (the track goes silent, the button says so).
        await intercom.GetByTestId("intercom-mute").ClickAsync();
        await Assertions.Expect(intercom.GetByTestId("intercom-mute")).ToHaveAttributeAsync("data-muted", "true");
        await intercom.GetByTestId("intercom-mute").ClickAsync();
        await Assertions.Expect(intercom.GetByTestId("intercom-mute")).ToHaveAttributeAsync("data-muted", "false");

        // The operator hangs up: BYE reaches the terminal, the alarm stays answered until closed.
        var firstCall = terminal.Call!;
        await intercom.GetByTestId("intercom-hangup").ClickAsync();
        await firstCall.Ended.WaitAsync(TimeSpan.FromSeconds(30), Ct);
        await Assertions.Expect(intercom).ToHaveAttributeAsync("data-phase", "None");
        await Assertions.Expect(cityPanel).ToHaveAttributeAsync("data-phase", "None");
        await using (var connection = portal.Db.Open())
        {
            Assert.Equal(2, await connection.ExecuteScalarAsync<int>("SELECT State FROM Alarm WHERE Id = @alarmId", new { alarmId }));
        }

        // After the talk the pop-up offers the call-back to the still registered terminal.
        await Assertions.Expect(intercom.GetByTestId("intercom-callback")).ToHaveAttributeAsync("data-registered", "true");
    }

    /// <summary>
    /// Call-back from the school page (terminal-00323, school 323 in 崂山区, this test's own), twice: the portal sends the
    /// INVITE, the terminal answers at once, and the talk flows both ways: the browser decodes the terminal's G.711 and
    /// H.264 (getStats), the terminal counts the operator's G.711 on that very call. The operator hangs up (BYE) and
    /// calls again: the second call carries media as the first did (a terminal's second call used to stay silent).
    /// </summary>
    [Fact(Timeout = 300_000)]
    public async Task CallBack_FromTheSchoolPage_TalkBothWays_Twice()
    {
        const string CallBackAccount = "terminal-00323";
        var portal = await fixture.GetPortalAsync();
        int schoolId, deviceId;
        await using (var connection = portal.Db.Open())
        {
            (schoolId, deviceId) = await connection.QuerySingleAsync<(int, int)>("SELECT SchoolId, Id FROM Device WHERE SipAccount = @CallBackAccount", new { CallBackAccount });
        }

        var (_, operatorName) = await TestUsers.CreateAsync(portal, Roles.DistrictOperator, districtCode: "370212");
        var (context, page) = await fixture.SignInAsync(operatorName);
        await using var _ = context;

        await using var fleet = SimulatedTerminalFleet.Start(new SipEndPoint(SipTransportProtocol.Udp, new IPEndPoint(IPAddress.Loopback, portal.SipPort)), NullLoggerFactory.Instance);
        var terminal = fleet.Get(CallBackAccount, DemoCity.DemoSipPassword(CallBackAccount));
        Assert.Equal(SipStatus.Ok, (await terminal.RegisterAsync(600, Ct)).StatusCode);

        await page.GotoAsync($"/schools/{schoolId}");
        await PortalFixture.WaitInteractiveAsync(page);
        var intercom = page.Locator($"[data-testid=intercom][data-device-id='{deviceId}']");
        SipCall? previous = null;
        for (var round = 1; round <= 2; round++)
        {
            var answered = new TaskCompletionSource<SipCall>(TaskCreationOptions.RunContinuationsAsynchronously);
            void OnStarted(SimulatedSipTerminal t, SipCall c) => answered.TrySetResult(c);
            terminal.CallStarted += OnStarted;
            var callBack = intercom.GetByTestId("intercom-callback");
            await Assertions.Expect(callBack).ToHaveAttributeAsync("data-registered", "true");
            await callBack.ClickAsync();

            // The terminal answers the portal's INVITE (incoming at the terminal) and its media starts on this call.
            var call = await answered.Task.WaitAsync(TimeSpan.FromSeconds(60), Ct);
            terminal.CallStarted -= OnStarted;
            Assert.Equal(SipCallDirection.Incoming, call.Direction);
            Assert.NotSame(previous, call);
            Assert.Same(call, terminal.Media!.Call);
            await Assertions.Expect(intercom).ToHaveAttributeAsync("data-phase", "Talking", new() { Timeout = 30_000 });
            await Assertions.Expect(intercom).ToHaveAttributeAsync("data-connected", "true");
            var browser = await WaitStatsAsync(intercom, s => s.AudioPackets >= 50 && s.VideoFrames >= 10);
            Assert.Equal(call.Plan!.Audio!.Codec.Name, browser.AudioCodec["audio/".Length..], StringComparer.OrdinalIgnoreCase); // no transcoding
            Assert.Equal("video/H264", browser.VideoCodec);
            await WaitTerminalHearsAsync(terminal, 50);
            Assert.True(terminal.Media.AudioSent >= 50 && terminal.Media.VideoSent > 0, $"round {round}: the terminal sent {terminal.Media.AudioSent} audio and {terminal.Media.VideoSent} video packets");

            await intercom.GetByTestId("intercom-hangup").ClickAsync();
            Assert.Equal(SipCallEndReason.RemoteHangUp, await call.Ended.WaitAsync(TimeSpan.FromSeconds(30), Ct));
            await Assertions.Expect(intercom).ToHaveAttributeAsync("data-phase", "None");
            previous = call;
        }
    }

    /// <summary>The open alarm the press raised (it is committed before the terminal hears 180).</summary>
    private static async Task<int> OpenAlarmAsync(PortalProcess portal, int deviceId, Task<SipCallResult> press)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(60))
        {
            Assert.False(press.IsCompleted, press.IsCompleted ? $"The press ended: {(await press).Status}" : null);
            await using (var connection = portal.Db.Open())
            {
                if (await connection.ExecuteScalarAsync<int?>("SELECT Id FROM Alarm WHERE DeviceId = @deviceId AND State < 3", new { deviceId }) is { } id)
                {
                    return id;
                }
            }

            await Task.Delay(100, Ct);
        }

        throw new TimeoutException("The press raised no alarm within 60 s.");
    }

    private static async Task<IntercomStats> WaitStatsAsync(ILocator intercom, Func<IntercomStats, bool> enough)
    {
        var stats = new IntercomStats(0, 0, 0, string.Empty, string.Empty);
        for (var clock = System.Diagnostics.Stopwatch.StartNew(); !enough(stats) && clock.Elapsed < TimeSpan.FromSeconds(60); await Task.Delay(200, Ct))
        {
            stats = JsonSerializer.Deserialize<IntercomStats>(await intercom.EvaluateAsync<string>(StatsScript), Json)!;
        }

        Assert.True(enough(stats), $"browser stats: {stats}");
        return stats;
    }

    private static async Task WaitTerminalHearsAsync(SimulatedSipTerminal terminal, long packets)
    {
        for (var clock = System.Diagnostics.Stopwatch.StartNew(); (terminal.Media?.AudioReceived ?? 0) < packets && clock.Elapsed < TimeSpan.FromSeconds(60);)
        {
            await Task.Delay(100, Ct);
        }

        Assert.True(terminal.Media?.AudioReceived >= packets, $"the terminal received {terminal.Media?.AudioReceived ?? 0} audio packets from the operator");
    }

    private sealed record IntercomStats(long AudioPackets, long VideoFrames, long AudioSent, string AudioCodec, string VideoCodec);
}
