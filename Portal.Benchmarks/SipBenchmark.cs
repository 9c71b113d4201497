using System.Diagnostics;
using System.Globalization;
using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Portal.Benchmarks.Harness;
using Portal.Core.Demo;
using Portal.Media.Sip;
using Portal.Media.Sip.Transport;
using Portal.Simulator.Terminals;

namespace Portal.Benchmarks;

/// <summary>
/// <c>sip [terminals=10000] [presses=20] [inflight=64] [sipp-rate=1100] [sipp-limit=200]</c> (issue 11): a real portal
/// process (demo city with one terminal per school, MD5 digest as Kamailio's) and simulated SIP terminals on 127.0.0.1. Prints
/// <list type="bullet">
/// <item>a registration storm: every terminal registers with digest (REGISTER, 401, REGISTER with credentials, 200),
/// <c>inflight</c> at a time: registrations/s, the time of each whole registration (both round trips) p50/p95/p99, failures;
/// and the same storm, same client, against Debian's Kamailio as the registrar (2 children, in-memory usrloc, the same
/// accounts and passwords) when <c>/usr/sbin/kamailio</c> is installed;</item>
/// <item>the same storm driven by Debian's SIPp (<see cref="SipStormSipp"/>) at <c>sipp-rate</c> registrations/s offered
/// (two REGISTERs each), at most <c>sipp-limit</c> in flight, against the portal and then Kamailio: REGISTER/s sustained,
/// REGISTER response p50/p99, failures; then both side by side (sipp-rate 0: no SIPp phase);</item>
/// <item>presses one at a time: INVITE to the alarm number → 180 Ringing as the terminal sees it (the 407 round trip and
/// the alarm's commit included) p50/p95/p99; each press is then cancelled (its alarm stays open).</item>
/// </list>
/// Bounded: every phase has a fixed count and a timeout; everything runs on 127.0.0.1.
/// </summary>
public static class SipBenchmark
{
    public const string Usage = "sip [terminals=10000] [presses=20] [inflight=64] [sipp-rate=1100] [sipp-limit=200]";

    private static readonly TimeSpan SippTimeout = TimeSpan.FromSeconds(120);

    private const string KamailioPath = "/usr/sbin/kamailio";

    public static async Task<int> RunAsync(string[] args)
    {
        var terminals = Arg(args, 0, 10_000);
        var presses = Math.Min(Arg(args, 1, 20), terminals);
        var inflight = Arg(args, 2, 64);
        var sippRate = args.Length > 3 && args[3] == "0" ? 0 : Arg(args, 3, 1100);
        var sippLimit = Arg(args, 4, 200);
        Console.WriteLine($"SIP intercom: {terminals} terminals registering {inflight} at a time, then {presses} presses one at a time (127.0.0.1; portal's device health checks off; MD5 digest)");
        if (sippRate > 0)
        {
            Console.WriteLine(SipStormSipp.IsInstalled
                ? $"  then SIPp: {terminals} registrations offered at {sippRate}/s ({2 * sippRate} REGISTER/s), at most {sippLimit} in flight, against each registrar"
                : SipStormSipp.MissingMessage);
        }

        SipStormSipp.Result? portalSipp = null;

        await using var portal = await PortalProcess.StartAsync(new PortalProcessOptions
        {
            DemoSchoolCount = terminals,
            LogLevel = "Warning",
            EchoErrors = true,

            // Every simulated terminal sends from 127.0.0.1: lift the per-source request limit meant for the field.
            // The device health checks are off: in demo mode their first cycle probes every demo school's camera over
            // RTSP and ONVIF against simulated cameras served by the same process (both ends on the portal's cores), which
            // took most of the portal's CPU during the storm in a profile (dotnet-trace); Kamailio does neither.
            // MD5 only: SIPp answers only the topmost challenge and computes only MD5, and Kamailio's auth is MD5 too.
            Arguments = ["--Portal:Sip:MaxRequestsPerSourcePerSecond=0", "--Portal:Sip:DemoTerminals=0", "--Portal:Health:Enabled=false", "--Portal:Sip:DigestAlgorithms=MD5"],
        }).ConfigureAwait(false);
        var accounts = Enumerable.Range(0, terminals).Select(i => "terminal-" + i.ToString("D5", CultureInfo.InvariantCulture)).ToList();

        var portalEndPoint = new SipEndPoint(SipTransportProtocol.Udp, new IPEndPoint(IPAddress.Loopback, portal.SipPort));
        await using (var fleet = SimulatedTerminalFleet.Start(portalEndPoint, NullLoggerFactory.Instance))
        {
            // A short warm-up (JIT, the credential cache's first reads) on a few accounts, not counted.
            await StormAsync(fleet, accounts.Take(50).ToList(), inflight).ConfigureAwait(false);
            Print("portal ", await StormAsync(fleet, accounts, inflight).ConfigureAwait(false));
            if (sippRate > 0 && SipStormSipp.IsInstalled)
            {
                portalSipp = await SipStormSipp.RunAsync(portal.SipPort, accounts, sippRate, sippLimit, SippTimeout, portal.Process!.Id).ConfigureAwait(false);
                SipStormSipp.Print("portal  ", portalSipp);
            }

            await PressesAsync(fleet, portal, accounts.Skip(terminals - presses).ToList()).ConfigureAwait(false);
        }

        SipStormSipp.Result? kamailioSipp = null;
        if (File.Exists(KamailioPath))
        {
            kamailioSipp = await KamailioAsync(accounts, inflight, sippRate, sippLimit).ConfigureAwait(false);
        }
        else
        {
            Console.WriteLine($"  kamailio: not installed ({KamailioPath}; apt-get install -y kamailio), no comparison");
        }

        if (portalSipp is not null)
        {
            PrintSideBySide(portalSipp, kamailioSipp);
        }

        return 0;
    }

    private static void PrintSideBySide(SipStormSipp.Result portal, SipStormSipp.Result? kamailio)
    {
        Console.WriteLine("  SIPp storm side by side       REGISTER/s sustained   REGISTER p99   failed   CPU ms per 1,000 REGISTER");
        foreach (var (who, r) in new[] { ("portal", portal), ("kamailio (2 children)", kamailio) })
        {
            Console.WriteLine(r is null
                ? $"    {who,-28} (not run)"
                : FormattableString.Invariant($"    {who,-28} {r.RegistersPerSecond,20:0} {r.P99Ms,11:0.0} ms {r.Failed,8} {r.CpuMsPerThousand,14:0}"));
        }
    }

    private static async Task<SipStormSipp.Result?> KamailioAsync(List<string> accounts, int inflight, int sippRate, int sippLimit)
    {
        var folder = Path.Combine(Path.GetTempPath(), "portal-kamailio-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        var port = FreePorts.UdpAndTcp();
        var config = Path.Combine(folder, "kamailio.cfg");

        // A registrar only: digest against the demo terminals' passwords ("demo-sip-" + account, as the portal's demo
        // registry has them), bindings in memory, 2 worker processes.
        await File.WriteAllTextAsync(config, $$"""
            #!KAMAILIO
            debug=1
            log_stderror=yes
            children=2
            disable_tcp=yes
            listen=udp:127.0.0.1:{{port}}
            mpath="/usr/lib/x86_64-linux-gnu/kamailio/modules/"
            loadmodule "sl.so"
            loadmodule "tm.so"
            loadmodule "textops.so"
            loadmodule "pv.so"
            loadmodule "usrloc.so"
            loadmodule "registrar.so"
            loadmodule "auth.so"
            modparam("usrloc", "db_mode", 0)
            request_route {
                if (!is_method("REGISTER")) { sl_send_reply("405", "Method Not Allowed"); exit; }
                if (!pv_auth_check("portal", "{{DemoCity.DemoSipPasswordPrefix}}$fU", "0", "1")) { auth_challenge("portal", "0"); exit; }
                if (!save("location")) { sl_reply_error(); }
                exit;
            }
            """).ConfigureAwait(false);
        var start = new ProcessStartInfo(KamailioPath) { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var arg in new[] { "-f", config, "-DD", "-E", "-m", "256", "-M", "16", "-Y", folder })
        {
            start.ArgumentList.Add(arg);
        }

        using var kamailio = Process.Start(start)!;
        var errors = kamailio.StandardError.ReadToEndAsync();
        try
        {
            await using var fleet = SimulatedTerminalFleet.Start(new SipEndPoint(SipTransportProtocol.Udp, new IPEndPoint(IPAddress.Loopback, port)), NullLoggerFactory.Instance);

            // Kamailio listens within a second or two; the warm-up waits for it (a lost first REGISTER is retransmitted).
            var warm = await StormAsync(fleet, accounts.Take(50).ToList(), inflight).ConfigureAwait(false);
            if (warm.Failures == warm.Count)
            {
                Console.WriteLine("  kamailio: did not answer; its log:\n" + (kamailio.HasExited ? await errors.ConfigureAwait(false) : "(still running)"));
                return null;
            }

            Print("kamailio", await StormAsync(fleet, accounts, inflight).ConfigureAwait(false));
            if (sippRate > 0 && SipStormSipp.IsInstalled)
            {
                var result = await SipStormSipp.RunAsync(port, accounts, sippRate, sippLimit, SippTimeout, kamailio.Id).ConfigureAwait(false);
                SipStormSipp.Print("kamailio", result);
                return result;
            }

            return null;
        }
        finally
        {
            if (!kamailio.HasExited)
            {
                kamailio.Kill(entireProcessTree: true);
                await kamailio.WaitForExitAsync().ConfigureAwait(false);
            }

            Directory.Delete(folder, recursive: true);
        }
    }

    private sealed record Storm(int Count, int Failures, double Seconds, List<double> Milliseconds);

    /// <summary>Registers every account, <paramref name="inflight"/> at a time; each with a fresh client (a first registration: 401 then 200).</summary>
    private static async Task<Storm> StormAsync(SimulatedTerminalFleet fleet, List<string> accounts, int inflight)
    {
        var times = new List<double>(accounts.Count);
        var failures = 0;
        var next = -1;
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        var clock = Stopwatch.StartNew();
        var workers = Enumerable.Range(0, inflight).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < accounts.Count)
            {
                var client = new Media.Sip.Registrar.SipRegistrationClient(fleet.Layer, fleet.Portal, fleet.Domain, accounts[i], DemoCity.DemoSipPassword(accounts[i]));
                var started = Stopwatch.GetTimestamp();
                SipResponse response;
                try
                {
                    response = await client.RegisterAsync(600, timeout.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    Interlocked.Increment(ref failures);
                    continue;
                }

                var ms = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                lock (times)
                {
                    times.Add(ms);
                }

                if (response.StatusCode != SipStatus.Ok)
                {
                    Interlocked.Increment(ref failures);
                }
            }
        }).ToList();
        await Task.WhenAll(workers).ConfigureAwait(false);
        var seconds = clock.Elapsed.TotalSeconds;
        times.Sort();
        return new Storm(accounts.Count, failures, seconds, times);
    }

    private static void Print(string who, Storm storm) =>
        Console.WriteLine(FormattableString.Invariant(
            $"  {who} registrar: {storm.Count} digest registrations in {storm.Seconds:0.00} s = {(storm.Count - storm.Failures) / storm.Seconds:0} registrations/s ({2 * storm.Count / storm.Seconds:0} REGISTER requests/s), whole registration p50 {Percentiles.Of(storm.Milliseconds, 0.5):0.0} ms, p95 {Percentiles.Of(storm.Milliseconds, 0.95):0.0} ms, p99 {Percentiles.Of(storm.Milliseconds, 0.99):0.0} ms, failed {storm.Failures}"));

    private static async Task PressesAsync(SimulatedTerminalFleet fleet, PortalProcess portal, List<string> accounts)
    {
        var latencies = new List<double>(accounts.Count);
        var failures = 0;
        foreach (var account in accounts)
        {
            var rung = new TaskCompletionSource<double>(TaskCreationOptions.RunContinuationsAsynchronously);
            using var hangUp = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            var started = Stopwatch.GetTimestamp();
            var call = fleet.Agent.CallAsync(new SipUri("127.0.0.1", "110", portal.SipPort), fleet.Portal, (account, DemoCity.DemoSipPassword(account)),
                onRinging: _ => rung.TrySetResult(Stopwatch.GetElapsedTime(started).TotalMilliseconds), sendVideo: true, cancellationToken: hangUp.Token);
            if (await Task.WhenAny(rung.Task, call).ConfigureAwait(false) == rung.Task)
            {
                latencies.Add(await rung.Task.ConfigureAwait(false));
            }
            else
            {
                failures++;
            }

            await hangUp.CancelAsync().ConfigureAwait(false);
            await call.ConfigureAwait(false);
        }

        latencies.Sort();
        Console.WriteLine(FormattableString.Invariant(
            $"  press INVITE -> 180 Ringing (407 round trip and alarm commit included), n={latencies.Count}: p50 {Percentiles.Of(latencies, 0.5):0.0} ms, p95 {Percentiles.Of(latencies, 0.95):0.0} ms, p99 {Percentiles.Of(latencies, 0.99):0.0} ms, failed {failures}"));
    }

    private static int Arg(string[] args, int index, int fallback) =>
        args.Length > index && int.TryParse(args[index], NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) && value > 0 ? value : fallback;
}
