using System.Diagnostics;
using System.Globalization;
using System.Text;
using Portal.Benchmarks.Harness;
using Portal.Core.Demo;

namespace Portal.Benchmarks;

/// <summary>
/// The registration storm driven by Debian's SIPp (package sip-tester, <c>/usr/bin/sipp</c>) instead of our own client:
/// every account of an injection CSV (account; its digest credentials as SIPp's <c>[authentication]</c> keyword) registers
/// once (REGISTER → 401 → REGISTER with MD5 digest → 200) at a fixed offered rate (<c>-r</c>) with at most <c>-l</c> in
/// flight, bounded by count (<c>-m</c>) and time (<c>-timeout</c>), on 127.0.0.1. Each REGISTER's response time is
/// taken by SIPp itself (<c>-trace_rtt</c>: response-time repartition 1 is the 401, 2 the 200).
/// </summary>
public static class SipStormSipp
{
    public const string SippPath = "/usr/bin/sipp";

    /// <summary>One SIPp run: registrations offered and completed, REGISTER/s sustained, REGISTER response times.</summary>
    public sealed record Result(int Offered, int Registered, int Failed, double Seconds, double RegistersPerSecond, double P50Ms, double P99Ms, double MaxMs, string? Problem)
    {
        /// <summary>CPU the registrar used during the run (its process and direct children: Kamailio's workers), seconds.</summary>
        public double CpuSeconds { get; init; } = double.NaN;

        public double CpuMsPerThousand => 1_000_000 * CpuSeconds / Math.Max(1, 2 * Registered);
    }

    public static bool IsInstalled => File.Exists(SippPath);

    /// <summary>Prints why SIPp cannot run (no stack trace): it is not installed.</summary>
    public static string MissingMessage => $"  sipp: not installed ({SippPath}; apt-get install -y sip-tester), no SIPp storm";

    /// <summary>Runs one storm of <paramref name="accounts"/> against 127.0.0.1:<paramref name="port"/>, counting the CPU of <paramref name="registrarPid"/> and its children.</summary>
    public static async Task<Result> RunAsync(int port, IReadOnlyList<string> accounts, int rate, int limit, TimeSpan timeout, int registrarPid)
    {
        var cpuBefore = TreeCpuSeconds(registrarPid);
        var result = await RunAsync(port, accounts, rate, limit, timeout).ConfigureAwait(false);
        return result with { CpuSeconds = TreeCpuSeconds(registrarPid) - cpuBefore };
    }

    /// <summary>User and system CPU seconds of a process and its direct children, from /proc (Linux; NaN elsewhere).</summary>
    public static double TreeCpuSeconds(int pid)
    {
        var total = 0.0;
        try
        {
            foreach (var folder in Directory.EnumerateDirectories("/proc"))
            {
                if (!int.TryParse(Path.GetFileName(folder), NumberStyles.None, CultureInfo.InvariantCulture, out var id))
                {
                    continue;
                }

                string stat;
                try
                {
                    stat = File.ReadAllText(Path.Combine(folder, "stat"));
                }
                catch (IOException)
                {
                    continue; // ended meanwhile
                }

                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                var parent = int.Parse(fields[1], CultureInfo.InvariantCulture);
                if (id == pid || parent == pid)
                {
                    total += (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0; // USER_HZ
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return double.NaN;
        }

        return total;
    }

    private static async Task<Result> RunAsync(int port, IReadOnlyList<string> accounts, int rate, int limit, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(accounts);
        var folder = Path.Combine(Path.GetTempPath(), "portal-sipp-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        try
        {
            var scenario = Path.Combine(folder, "register.xml");
            await File.WriteAllTextAsync(scenario, Scenario).ConfigureAwait(false);
            var users = new StringBuilder("SEQUENTIAL\n");
            foreach (var account in accounts)
            {
                users.Append(account).Append(";[authentication username=").Append(account).Append(" password=").Append(DemoCity.DemoSipPassword(account)).Append("]\n");
            }

            var csv = Path.Combine(folder, "users.csv");
            await File.WriteAllTextAsync(csv, users.ToString()).ConfigureAwait(false);
            var start = new ProcessStartInfo(SippPath)
            {
                UseShellExecute = false,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                WorkingDirectory = folder,
            };
            foreach (var arg in new[]
            {
                "127.0.0.1:" + port.ToString(CultureInfo.InvariantCulture), "-sf", scenario, "-inf", csv, "-i", "127.0.0.1",
                "-p", FreePorts.UdpAndTcp().ToString(CultureInfo.InvariantCulture), "-t", "u1",
                "-m", accounts.Count.ToString(CultureInfo.InvariantCulture), "-r", rate.ToString(CultureInfo.InvariantCulture),
                "-l", limit.ToString(CultureInfo.InvariantCulture), "-nostdin", "-timeout", ((int)timeout.TotalSeconds).ToString(CultureInfo.InvariantCulture) + "s",
                "-trace_rtt", "-rtt_freq", "50",
            })
            {
                start.ArgumentList.Add(arg);
            }

            using var process = Process.Start(start) ?? throw new InvalidOperationException("sipp did not start");
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            using var hard = new CancellationTokenSource(timeout + TimeSpan.FromSeconds(30));
            try
            {
                await process.WaitForExitAsync(hard.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync().ConfigureAwait(false);
            }

            var screen = await stdout.ConfigureAwait(false);
            var errors = (await stderr.ConfigureAwait(false)).Trim();
            return Read(folder, accounts.Count, process.ExitCode, errors, screen);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    public static void Print(string who, Result r) =>
        Console.WriteLine(r.Problem is not null && r.Registered == 0
            ? $"  {who} sipp: {r.Problem}"
            : FormattableString.Invariant(
                $"  {who} sipp: {r.Offered} digest registrations, {r.Registered} done in {r.Seconds:0.00} s = {r.RegistersPerSecond:0} REGISTER/s sustained ({r.RegistersPerSecond / 2:0} registrations/s), REGISTER response p50 {r.P50Ms:0.0} ms, p99 {r.P99Ms:0.0} ms, max {r.MaxMs:0.0} ms, failed {r.Failed}, registrar CPU {r.CpuMsPerThousand:0} ms per 1,000 REGISTER{(r.Problem is null ? string.Empty : " (" + r.Problem + ")")}"));

    /// <summary>
    /// The rtt trace (<c>Date_ms;response_time_ms;rtd_no</c>: ms since SIPp started, whole ms; written every 50 values,
    /// so the last few may be missing) for the response times and the span; the final statistics screen for the counts.
    /// </summary>
    private static Result Read(string folder, int offered, int exitCode, string errors, string screen)
    {
        var times = new List<double>(2 * offered);
        double first = double.MaxValue, last = double.MinValue;
        var registered = Counter(screen, "Successful call");
        var failed = Counter(screen, "Failed call");
        foreach (var file in Directory.GetFiles(folder, "*_rtt.csv"))
        {
            foreach (var line in File.ReadLines(file))
            {
                var fields = line.Split(';');
                if (fields.Length < 3 || !double.TryParse(fields[0], NumberStyles.Float, CultureInfo.InvariantCulture, out var at)
                    || !double.TryParse(fields[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var ms))
                {
                    continue; // the header
                }

                times.Add(ms);
                first = Math.Min(first, at - ms);
                last = Math.Max(last, at);
            }
        }

        times.Sort();
        var seconds = times.Count == 0 ? 0 : (last - first) / 1000;
        var problem = exitCode switch
        {
            0 => null,
            1 => "sipp exit 1: some registrations failed",
            _ => $"sipp exit {exitCode}{(errors.Length > 0 ? ": " + errors[..Math.Min(errors.Length, 300)] : string.Empty)}",
        };
        return new Result(offered, registered, Math.Max(failed, offered - registered), seconds, seconds > 0 ? 2 * registered / seconds : 0,
            Percentiles.Of(times, 0.5), Percentiles.Of(times, 0.99), times.Count == 0 ? double.NaN : times[^1], problem);
    }

    /// <summary>The cumulative value of a counter on SIPp's last statistics screen (<c>  Successful call | 0 | 9999</c>).</summary>
    private static int Counter(string screen, string name)
    {
        var line = screen.Split('\n').LastOrDefault(l => l.TrimStart().StartsWith(name, StringComparison.Ordinal));
        var value = line?.Split('|').LastOrDefault()?.Trim();
        return int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var count) ? count : 0;
    }

    // Both REGISTERs timed separately (rtd 1: REGISTER → 401, rtd 2: REGISTER with credentials → 200). To and From are
    // the account at the realm's domain, as the demo terminals register; the To user is the account the digest must name.
    private const string Scenario = """
        <?xml version="1.0" encoding="ISO-8859-1" ?>
        <scenario name="storm">
          <send retrans="500" start_rtd="1">
            <![CDATA[
              REGISTER sip:portal SIP/2.0
              Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
              From: <sip:[field0]@portal>;tag=[call_number]
              To: <sip:[field0]@portal>
              Call-ID: [call_id]
              CSeq: 1 REGISTER
              Contact: <sip:[field0]@[local_ip]:[local_port]>
              Max-Forwards: 70
              Expires: 600
              Content-Length: 0

            ]]>
          </send>
          <recv response="401" auth="true" rtd="1"/>
          <send retrans="500" start_rtd="2">
            <![CDATA[
              REGISTER sip:portal SIP/2.0
              Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
              From: <sip:[field0]@portal>;tag=[call_number]
              To: <sip:[field0]@portal>
              Call-ID: [call_id]
              CSeq: 2 REGISTER
              Contact: <sip:[field0]@[local_ip]:[local_port]>
              [field1]
              Max-Forwards: 70
              Expires: 600
              Content-Length: 0

            ]]>
          </send>
          <recv response="200" rtd="2"/>
        </scenario>
        """;
}
