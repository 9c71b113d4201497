using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Dapper;
using Microsoft.Playwright;
using Portal.Core.Demo;
using Portal.Core.Security;
using Xunit;

namespace Portal.Tests.Portal.Browser;

/// <summary>
/// Interop with a third-party SIP user agent as the alarm terminal (issue 11): Debian's baresip (package baresip-core),
/// headless on 127.0.0.1 with a config folder of its own (a 440 Hz sine as its microphone, no sound card), registers
/// terminal-00013 with digest, dials the alarm number; the district operator answers in Chromium and the talk flows both
/// ways: the browser decodes baresip's G.711 (getStats) and baresip measures the operator's RTP coming in (the audio
/// tx/rx rates of its call status line; commands go over its ctrl_tcp control socket). baresip 1.0 (libre 1.1) computes MD5 digests only, like SIPp, so it meets a small portal
/// of its own set as the README tells for such terminals (DigestAlgorithms=MD5).
/// baresip quits by itself after <see cref="BaresipSeconds"/> whatever happens, and is killed when the test ends.
/// </summary>
[Trait("Category", "Browser")]
public sealed class BaresipInteropTests(PortalFixture fixture)
{
    private const string Baresip = "/usr/bin/baresip";
    private const string Account = "terminal-00013"; // demo school 13 of this test's own portal: district 370212
    private const int BaresipSeconds = 150;

    private const string StatsScript = """
        async (root) => {
          const pc = root && root.portalPc;
          const s = { audioPackets: 0, audioSent: 0, audioCodec: '' };
          if (!pc) return JSON.stringify(s);
          const stats = await pc.getStats();
          const codecs = {};
          stats.forEach(r => { if (r.type === 'codec') codecs[r.id] = r.mimeType; });
          stats.forEach(r => {
            if (r.type === 'inbound-rtp' && r.kind === 'audio') { s.audioPackets = r.packetsReceived || 0; s.audioCodec = codecs[r.codecId] || ''; }
            if (r.type === 'outbound-rtp' && r.kind === 'audio') s.audioSent = r.packetsSent || 0;
          });
          return JSON.stringify(s);
        }
        """;

    private static readonly JsonSerializerOptions Json = new() { PropertyNameCaseInsensitive = true };

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact(Timeout = 300_000)]
    public async Task Baresip_RegistersWithDigest_DialsTheAlarmNumber_OperatorAnswers_AudioBothWays()
    {
        Assert.True(File.Exists(Baresip), $"{Baresip} is not installed: run scripts/install-test-deps.sh (apt-get install -y baresip-core).");
        await using var portal = await PortalProcess.StartAsync(new PortalProcessOptions
        {
            DemoSchoolCount = 20,
            Arguments = ["--Portal:Sip:DigestAlgorithms=MD5", "--Portal:Sip:DemoTerminals=0"],
        });
        int deviceId;
        await using (var connection = portal.Db.Open())
        {
            deviceId = await connection.QuerySingleAsync<int>("SELECT Id FROM Device WHERE SipAccount = @Account", new { Account });
        }

        var (_, operatorName) = await TestUsers.CreateAsync(portal, Roles.DistrictOperator, districtCode: "370212");
        var browser = await fixture.GetBrowserAsync();
        await using var context = await browser.NewPatientContextAsync(new BrowserNewContextOptions { BaseURL = portal.BaseUrl, Locale = "zh-CN" });
        var page = await context.NewPageAsync();
        await page.GotoAsync("/");
        await fixture.CompleteSignInAsync(page, operatorName);
        await Assertions.Expect(page.GetByTestId("alarm-board")).ToBeVisibleAsync();

        var folder = Path.Combine(Path.GetTempPath(), "baresip-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        try
        {
            await using var terminal = await BaresipTerminal.StartAsync(folder, portal.SipPort);

            // Registered with digest (the portal records the terminal's registration), then the press: INVITE 110.
            await WaitForAsync(async () => (await terminal.CommandAsync("reginfo")).Contains("OK", StringComparison.Ordinal), "baresip never registered", terminal);
            await terminal.CommandAsync("dial", $"sip:110@127.0.0.1:{portal.SipPort.ToString(CultureInfo.InvariantCulture)}");
            int alarmId = 0;
            await WaitForAsync(async () =>
            {
                await using var connection = portal.Db.Open();
                alarmId = await connection.ExecuteScalarAsync<int?>("SELECT Id FROM Alarm WHERE DeviceId = @deviceId AND State < 3 AND Source = 0", new { deviceId }) ?? 0;
                return alarmId != 0;
            }, "baresip's INVITE raised no SIP alarm", terminal);

            // The operator answers in the pop-up: 200 OK to baresip, the intercom connects.
            var card = page.Locator($"[data-testid=alarm-card][data-alarm-id='{alarmId}']");
            await Assertions.Expect(card).ToBeVisibleAsync();
            await card.DispatchEventAsync("click");
            var popup = page.Locator($"[data-testid=alarm-popup][data-alarm-id='{alarmId}']");
            var intercom = popup.GetByTestId("intercom");
            await Assertions.Expect(intercom).ToHaveAttributeAsync("data-phase", "Ringing");
            await popup.GetByTestId("answer").ClickAsync();
            await Assertions.Expect(intercom).ToHaveAttributeAsync("data-connected", "true", new() { Timeout = 30_000 });

            // Portal end: the browser decodes baresip's sine, relayed without transcoding. baresip's end: it receives the operator's RTP.
            BrowserStats stats = new(0, 0, string.Empty);
            await WaitForAsync(async () =>
            {
                stats = JsonSerializer.Deserialize<BrowserStats>(await intercom.EvaluateAsync<string>(StatsScript), Json)!;
                return stats.AudioPackets >= 100 && stats.AudioSent >= 100;
            }, "the browser did not decode baresip's audio", terminal, () => stats.ToString());
            Assert.StartsWith("audio/PCM", stats.AudioCodec, StringComparison.Ordinal);
            // baresip's own count: its call status line gives the audio stream's RTP rates measured over the last second
            // (audio=tx/rx bit/s, from the bytes it sent and received); G.711 at 50 packets/s is 64 kbit/s each way.
            // (Its RTCP statistics events need RTCP reports from the peer, which the portal does not send for audio.)
            var rates = (Tx: 0L, Rx: 0L);
            await WaitForAsync(() =>
            {
                rates = terminal.AudioBitrates();
                return Task.FromResult(rates.Tx >= 48_000 && rates.Rx >= 48_000);
            }, "baresip did not receive the operator's audio (or stopped sending)", terminal, () => $"baresip audio tx/rx {rates.Tx}/{rates.Rx} bit/s");

            // The operator hangs up: baresip gets the BYE and has no call left; the alarm stays open.
            await intercom.GetByTestId("intercom-hangup").ClickAsync();
            await WaitForAsync(async () => !(await terminal.CommandAsync("listcalls")).Contains("sip:", StringComparison.Ordinal), "baresip still has the call after the hang-up", terminal);
            await using (var connection = portal.Db.Open())
            {
                Assert.True(await connection.ExecuteScalarAsync<int>("SELECT State FROM Alarm WHERE Id = @alarmId", new { alarmId }) < 3);
            }
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static async Task WaitForAsync(Func<Task<bool>> condition, string failure, BaresipTerminal terminal, Func<string>? detail = null)
    {
        for (var clock = Stopwatch.StartNew(); clock.Elapsed < TimeSpan.FromSeconds(60); await Task.Delay(250, Ct))
        {
            if (await condition())
            {
                return;
            }
        }

        Assert.Fail($"{failure} {detail?.Invoke()}\n--- baresip ---\n{terminal.Output}");
    }

    private sealed record BrowserStats(long AudioPackets, long AudioSent, string AudioCodec);

    /// <summary>baresip as the alarm terminal: its own config folder, free ports on 127.0.0.1, commands over ctrl_tcp (netstrings of JSON).</summary>
    private sealed class BaresipTerminal : IAsyncDisposable
    {
        private readonly Process _process;
        private readonly TcpClient _control;
        private readonly StringBuilder _output = new();
        private readonly SemaphoreSlim _commandLock = new(1, 1);
        private byte[] _pending = [];

        private BaresipTerminal(Process process, TcpClient control)
        {
            _process = process;
            _control = control;
        }

        public string Output
        {
            get
            {
                lock (_output)
                {
                    return _output.Length > 8000 ? _output.ToString(_output.Length - 8000, 8000) : _output.ToString();
                }
            }
        }

        public static async Task<BaresipTerminal> StartAsync(string folder, int portalSipPort)
        {
            var sipPort = FreePorts.UdpAndTcp();
            var controlPort = FreePorts.UdpAndTcp();
            var inv = CultureInfo.InvariantCulture;
            await File.WriteAllTextAsync(Path.Combine(folder, "config"), string.Join('\n',
                "sip_listen 127.0.0.1:" + sipPort.ToString(inv),
                "audio_source ausine,440",
                "ausrc_srate 48000", // ausine makes 48 kHz stereo only; baresip resamples it to G.711's 8 kHz mono
                "ausrc_channels 2",
                "audio_player aubridge,speaker",
                "audio_alert aubridge,speaker",
                "rtp_stats yes",
                "module_path /usr/lib/baresip/modules",
                "module g711.so",
                "module ausine.so",
                "module aubridge.so",
                "module_app account.so",
                "module_app menu.so",
                "module_app ctrl_tcp.so",
                "ctrl_tcp_listen 127.0.0.1:" + controlPort.ToString(inv),
                string.Empty), Ct);
            await File.WriteAllTextAsync(Path.Combine(folder, "accounts"),
                $"<sip:{Account}@127.0.0.1:{portalSipPort.ToString(inv)}>;auth_pass={DemoCity.DemoSipPassword(Account)};regint=600;audio_codecs=PCMU,PCMA\n", Ct);
            await File.WriteAllTextAsync(Path.Combine(folder, "contacts"), string.Empty, Ct);

            var start = new ProcessStartInfo(Baresip)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                RedirectStandardInput = true,
                UseShellExecute = false,
                WorkingDirectory = folder,
            };
            // -n 127.0.0.1: baresip would otherwise announce the machine's first network address in its SDP and take RTP there.
            foreach (var arg in new[] { "-4", "-n", "127.0.0.1", "-f", folder, "-t", BaresipSeconds.ToString(inv) })
            {
                start.ArgumentList.Add(arg);
            }

            var process = Process.Start(start)!;
            var terminal = new BaresipTerminal(process, new TcpClient());
            process.OutputDataReceived += (_, e) => terminal.Append(e.Data);
            process.ErrorDataReceived += (_, e) => terminal.Append(e.Data);
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();

            // ctrl_tcp listens once its module is loaded: connect as soon as it does (or fail if baresip exited).
            for (var clock = Stopwatch.StartNew(); ; await Task.Delay(100, Ct))
            {
                try
                {
                    await terminal._control.ConnectAsync("127.0.0.1", controlPort, Ct);
                    return terminal;
                }
                catch (SocketException) when (!process.HasExited && clock.Elapsed < TimeSpan.FromSeconds(30))
                {
                }
                catch (SocketException ex)
                {
                    await terminal.DisposeAsync();
                    throw new InvalidOperationException("baresip's ctrl_tcp never listened: " + terminal.Output, ex);
                }
            }
        }

        /// <summary>Runs a menu command over ctrl_tcp and returns its text (events on the socket are skipped).</summary>
        public async Task<string> CommandAsync(string command, string parameters = "")
        {
            await _commandLock.WaitAsync(Ct);
            try
            {
                var token = Guid.NewGuid().ToString("N");
                var body = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new { command, @params = parameters, token }));
                var stream = _control.GetStream();
                await stream.WriteAsync(Encoding.ASCII.GetBytes(body.Length.ToString(CultureInfo.InvariantCulture) + ":"), Ct);
                await stream.WriteAsync(body, Ct);
                await stream.WriteAsync(","u8.ToArray(), Ct);
                using var deadline = CancellationTokenSource.CreateLinkedTokenSource(Ct);
                deadline.CancelAfter(TimeSpan.FromSeconds(20));
                while (true)
                {
                    using var message = JsonDocument.Parse(await ReadNetstringAsync(stream, deadline.Token));
                    var root = message.RootElement;
                    if (root.TryGetProperty("response", out _)
                        && root.TryGetProperty("token", out var answered) && answered.GetString() == token)
                    {
                        return root.TryGetProperty("data", out var data) ? data.GetString() ?? string.Empty : string.Empty;
                    }
                }
            }
            finally
            {
                _commandLock.Release();
            }
        }

        /// <summary>The last "audio=tx/rx (bit/s)" of baresip's call status line: RTP it sent and received over the last second.</summary>
        public (long Tx, long Rx) AudioBitrates()
        {
            var last = System.Text.RegularExpressions.Regex.Matches(Output, @"audio=(\d+)/(\d+) \(bit/s\)") is { Count: > 0 } matches ? matches[^1] : null;
            return last is null ? (0, 0)
                : (long.Parse(last.Groups[1].Value, CultureInfo.InvariantCulture), long.Parse(last.Groups[2].Value, CultureInfo.InvariantCulture));
        }

        public async ValueTask DisposeAsync()
        {
            try
            {
                if (!_process.HasExited && _control.Connected)
                {
                    await CommandAsync("quit");
                }
            }
            catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or JsonException)
            {
            }

            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            try
            {
                await _process.WaitForExitAsync(deadline.Token);
            }
            catch (OperationCanceledException)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync(CancellationToken.None);
            }

            _control.Dispose();
            _process.Dispose();
            _commandLock.Dispose();
        }

        private void Append(string? line)
        {
            if (line is not null)
            {
                lock (_output)
                {
                    _output.AppendLine(line);
                }
            }
        }

        /// <summary>Reads one netstring ("len:payload,") from the control socket.</summary>
        private async Task<string> ReadNetstringAsync(NetworkStream stream, CancellationToken ct)
        {
            var buffer = new byte[65536];
            while (true)
            {
                var colon = Array.IndexOf(_pending, (byte)':');
                if (colon > 0 && int.TryParse(Encoding.ASCII.GetString(_pending, 0, colon), NumberStyles.None, CultureInfo.InvariantCulture, out var length)
                    && _pending.Length >= colon + 1 + length + 1)
                {
                    var payload = Encoding.UTF8.GetString(_pending, colon + 1, length);
                    _pending = _pending[(colon + 1 + length + 1)..];
                    return payload;
                }

                var read = await stream.ReadAsync(buffer, ct);
                if (read == 0)
                {
                    throw new IOException("baresip closed its control socket");
                }

                _pending = [.. _pending, .. buffer.AsSpan(0, read)];
            }
        }
    }
}
