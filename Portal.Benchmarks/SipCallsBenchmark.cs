using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Portal.Benchmarks.Harness;
using Portal.Core.Demo;
using Portal.Media.Bridges;
using Portal.Media.Core;
using Portal.Media.Sip;
using Portal.Media.Sip.Auth;
using Portal.Media.Sip.Calls;
using Portal.Media.Sip.Transport;
using Portal.Media.WebRtc;
using Portal.Media.WebRtc.Dtls;
using Portal.Simulator.Terminals;

namespace Portal.Benchmarks;

/// <summary>
/// <c>sipcalls [calls=50] [seconds=20]</c> (issue 11): simultaneous alarm calls with audio both ways through the intercom's
/// media plane, alone in a child process: the portal's own SIP user agent (digest 407, the call rings) and, per call,
/// a <see cref="WebRtcEndpoint"/> peer joined to it by <see cref="SipIntercomBridge"/>, as the operator's answer builds it.
/// </summary>
/// <remarks>
/// <code>
/// simulated terminal --G.711 RTP--> [child: SipRtpLeg -> SipIntercomBridge -> WebRtcPeer SRTP] --SRTP--> operator peer (C#: ICE, DTLS, SRTP)
/// operator peer --SRTP G.711--> [child: WebRtcPeer -> SipIntercomBridge -> SipRtpLeg] --RTP--> simulated terminal
/// </code>
/// The operator is a headless C# WebRTC peer (<see cref="WebRtcViewer"/> in audio mode), not a browser: the browser
/// path reaches the same <c>IntercomService.ConnectAsync</c> through Blazor, which a benchmark cannot drive without
/// Chromium. Every packet carries its send time (Stopwatch ticks, the same clock in both processes) in its first 8
/// payload bytes, which no hop changes (no transcoding); the delay printed is send → receive across the media plane on
/// 127.0.0.1, so it includes both loopback hops and the benchmark's own sends and receives (an upper bound of what the
/// media plane adds). CPU and memory are the child's, from /proc/&lt;pid&gt;/stat and /proc/&lt;pid&gt;/status:
/// idle before the calls, then with every call up. Bounded by count and time.
/// </remarks>
public static class SipCallsBenchmark
{
    public const string Usage = "sipcalls [calls=50] [seconds=20]";

    private const int PayloadBytes = 160; // 20 ms of G.711 at 8 kHz
    private const int HeaderBytes = 12;

    public static async Task<int> RunAsync(string[] args)
    {
        if (args.FirstOrDefault() == "serve")
        {
            return await ServeAsync().ConfigureAwait(false);
        }

        var calls = Arg(args, 0, 50);
        var seconds = Arg(args, 1, 20);
        Console.WriteLine($"SIP intercom calls: {calls} simultaneous alarm calls, G.711 both ways every 20 ms for {seconds} s, media plane alone in a child process (127.0.0.1)");
        using var server = StartServer();
        var terminals = new List<CallLeg>();
        var operators = new List<WebRtcViewer>();
        try
        {
            var port = int.Parse(await ReadLineAsync(server, "READY").ConfigureAwait(false), CultureInfo.InvariantCulture);
            var portal = new SipEndPoint(SipTransportProtocol.Udp, new IPEndPoint(IPAddress.Loopback, port));
            await using var fleet = SimulatedTerminalFleet.Start(portal, NullLoggerFactory.Instance);
            var certificate = DtlsCertificate.Generate();

            // Idle: the SIP stack and the WebRTC endpoint listening, no call.
            await Task.Delay(2000).ConfigureAwait(false);
            var idle = ProcStat.Read(server.Id);
            await Task.Delay(3000).ConfigureAwait(false);
            var idleEnd = ProcStat.Read(server.Id);
            var idleCores = (idleEnd.CpuSeconds - idle.CpuSeconds) / Stopwatch.GetElapsedTime(idle.At, idleEnd.At).TotalSeconds;

            var connectClock = Stopwatch.StartNew();
            var failed = 0;
            ProcStat? first = null;
            for (var i = 0; i < calls; i++)
            {
                if (terminals.Count == 1 && first is null)
                {
                    first = ProcStat.Read(server.Id); // the first call paid for the code paths' JIT and first allocations
                }

                var account = "terminal-" + i.ToString("D5", CultureInfo.InvariantCulture);
                try
                {
                    var (leg, peer) = await ConnectAsync(server, fleet, port, account, certificate).ConfigureAwait(false);
                    terminals.Add(leg);
                    operators.Add(peer);
                }
                catch (Exception ex) when (ex is IOException or TimeoutException or OperationCanceledException or InvalidOperationException or FormatException)
                {
                    failed++;
                    Console.WriteLine($"  call {account} failed: {ex.Message}");
                }
            }

            Console.WriteLine(FormattableString.Invariant($"  {terminals.Count} of {calls} calls up (INVITE, 407, 180, operator offer/answer, ICE, DTLS, 200, ACK) in {connectClock.Elapsed.TotalSeconds:0.0} s"));
            if (terminals.Count == 0)
            {
                return 1;
            }

            // Audio both ways: warm for 2 s (not counted), then the measured window.
            using var sending = new CancellationTokenSource();
            var sender = SendAsync(terminals, operators, sending.Token);
            await Task.Delay(2000).ConfigureAwait(false);
            foreach (var leg in terminals)
            {
                leg.ToTerminal.Reset();
                leg.ToOperator.Reset();
            }

            var before = ProcStat.Read(server.Id);
            var machineBefore = MachineCpu.Read();
            await Task.Delay(TimeSpan.FromSeconds(seconds)).ConfigureAwait(false);
            var after = ProcStat.Read(server.Id);
            var machine = MachineCpu.Read() - machineBefore;
            await sending.CancelAsync().ConfigureAwait(false);
            await sender.ConfigureAwait(false);

            var wall = Stopwatch.GetElapsedTime(before.At, after.At).TotalSeconds;
            var cores = (after.CpuSeconds - before.CpuSeconds) / wall;
            var n = terminals.Count;
            var up = terminals.SelectMany(t => t.ToOperator.Snapshot()).Order().ToList();
            var down = terminals.SelectMany(t => t.ToTerminal.Snapshot()).Order().ToList();
            var expected = (long)(wall * 50) * n;
            Console.WriteLine(FormattableString.Invariant(
                $"  media plane process: CPU {100 * cores:0.0} % of one core with {n} calls (idle {100 * idleCores:0.0} %) = {100 * (cores - idleCores) / n:0.00} % of a core per call"));
            var one = first ?? after;
            Console.WriteLine(FormattableString.Invariant(
                $"  memory: RSS {idle.RssBytes / 1048576.0:0.0} MiB idle, {one.RssBytes / 1048576.0:0.0} MiB with the first call, {after.RssBytes / 1048576.0:0.0} MiB with {n} calls = {(after.RssBytes - one.RssBytes) / 1024.0 / Math.Max(1, n - 1):0} KiB per further call ({(after.RssBytes - idle.RssBytes) / 1024.0 / n:0} KiB per call from idle, JIT included)"));
            Console.WriteLine(FormattableString.Invariant(
                $"  terminal RTP -> operator SRTP, one way: p50 {Percentiles.Of(up, 0.5):0.00} ms, p99 {Percentiles.Of(up, 0.99):0.00} ms, max {(up.Count > 0 ? up[^1] : double.NaN):0.00} ms, {up.Count} packets (~{expected} sent)"));
            Console.WriteLine(FormattableString.Invariant(
                $"  operator SRTP -> terminal RTP, one way: p50 {Percentiles.Of(down, 0.5):0.00} ms, p99 {Percentiles.Of(down, 0.99):0.00} ms, max {(down.Count > 0 ? down[^1] : double.NaN):0.00} ms, {down.Count} packets (~{expected} sent)"));
            Console.WriteLine(FormattableString.Invariant(
                $"  load: whole machine {machine.BusyPercent:0} % busy over {Environment.ProcessorCount} cores during the window (shared); delays include both loopback hops and this process's own send and receive"));
            return failed == 0 ? 0 : 1;
        }
        finally
        {
            foreach (var peer in operators)
            {
                await peer.DisposeAsync().ConfigureAwait(false);
            }

            foreach (var leg in terminals)
            {
                await leg.Call.HangUpAsync().ConfigureAwait(false);
            }

            await StopServerAsync(server).ConfigureAwait(false);
        }
    }

    /// <summary>One press answered by one operator peer: the terminal calls 110, the child rings, the operator's offer is answered, the call connects.</summary>
    private static async Task<(CallLeg Leg, WebRtcViewer Peer)> ConnectAsync(Process server, SimulatedTerminalFleet fleet, int port, string account, DtlsCertificate certificate)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var ringing = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var call = fleet.Agent.CallAsync(new SipUri("127.0.0.1", "110", port), fleet.Portal, (account, DemoCity.DemoSipPassword(account)),
            onRinging: _ => ringing.TrySetResult(), cancellationToken: timeout.Token);
        await Task.WhenAny(ringing.Task, call).WaitAsync(timeout.Token).ConfigureAwait(false);
        if (!ringing.Task.IsCompleted)
        {
            var refused = await call.ConfigureAwait(false);
            throw new InvalidOperationException($"no 180: {refused.Status} {refused.Reason}");
        }

        var toOperator = new DelaySink();
        var peer = new WebRtcViewer(certificate, toOperator, audio: true);
        try
        {
            await server.StandardInput.WriteLineAsync("OFFER " + account + " " + Convert.ToBase64String(Encoding.UTF8.GetBytes(peer.CreateOffer()))).ConfigureAwait(false);
            var answer = await ReadLineAsync(server, "ANSWER").ConfigureAwait(false);
            if (answer.Length == 0)
            {
                throw new InvalidOperationException("the media plane refused the operator's offer");
            }

            await peer.ConnectAsync(Encoding.UTF8.GetString(Convert.FromBase64String(answer)), TimeSpan.FromSeconds(20)).ConfigureAwait(false);
            var result = await call.WaitAsync(timeout.Token).ConfigureAwait(false);
            if (result.Call is not { } connected)
            {
                throw new InvalidOperationException($"not answered: {result.Status} {result.Reason}");
            }

            var toTerminal = new DelaySink();
            connected.Media.Audio.RtpReceived += (_, packet) => toTerminal.WriteRtp(WebRtcViewer.AudioTrack, packet);
            return (new CallLeg(connected, toOperator, toTerminal), peer);
        }
        catch
        {
            await peer.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Every 20 ms each terminal sends one G.711 packet and each operator one SRTP packet, each stamped with its send time.</summary>
    private static async Task SendAsync(List<CallLeg> terminals, List<WebRtcViewer> operators, CancellationToken ct)
    {
        var buffer = new byte[HeaderBytes + PayloadBytes + 64];
        ushort sequence = 0;
        uint timestamp = 0;
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(20));
        try
        {
            while (await timer.WaitForNextTickAsync(ct).ConfigureAwait(false))
            {
                sequence++;
                timestamp += PayloadBytes;
                for (var i = 0; i < terminals.Count; i++)
                {
                    WriteRtp(buffer, sequence, timestamp, 0x7E57_0000u + (uint)i);
                    terminals[i].Call.Media.Audio.SendRtp(buffer.AsSpan(0, HeaderBytes + PayloadBytes));
                    WriteRtp(buffer, sequence, timestamp, WebRtcViewer.OperatorSsrc);
                    operators[i].SendRtp(buffer, HeaderBytes + PayloadBytes);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static void WriteRtp(Span<byte> buffer, ushort sequence, uint timestamp, uint ssrc)
    {
        buffer[0] = 0x80;
        buffer[1] = 0; // PCMU
        BinaryPrimitives.WriteUInt16BigEndian(buffer[2..], sequence);
        BinaryPrimitives.WriteUInt32BigEndian(buffer[4..], timestamp);
        BinaryPrimitives.WriteUInt32BigEndian(buffer[8..], ssrc);
        buffer.Slice(HeaderBytes, PayloadBytes).Fill(0xFF); // μ-law silence
        BinaryPrimitives.WriteInt64BigEndian(buffer[HeaderBytes..], Stopwatch.GetTimestamp());
    }

    private sealed record CallLeg(SipCall Call, DelaySink ToOperator, DelaySink ToTerminal);

    /// <summary>Send → receive delay of each packet, from the send time in its first 8 payload bytes.</summary>
    private sealed class DelaySink : IMediaSink
    {
        private readonly Lock _lock = new();
        private List<double> _delays = new(4096);

        public void WriteRtp(MediaTrack track, ReadOnlySpan<byte> packet)
        {
            var now = Stopwatch.GetTimestamp();
            if (packet.Length < HeaderBytes + 8)
            {
                return;
            }

            var offset = HeaderBytes + (4 * (packet[0] & 0x0F));
            if ((packet[0] & 0x10) != 0 && packet.Length >= offset + 4)
            {
                offset += 4 + (4 * BinaryPrimitives.ReadUInt16BigEndian(packet[(offset + 2)..]));
            }

            if (packet.Length < offset + 8)
            {
                return;
            }

            var sent = BinaryPrimitives.ReadInt64BigEndian(packet[offset..]);
            var ms = (now - sent) * 1000.0 / Stopwatch.Frequency;
            if (ms is < 0 or > 10_000)
            {
                return; // not one of ours (e.g. the peer's own silence or a probe)
            }

            lock (_lock)
            {
                _delays.Add(ms);
            }
        }

        public void Reset()
        {
            lock (_lock)
            {
                _delays = new List<double>(4096);
            }
        }

        public List<double> Snapshot()
        {
            lock (_lock)
            {
                return [.. _delays];
            }
        }
    }

    /// <summary>CPU time and resident memory of a process from /proc (Linux).</summary>
    private readonly record struct ProcStat(double CpuSeconds, long RssBytes, long At)
    {
        private const double ClockTicks = 100; // USER_HZ on Linux

        public static ProcStat Read(int pid)
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            var cpu = (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / ClockTicks;
            var rss = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
            var kib = long.Parse(rss.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
            return new ProcStat(cpu, kib * 1024, Stopwatch.GetTimestamp());
        }
    }

    /// <summary>The child: the portal's SIP user agent with digest (demo accounts), a WebRTC endpoint, and the intercom bridge per answered call.</summary>
    private static async Task<int> ServeAsync()
    {
        var time = TimeProvider.System;
        var loggers = NullLoggerFactory.Instance;
        await using var layer = new SipTransactionLayer(new SipOptions { MaxRequestsPerSourcePerSecond = 0 }, loggers, time);
        layer.AddTransport(new SipUdpTransport(new IPEndPoint(IPAddress.Loopback, 0), NullLogger<SipUdpTransport>.Instance));
        var digest = new SipDigestAuthenticator("portal", ["MD5"], TimeSpan.FromMinutes(5), time);
        var authenticator = new SipAuthenticator(new DemoAccounts(), digest, new SipAuthThrottle(new SipAuthThrottleOptions(), time), NullLogger<SipAuthenticator>.Instance);
        var ringing = new System.Collections.Concurrent.ConcurrentDictionary<string, SipCall>(StringComparer.Ordinal);
        await using var agent = new SipUserAgent(layer, new SipUserAgentOptions { RtpBindAddress = IPAddress.Loopback }, authenticator, null, NullLogger<SipUserAgent>.Instance)
        {
            IncomingCall = (call, _) =>
            {
                ringing[call.Account!.Username] = call;
                return Task.FromResult(SipCallDecision.Ring);
            },
        };
        layer.Start();
        await using var endpoint = new WebRtcEndpoint(new WebRtcEndpointOptions { BindAddress = IPAddress.Loopback, Port = 0, AnnouncedAddress = IPAddress.Loopback }, loggers);
        endpoint.Start();
        var bridges = new List<SipIntercomBridge>();
        Console.WriteLine("READY " + layer.Transports[0].LocalEndPoint.Port.ToString(CultureInfo.InvariantCulture));
        while (await Console.In.ReadLineAsync().ConfigureAwait(false) is { } line)
        {
            if (line == "QUIT")
            {
                break;
            }

            var parts = line.Split(' ');
            if (parts is not ["OFFER", var account, var offer])
            {
                continue;
            }

            if (!ringing.TryRemove(account, out var call) || !endpoint.TryCreatePeer(Encoding.UTF8.GetString(Convert.FromBase64String(offer)), out var peer, out var error, [call.Plan?.Audio?.Codec.Name ?? Codec.Pcmu]))
            {
                await Console.Error.WriteLineAsync("offer for " + account + " refused").ConfigureAwait(false);
                Console.WriteLine("ANSWER ");
                continue;
            }

            bridges.Add(SipIntercomBridge.Attach(call.Media, peer, time));
            Console.WriteLine("ANSWER " + Convert.ToBase64String(Encoding.UTF8.GetBytes(peer.AnswerSdp)));
            _ = call.AnswerAsync();
        }

        foreach (var bridge in bridges)
        {
            bridge.Dispose();
        }

        return 0;
    }

    /// <summary>The demo city's terminal accounts: terminal-nnnnn with its demo password.</summary>
    private sealed class DemoAccounts : ISipAccountDirectory
    {
        public ValueTask<SipAccount?> FindAsync(string username, CancellationToken cancellationToken) =>
            ValueTask.FromResult<SipAccount?>(username.StartsWith("terminal-", StringComparison.Ordinal) && int.TryParse(username.AsSpan(9), NumberStyles.None, CultureInfo.InvariantCulture, out var id)
                ? new SipAccount(username, DemoCity.DemoSipPassword(username), true, id + 1)
                : null);
    }

    private static Process StartServer()
    {
        var start = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardInput = true, RedirectStandardOutput = true };
        foreach (var arg in new[] { Path.Combine(AppContext.BaseDirectory, "Portal.Benchmarks.dll"), "sipcalls", "serve" })
        {
            start.ArgumentList.Add(arg);
        }

        return Process.Start(start) ?? throw new InvalidOperationException("media plane process did not start");
    }

    private static async Task StopServerAsync(Process server)
    {
        try
        {
            await server.StandardInput.WriteLineAsync("QUIT").ConfigureAwait(false);
            await server.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(15)).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or TimeoutException or InvalidOperationException)
        {
            server.Kill(entireProcessTree: true);
        }
    }

    /// <summary>The rest of the child's next line that starts with <paramref name="prefix"/>; other lines are echoed.</summary>
    private static async Task<string> ReadLineAsync(Process server, string prefix)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (await server.StandardOutput.ReadLineAsync(timeout.Token).ConfigureAwait(false) is { } line)
        {
            if (line.StartsWith(prefix, StringComparison.Ordinal))
            {
                return line[prefix.Length..].Trim();
            }

            Console.WriteLine("  media plane: " + line);
        }

        throw new IOException("media plane process ended");
    }

    private static int Arg(string[] args, int index, int fallback) =>
        args.Length > index && int.TryParse(args[index], NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) && value > 0 ? value : fallback;
}
