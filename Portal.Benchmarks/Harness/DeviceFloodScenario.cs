using System.Diagnostics;
using System.Net;
using Portal.Simulator.Terminals;

namespace Portal.Benchmarks.Harness;

/// <summary>What <see cref="DeviceFloodScenario"/> saw: the real terminal's answers with and without the flood, the portal's other answers, the flood.</summary>
public sealed record DeviceFloodFigures
{
    /// <summary>Answer times (ms) of the terminal's presses in quiet blocks, and in flooded blocks.</summary>
    public required IReadOnlyList<double> QuietMs { get; init; }

    public required IReadOnlyList<double> FloodMs { get; init; }

    /// <summary>Presses the terminal sent in all (warm-up included), and those not accepted ("status body").</summary>
    public required int PressesSent { get; init; }

    public required IReadOnlyList<string> PressesRefused { get; init; }

    /// <summary>Alarm ids the accepted presses were answered with (a press joins its terminal's open alarm).</summary>
    public required IReadOnlySet<int> AlarmIds { get; init; }

    /// <summary>The portal's other doors while flooded (GET /healthz, GET /account/login from 127.0.0.1): answer times and failures.</summary>
    public required IReadOnlyList<double> ProbeMs { get; init; }

    public required IReadOnlyList<string> ProbesFailed { get; init; }

    /// <summary>Flood requests sent, answered, and left unsent (a connection had 4,096 unanswered) during the measured blocks.</summary>
    public required long FloodSent { get; init; }

    public required long FloodAnswered { get; init; }

    public required long FloodSkipped { get; init; }

    /// <summary>Flood connections that ended before the flood did (closed by the portal, or failed), with what they left unanswered.</summary>
    public string FloodConnectionEnds { get; init; } = string.Empty;

    public required IReadOnlyDictionary<int, long> FloodAnswersByStatus { get; init; }

    /// <summary>
    /// Answers by status over the whole run, warm-up included, read after the last answer came in: exact, where the
    /// measured blocks' figures are taken while answers are in flight and may be off by the few arriving meanwhile.
    /// </summary>
    public required IReadOnlyDictionary<int, long> FloodAnswersByStatusWithWarmUp { get; init; }

    /// <summary>Every flood request sent and answered, the warm-up's included (what the portal must have counted).</summary>
    public required long FloodSentWithWarmUp { get; init; }

    public required long FloodAnsweredWithWarmUp { get; init; }

    public required double QuietSeconds { get; init; }

    public required double FloodSeconds { get; init; }

    /// <summary>The portal process's CPU time in quiet and in flooded blocks (zero when unknown).</summary>
    public TimeSpan PortalCpuQuiet { get; init; }

    public TimeSpan PortalCpuFlood { get; init; }

    /// <summary>Requests sent per second of flooded blocks.</summary>
    public double FloodPerSecond => FloodSeconds > 0 ? FloodSent / FloodSeconds : 0;

    public static double P(IReadOnlyList<double> times, double p) => Percentiles.Of([.. times.Order()], p);

    public IEnumerable<string> Lines()
    {
        static string Row(string name, IReadOnlyList<double> t) => t.Count == 0 ? name + ": none" : FormattableString.Invariant(
            $"{name}: {t.Count}, p50 {P(t, 0.5):0.0} ms, p95 {P(t, 0.95):0.0} ms, p99 {P(t, 0.99):0.0} ms, max {t.Max():0.0} ms");
        yield return Row("terminal presses, quiet blocks  ", QuietMs);
        yield return Row("terminal presses, flooded blocks", FloodMs);
        yield return FormattableString.Invariant(
            $"p99 flooded / quiet: {P(FloodMs, 0.99) / P(QuietMs, 0.99):0.00}x; presses sent {PressesSent}, refused {PressesRefused.Count}; alarms {AlarmIds.Count}")
            + (PressesRefused.Count > 0 ? " (first refusal: " + PressesRefused[0] + ")" : string.Empty);
        yield return Row("other requests while flooded (healthz, sign-in page)", ProbeMs)
            + (ProbesFailed.Count > 0 ? FormattableString.Invariant($"; {ProbesFailed.Count} failed, first: {ProbesFailed[0]}") : string.Empty);
        if (PortalCpuFlood > TimeSpan.Zero && FloodPerSecond > 0)
        {
            var quietRate = PortalCpuQuiet.TotalMilliseconds / QuietSeconds;
            var floodRate = PortalCpuFlood.TotalMilliseconds / FloodSeconds;
            yield return FormattableString.Invariant(
                $"portal CPU: quiet {quietRate:0} ms/s, flooded {floodRate:0} ms/s, i.e. {(floodRate - quietRate) / FloodPerSecond * 1000:0.0} ms per 1,000 flood requests");
        }

        yield return FormattableString.Invariant(
            $"flood: {FloodSent} sent in {FloodSeconds:0.0} s = {FloodPerSecond:0} requests/s, {FloodAnswered} answered, {FloodSkipped} not sent (4,096 unanswered on a connection); ")
            + string.Join(", ", FloodAnswersByStatus.OrderBy(p => p.Key).Select(p => FormattableString.Invariant($"{p.Key}: {p.Value}")))
            + (FloodConnectionEnds.Length == 0 ? string.Empty : "; connections ended early: " + FloodConnectionEnds);
    }
}

/// <summary>
/// Issue 14's "done when": a terminal presses at a steady rate from 127.0.0.1 while, in alternate blocks of presses, a
/// flood of unsigned and badly signed requests (half under the terminal's own serial) comes from another source address.
/// Quiet and flooded blocks alternate so that both see the same machine (a busy box drifts). While flooded, the portal's
/// other doors are probed once per 100 ms. Bounded: it ends after its blocks, and waits at most 10 s for the last answers.
/// Shared by the test (a few seconds, asserts) and the flood benchmark (a minute, prints).
/// </summary>
public static class DeviceFloodScenario
{
    private static readonly int[] Statuses = [200, 201, 400, 401, 409, 413, 429, 500, 503];

    /// <param name="portal">The portal's address (127.0.0.1).</param>
    /// <param name="serial">The pressing terminal; the badly signed half of the flood uses its serial too.</param>
    /// <param name="key">The terminal's key.</param>
    /// <param name="floodSource">Where the flood comes from, e.g. 127.0.0.2.</param>
    /// <param name="floodPerSecond">The flood's rate while on.</param>
    /// <param name="blocks">Blocks of presses, quiet and flooded in turn (quiet first).</param>
    /// <param name="pressesPerBlock">Presses per block.</param>
    /// <param name="pressesPerSecond">The terminal's pressing rate.</param>
    /// <param name="portalCpu">The portal process's CPU time so far, when known, to report what the flood costs it.</param>
    /// <param name="ct">Stops the run.</param>
    public static async Task<DeviceFloodFigures> RunAsync(Uri portal, string serial, string key, IPAddress floodSource,
        int floodPerSecond, int blocks, int pressesPerBlock, double pressesPerSecond, Func<TimeSpan>? portalCpu = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(portal);
        using var http = new HttpClient { BaseAddress = portal, Timeout = TimeSpan.FromSeconds(30) };
        using var probeHttp = new HttpClient { BaseAddress = portal, Timeout = TimeSpan.FromSeconds(30) };
        var terminal = new SignedAlarmClient(http, serial, key);
        var endpoint = new IPEndPoint(IPAddress.Parse(portal.Host), portal.Port);
        await using var flood = await DeviceApiFlood.StartAsync(endpoint, floodSource, serial, floodPerSecond, ct: ct).ConfigureAwait(false);

        var refused = new List<string>();
        var alarms = new HashSet<int>();
        var pressesSent = 0;
        void Record(AlarmPressResult press)
        {
            pressesSent++;
            if (press.Status is HttpStatusCode.OK or HttpStatusCode.Created)
            {
                using var answer = System.Text.Json.JsonDocument.Parse(press.Body);
                alarms.Add(answer.RootElement.GetProperty("alarmId").GetInt32());
            }
            else
            {
                refused.Add(FormattableString.Invariant($"{(int)press.Status} {press.Body}"));
            }
        }

        // Warm both paths up (JIT, connection pools, SQLite pages) before anything is measured.
        flood.Sending = true;
        for (var i = 0; i < 20; i++)
        {
            Record(await terminal.PressAsync(ct: ct).ConfigureAwait(false));
        }

        flood.Sending = false;
        var baseline = (flood.Answered, flood.Sent, flood.Skipped, Statuses: CountStatuses(flood));
        var quiet = new List<double>();
        var flooded = new List<double>();
        var probes = new List<double>();
        var probesFailed = new List<string>();
        var (quietTime, floodTime, cpuQuiet, cpuFlood) = (TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero);
        for (var block = 0; block < blocks; block++)
        {
            var withFlood = block % 2 == 1;
            flood.Sending = withFlood;
            var cpuAtStart = portalCpu?.Invoke() ?? TimeSpan.Zero;
            var clock = Stopwatch.StartNew();
            using var blockDone = new CancellationTokenSource();
            var probing = withFlood ? ProbeAsync(probeHttp, probes, probesFailed, blockDone.Token) : Task.CompletedTask;
            var presses = new List<Task<AlarmPressResult>>(pressesPerBlock);
            for (var i = 0; i < pressesPerBlock; i++)
            {
                var due = TimeSpan.FromSeconds(i / pressesPerSecond);
                if (due > clock.Elapsed)
                {
                    await Task.Delay(due - clock.Elapsed, ct).ConfigureAwait(false);
                }

                presses.Add(terminal.PressAsync(ct: ct));
            }

            foreach (var press in await Task.WhenAll(presses).ConfigureAwait(false))
            {
                Record(press);
                (withFlood ? flooded : quiet).Add(press.Elapsed.TotalMilliseconds);
            }

            await blockDone.CancelAsync().ConfigureAwait(false);
            await probing.ConfigureAwait(false);
            flood.Sending = false;
            var cpu = (portalCpu?.Invoke() ?? TimeSpan.Zero) - cpuAtStart;
            if (withFlood)
            {
                (floodTime, cpuFlood) = (floodTime + clock.Elapsed, cpuFlood + cpu);
            }
            else
            {
                (quietTime, cpuQuiet) = (quietTime + clock.Elapsed, cpuQuiet + cpu);
            }
        }

        // Let the last answers in before counting (bounded: a lost answer shows as answered < sent).
        // First a few of the senders' 5 ms ticks, so that a tick that began while the flood was still on has counted
        // what it sends.
        var settle = Stopwatch.StartNew();
        do
        {
            await Task.Delay(50, ct).ConfigureAwait(false);
        }
        while (flood.Answered < flood.Sent && settle.Elapsed < TimeSpan.FromSeconds(10));

        var statuses = CountStatuses(flood);
        return new DeviceFloodFigures
        {
            QuietMs = quiet,
            FloodMs = flooded,
            PressesSent = pressesSent,
            PressesRefused = refused,
            AlarmIds = alarms,
            ProbeMs = probes,
            ProbesFailed = probesFailed,
            FloodSent = flood.Sent - baseline.Sent,
            FloodAnswered = flood.Answered - baseline.Answered,
            FloodSkipped = flood.Skipped - baseline.Skipped,
            FloodConnectionEnds = flood.Ends,
            FloodAnswersByStatus = statuses.ToDictionary(p => p.Key, p => p.Value - baseline.Statuses.GetValueOrDefault(p.Key)),
            FloodAnswersByStatusWithWarmUp = statuses,
            FloodSentWithWarmUp = flood.Sent,
            FloodAnsweredWithWarmUp = flood.Answered,
            QuietSeconds = quietTime.TotalSeconds,
            FloodSeconds = floodTime.TotalSeconds,
            PortalCpuQuiet = cpuQuiet,
            PortalCpuFlood = cpuFlood,
        };
    }

    /// <summary>Until <paramref name="ct"/> ends: GET /healthz and the sign-in page in turn, one every 100 ms, each awaited.</summary>
    private static async Task ProbeAsync(HttpClient http, List<double> times, List<string> failed, CancellationToken ct)
    {
        string[] paths = ["/healthz", "/account/login"];
        for (var i = 0; !ct.IsCancellationRequested; i++)
        {
            var path = paths[i % paths.Length];
            var clock = Stopwatch.StartNew();
            try
            {
                // Not cancelled with the block: a probe under way is finished and counted.
                using var response = await http.GetAsync(path, CancellationToken.None).ConfigureAwait(false);
                await response.Content.ReadAsByteArrayAsync(CancellationToken.None).ConfigureAwait(false);
                times.Add(clock.Elapsed.TotalMilliseconds);
                if (response.StatusCode != HttpStatusCode.OK)
                {
                    failed.Add(FormattableString.Invariant($"{path}: {(int)response.StatusCode}"));
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                failed.Add(path + ": " + ex.Message);
            }

            try
            {
                await Task.Delay(100, ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private static Dictionary<int, long> CountStatuses(DeviceApiFlood flood) =>
        Statuses.Where(s => flood.AnswersWith(s) > 0).ToDictionary(s => s, flood.AnswersWith);
}
