using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using Dapper;
using Microsoft.Playwright;
using Portal.Benchmarks.Harness;
using Portal.Core.Data;
using Portal.Simulator.Terminals;

namespace Portal.Benchmarks;

/// <summary>
/// <c>alarms [consoles=10] [rate=50] [seconds=10] [burst=1000]</c>: a real portal process (Release build beside
/// this program, demo city, SQLite), N signed-in city consoles in Debian's Chromium, and simulated terminals
/// on the signed device API. Prints the time from each device request to the alarm's card appearing in each
/// console's DOM (p50/p95/p99) at a steady rate, then a burst: accepted, stored, shown, lost. Also prints the
/// CPU the portal and Chromium used per alarm during the steady phase. Diagnostics (environment variables):
/// <c>PORTAL_BENCH_TRACE=file.json</c> writes a Chromium trace of the first console during the steady phase;
/// <c>PORTAL_BENCH_CSS=rules</c> adds a style sheet to every console (to try a layout change without a rebuild);
/// <c>PORTAL_BENCH_SHOT=file.png</c> saves a screenshot of the first console after the steady phase.
/// </summary>
public static class AlarmBenchmark
{
    // Records when each alarm card first appears, on the page's own clock (same machine, same epoch).
    private const string Observer = """
        () => {
          window.__seen = {};
          const note = (e) => {
            if (e.nodeType !== 1) return;
            const cards = e.matches('[data-testid=alarm-card]') ? [e] : e.querySelectorAll('[data-testid=alarm-card]');
            for (const c of cards) { const id = c.dataset.alarmId; if (!(id in window.__seen)) window.__seen[id] = performance.timeOrigin + performance.now(); }
          };
          // Look only at what was added: scanning the whole board on every mutation would load the browsers.
          new MutationObserver(records => { for (const r of records) for (const n of r.addedNodes) note(n); })
            .observe(document.body, { childList: true, subtree: true });
          note(document.body);
        }
        """;

    public static async Task<int> RunAsync(string[] args)
    {
        var consoles = Arg(args, 0, 10);
        var rate = Arg(args, 1, 50);
        var seconds = Arg(args, 2, 10);
        var burst = Arg(args, 3, 1000);
        var steady = rate * seconds;
        const int WarmUp = 500;
        var schools = steady + burst + WarmUp + 10;

        await using var portal = await PortalProcess.StartAsync(new PortalProcessOptions { DemoSchoolCount = schools, LogLevel = "Warning", EchoErrors = true }).ConfigureAwait(false);
        var (url, folder, process) = (portal.BaseUrl, portal.DataFolder, portal.Process!);
        try
        {
            Console.WriteLine(FormattableString.Invariant($"portal up at {url} with {schools} demo schools"));
            Console.WriteLine(FormattableString.Invariant($"opening {consoles} consoles"));
            using var playwright = await Playwright.CreateAsync().ConfigureAwait(false);
            await using var browser = await Chromium.LaunchAsync(playwright, disableGpu: false).ConfigureAwait(false);
            var pages = new List<IPage>();
            for (var i = 0; i < consoles; i++)
            {
                pages.Add(await SignInAsync(browser, url).ConfigureAwait(false));
            }

            // A portal that has just started answers its first requests slowly and a console draws its first
            // alarms slowly (JIT and tiering, pools, key ring): warm both up, as a running city's portal is, and
            // wait until every console shows the warm-up alarms before measuring. These alarms stay open on the boards.
            Console.WriteLine(FormattableString.Invariant($"warming up with {WarmUp} presses at 50/s"));
            var warmIds = new Dictionary<int, double>();
            using (var warm = new HttpClient { BaseAddress = new Uri(url), Timeout = TimeSpan.FromSeconds(60) })
            {
                var warmClock = Stopwatch.StartNew();
                var warming = new List<Task<(int Id, double SentMs, HttpStatusCode Status, double RoundTripMs)>>();
                for (var i = 0; i < WarmUp; i++)
                {
                    var due = TimeSpan.FromSeconds(i / 50.0);
                    if (due > warmClock.Elapsed)
                    {
                        await Task.Delay(due - warmClock.Elapsed).ConfigureAwait(false);
                    }

                    warming.Add(PressAsync(warm, steady + burst + i));
                }

                foreach (var (id, sentMs, _, _) in await Task.WhenAll(warming).ConfigureAwait(false))
                {
                    warmIds[id] = sentMs;
                }
            }

            await CollectAsync(pages, warmIds, TimeSpan.FromSeconds(60)).ConfigureAwait(false);
            await Task.Delay(2000).ConfigureAwait(false);

            using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 256 }) { BaseAddress = new Uri(url), Timeout = TimeSpan.FromSeconds(120) };

            // Steady rate: one press every 1/rate s, each from its own terminal.
            var sent = new Dictionary<int, double>();
            var cdp = new List<ICDPSession>();
            foreach (var page in pages)
            {
                var session = await page.Context.NewCDPSessionAsync(page).ConfigureAwait(false);
                await session.SendAsync("Performance.enable").ConfigureAwait(false);
                cdp.Add(session);
            }

            // PORTAL_BENCH_TRACE=file.json: a Chromium trace of the first console during the steady phase (chrome://tracing, Perfetto).
            var tracePath = Environment.GetEnvironmentVariable("PORTAL_BENCH_TRACE");
            var traceEvents = new List<JsonElement>();
            var traceDone = new TaskCompletionSource();
            if (tracePath is not null)
            {
                cdp[0].Event("Tracing.dataCollected").OnEvent += (_, e) => { lock (traceEvents) { traceEvents.AddRange(e!.Value.GetProperty("value").EnumerateArray().Select(x => x.Clone())); } };
                cdp[0].Event("Tracing.tracingComplete").OnEvent += (_, _) => traceDone.TrySetResult();
                await cdp[0].SendAsync("Tracing.start", new Dictionary<string, object> { ["transferMode"] = "ReportEvents", ["categories"] = "devtools.timeline,v8,blink,cc,disabled-by-default-devtools.timeline" }).ConfigureAwait(false);
            }

            var before = await MetricsAsync(cdp).ConfigureAwait(false);
            process.Refresh();
            var portalCpu = process.TotalProcessorTime;
            var browserCpu = ChromiumCpuMs();
            var tasks = new List<Task<(int Id, double SentMs, HttpStatusCode Status, double RoundTripMs)>>();
            var clock = Stopwatch.StartNew();
            for (var i = 0; i < steady; i++)
            {
                var due = TimeSpan.FromSeconds((double)i / rate);
                if (due > clock.Elapsed)
                {
                    await Task.Delay(due - clock.Elapsed).ConfigureAwait(false);
                }

                tasks.Add(PressAsync(http, i));
            }

            var steadyResults = await Task.WhenAll(tasks).ConfigureAwait(false);
            foreach (var (id, sentMs, status, _) in steadyResults)
            {
                if (status == HttpStatusCode.Created)
                {
                    sent[id] = sentMs;
                }
            }

            process.Refresh();
            var portalCpuMs = (process.TotalProcessorTime - portalCpu).TotalMilliseconds;
            var browserCpuMs = ChromiumCpuMs() - browserCpu;
            var steadyWall = clock.Elapsed.TotalMilliseconds;
            var after = await MetricsAsync(cdp).ConfigureAwait(false);
            if (Environment.GetEnvironmentVariable("PORTAL_BENCH_SHOT") is { } shot)
            {
                await pages[0].ScreenshotAsync(new PageScreenshotOptions { Path = shot }).ConfigureAwait(false);
                Console.WriteLine("elements on the first console: " + await pages[0].EvaluateAsync<int>("() => document.querySelectorAll('*').length").ConfigureAwait(false));
                Console.WriteLine("running animations: " + await pages[0].EvaluateAsync<string>("() => document.getAnimations().map(a => (a.animationName || a.transitionProperty || 'anim') + ' on ' + (a.effect && a.effect.target ? a.effect.target.className : '?')).join('; ')").ConfigureAwait(false));
            }
            if (tracePath is not null)
            {
                await cdp[0].SendAsync("Tracing.end").ConfigureAwait(false);
                await traceDone.Task.WaitAsync(TimeSpan.FromSeconds(60)).ConfigureAwait(false);
                lock (traceEvents)
                {
                    File.WriteAllText(tracePath, JsonSerializer.Serialize(new { traceEvents }));
                }
            }

            var roundTrips = steadyResults.Select(r => r.RoundTripMs).Order().ToList();
            if (Environment.GetEnvironmentVariable("PORTAL_BENCH_SLOWEST") is not null)
            {
                var first = steadyResults.Min(r => r.SentMs);
                Console.WriteLine("  slowest device answers (ms after the start: ms): " + string.Join(", ", steadyResults.OrderByDescending(r => r.RoundTripMs).Take(12)
                    .Select(r => FormattableString.Invariant($"{r.SentMs - first:0}: {r.RoundTripMs:0}"))));
            }

            var latencies = await CollectAsync(pages, sent, TimeSpan.FromSeconds(30)).ConfigureAwait(false);
            Console.WriteLine(FormattableString.Invariant($"steady {rate}/s for {seconds} s, {consoles} consoles: {sent.Count} alarms accepted, {latencies.Count} card appearances"));
            Console.WriteLine(FormattableString.Invariant($"  device request -> 201 answer (alarm committed): p50 {Percentiles.Of(roundTrips, 0.50):0.0} ms, p95 {Percentiles.Of(roundTrips, 0.95):0.0} ms, p99 {Percentiles.Of(roundTrips, 0.99):0.0} ms"));
            Console.WriteLine(FormattableString.Invariant($"  device request -> card in DOM: p50 {Percentiles.Of(latencies, 0.50):0.0} ms, p95 {Percentiles.Of(latencies, 0.95):0.0} ms, p99 {Percentiles.Of(latencies, 0.99):0.0} ms, max {latencies.Max():0.0} ms"));

            Console.WriteLine(FormattableString.Invariant($"  CPU during the steady phase ({steadyWall / 1000:0.0} s): portal {portalCpuMs / steadyWall * 100:0}% of a core = {portalCpuMs / steady:0.00} ms per alarm; Chromium (all processes) {browserCpuMs / steadyWall * 100:0}% = {browserCpuMs / steady:0.00} ms per alarm"));
            Console.WriteLine(FormattableString.Invariant($"  main-thread time per alarm in each console page (mean of {pages.Count}; wall time, so it grows when the cores are short):"));
            Console.WriteLine("    " + string.Join(", ", after.Keys.Select(k => FormattableString.Invariant($"{k} {(after[k] - before[k]) * 1000 / pages.Count / steady:0.00} ms"))));

            // Burst: every press at once.
            var burstClock = Stopwatch.StartNew();
            var burstResults = await Task.WhenAll(Enumerable.Range(steady, burst).Select(i => PressAsync(http, i))).ConfigureAwait(false);
            var acceptedTime = burstClock.Elapsed;
            var accepted = burstResults.Where(r => r.Status == HttpStatusCode.Created).ToDictionary(r => r.Id, r => r.SentMs);
            var db = new Db(Db.SqliteConnectionString(Path.Combine(folder, "portal.db")), SqlDialect.Sqlite);
            await using var connection = db.Open();
            var stored = await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM Alarm WHERE Id IN @ids", new { ids = accepted.Keys.ToArray() }).ConfigureAwait(false);
            var burstLatencies = await CollectAsync(pages, accepted, TimeSpan.FromSeconds(120)).ConfigureAwait(false);
            var shownPerPage = await Task.WhenAll(pages.Select(p => p.EvaluateAsync<int>(
                "ids => ids.filter(id => (String(id) in window.__seen)).length", accepted.Keys.ToArray()))).ConfigureAwait(false);
            Console.WriteLine(FormattableString.Invariant($"burst of {burst}: accepted {accepted.Count} in {acceptedTime.TotalSeconds:0.00} s, stored {stored}, shown on every console: min {shownPerPage.Min()} max {shownPerPage.Max()}, lost {accepted.Count - shownPerPage.Min()}"));
            Console.WriteLine(FormattableString.Invariant($"  burst request -> card in DOM: p50 {Percentiles.Of(burstLatencies, 0.50):0} ms, p99 {Percentiles.Of(burstLatencies, 0.99):0} ms, last {burstLatencies.DefaultIfEmpty().Max():0} ms"));
            return accepted.Count == burst && stored == burst && shownPerPage.Min() == burst ? 0 : 2;
        }
        finally
        {
            await portal.KillAsync().ConfigureAwait(false);
        }
    }

    /// <summary>CPU time of every Chromium process on the machine, from /proc (Linux), in ms.</summary>
    private static double ChromiumCpuMs()
    {
        var ticks = 0L;
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            try
            {
                if (!File.ReadAllText(Path.Combine(dir, "cmdline")).StartsWith("/usr/lib/chromium/", StringComparison.Ordinal))
                {
                    continue;
                }

                // Fields after the command name in parentheses: utime and stime are the 12th and 13th.
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                ticks += long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }

        return ticks * 10.0; // USER_HZ is 100 on Linux
    }

    private static readonly string[] PageMetrics = ["TaskDuration", "ScriptDuration", "LayoutDuration", "RecalcStyleDuration"];

    /// <summary>Sums the pages' main-thread time (Chromium's Performance domain, seconds) by kind.</summary>
    private static async Task<Dictionary<string, double>> MetricsAsync(List<ICDPSession> sessions)
    {
        var sums = PageMetrics.ToDictionary(k => k, _ => 0.0);
        foreach (var session in sessions)
        {
            var result = await session.SendAsync("Performance.getMetrics").ConfigureAwait(false);
            foreach (var metric in result!.Value.GetProperty("metrics").EnumerateArray())
            {
                var name = metric.GetProperty("name").GetString()!;
                if (sums.ContainsKey(name))
                {
                    sums[name] += metric.GetProperty("value").GetDouble();
                }
            }
        }

        return sums;
    }

    private static async Task<(int Id, double SentMs, HttpStatusCode Status, double RoundTripMs)> PressAsync(HttpClient http, int index)
    {
        var serial = "ATS" + index.ToString("D8", CultureInfo.InvariantCulture);
        var sentMs = (TimeProvider.System.GetUtcNow() - DateTimeOffset.UnixEpoch).TotalMilliseconds;
        var result = await new SignedAlarmClient(http, serial, "demo-api-key-" + serial).PressAsync().ConfigureAwait(false);
        var id = result.Status == HttpStatusCode.Created ? JsonDocument.Parse(result.Body).RootElement.GetProperty("alarmId").GetInt32() : -1;
        return (id, sentMs, result.Status, result.Elapsed.TotalMilliseconds);
    }

    /// <summary>Waits until every page has seen every alarm (or the timeout), then returns all latencies in ms.</summary>
    private static async Task<List<double>> CollectAsync(List<IPage> pages, Dictionary<int, double> sent, TimeSpan timeout)
    {
        var ids = sent.Keys.ToArray();
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            var counts = await Task.WhenAll(pages.Select(p => p.EvaluateAsync<int>("ids => ids.filter(id => (String(id) in window.__seen)).length", ids))).ConfigureAwait(false);
            if (counts.All(c => c == ids.Length))
            {
                break;
            }

            await Task.Delay(250).ConfigureAwait(false);
        }

        var latencies = new List<double>();
        foreach (var page in pages)
        {
            var seen = await page.EvaluateAsync<Dictionary<string, double>>("() => window.__seen").ConfigureAwait(false);
            foreach (var (id, at) in sent)
            {
                if (seen.TryGetValue(id.ToString(CultureInfo.InvariantCulture), out var shown))
                {
                    latencies.Add(shown - at);
                }
            }
        }

        latencies.Sort();
        return latencies;
    }

    private static async Task<IPage> SignInAsync(IBrowser browser, string url)
    {
        var context = await browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = url }).ConfigureAwait(false);

        // The consoles here share two cores with the server; in a 110 centre each runs on its own PC. Their
        // pop-up video (measured by the media benchmark) is switched off so this measures the alarm path.
        await context.AddInitScriptAsync("delete window.RTCPeerConnection;").ConfigureAwait(false);
        if (Environment.GetEnvironmentVariable("PORTAL_BENCH_CSS") is { } css)
        {
            await context.AddInitScriptAsync("document.addEventListener('DOMContentLoaded', () => { const s = document.createElement('style'); s.textContent = " + JsonSerializer.Serialize(css) + "; document.head.appendChild(s); });").ConfigureAwait(false);
        }

        var page = await context.NewPageAsync().ConfigureAwait(false);
        await page.GotoAsync("/police").ConfigureAwait(false);
        await Harness.DemoSignIn.SignInAsync(page, "city110").ConfigureAwait(false);
        await page.EvaluateAsync(Observer).ConfigureAwait(false);
        return page;
    }

    private static int Arg(string[] args, int index, int fallback) =>
        args.Length > index && int.TryParse(args[index], NumberStyles.None, CultureInfo.InvariantCulture, out var v) && v > 0 ? v : fallback;
}
