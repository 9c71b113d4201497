using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using Microsoft.Playwright;
using Portal.Benchmarks.Harness;
using Portal.Core.Demo;
using Portal.Simulator.Terminals;

namespace Portal.Benchmarks;

/// <summary>
/// <c>alarms [consoles=10] [rate=50] [seconds=10] [burst=1000] [--floor[=DIR]] [--runs=N]</c>: a real portal process
/// (Release build beside this program, demo city, SQLite), N signed-in city consoles in Debian's Chromium, and
/// simulated terminals on the signed device API. Prints the time from each device request to its answer (the
/// alarm committed) and to the alarm's card in each console's DOM (p50/p95/p99) at a steady rate, then a burst:
/// accepted, stored, shown, lost, and when the last card was on every console; and where the consoles' cost per
/// alarm goes: CPU of the portal and of Chromium, the pages' main-thread time by kind, and the render batches
/// (WebSocket frames and bytes) each console received.
/// <para>
/// <c>--floor</c> first runs the same measurement against the bare Blazor Server + SQLite alarm floor
/// (<c>shared/bench/alarm-floor</c>, found above the working folder, or DIR, or <c>PORTAL_ALARM_FLOOR</c>): same
/// driver, pages, rate, warm-up and burst, durable commits (synchronous=FULL), then the portal, back to back, and
/// prints the ratios; <c>--runs=N</c> repeats the pair N times. The aims (issue 15): product p99 at most 1.2 times
/// the floor's, device answer p99 at most 10 ms, nothing lost, the burst on every console within 2 s; the exit code
/// is 2 when one is missed.
/// </para>
/// Diagnostics (environment variables): <c>PORTAL_BENCH_TRACE=file.json</c> writes a Chromium trace of the first
/// console during the steady phase; <c>PORTAL_BENCH_CSS=rules</c> adds a style sheet to every console (to try a
/// layout change without a rebuild); <c>PORTAL_BENCH_SHOT=file.png</c> saves a screenshot of the first console after
/// the steady phase; <c>PORTAL_BENCH_SLOWEST=1</c> lists the slowest device answers; <c>PORTAL_BENCH_SERVER_TIMING=1</c> prints where the answers' time went inside the portal (stages, Server-Timing);
/// <c>PORTAL_BENCH_PORTAL_ENV='NAME=value ...'</c> sets environment variables on the product's portal alone (runtime knobs, to weigh);
/// <c>PORTAL_BENCH_ANSWER_POOLED=1</c> has the portal answer devices from the thread pool, as before issue 15's answer thread (to compare).
/// The devices of the warm-up and the steady phase send from threads of their own on blocking sockets (DirectDevices), so
/// that their answer times hold no thread hand-over inside this process; <c>PORTAL_BENCH_DEVICES_POOLED=1</c> sends them
/// through HttpClient, as before session 14 (to compare). The burst's thousand presses go through HttpClient.
/// </summary>
public static class AlarmBenchmark
{
    public const string Usage = "alarms [consoles=10] [rate=50] [seconds=10] [burst=1000] [--floor[=DIR]] [--runs=N] [--browser-nice=10] [--device-nice=-5]";

    /// <summary>
    /// The consoles' Chromium runs at this nice level unless <c>--browser-nice</c> says otherwise: on this 2-core machine
    /// ten Chromium pages take 1.2-1.4 cores, and at the same priority the server's writer waits behind them for a core;
    /// in a city each operator's browser runs on the operator's own PC.
    /// </summary>
    public const int DefaultBrowserNice = 10;

    /// <summary>
    /// The simulated terminals' threads run at this nice level unless <c>--device-nice</c> says otherwise (below 0 needs
    /// root or <c>CAP_SYS_NICE</c>; refused, they keep 0 and the run says so). A terminal is a machine of its own: the
    /// time a device waits is the network's and the portal's, not its own wait for a core. Here the devices share the
    /// server's two cores; at nice 0 a device thread woken by its answer queued behind the portal's and the cameras'
    /// threads, and up to 8-13 ms of that wait was counted in the answer time (its "out" stage). In seven alternating
    /// pairs of product-only runs, answer p99 12.6, 12.7, 8.4, 9.6, 15.1, 10.8 and 9.7 ms at nice 0; 8.3, 10.0, 8.7,
    /// 8.4, 8.4, 10.6 and 11.6 ms at -5. The floor's devices are the same threads.
    /// </summary>
    public const int DefaultDeviceNice = -5;

    private const int WarmUp = 500;

    // Aims of issue 15.
    private const double RatioAim = 1.2;
    private const double AnswerAimMs = 10;
    private const double BurstAimMs = 2000;

    // Records when each card first appears, on the page's own clock (same machine, same epoch). It runs in every console
    // for every node the page adds, so it must cost little: Blazor adds a card's element first and then each of its
    // children, one mutation record each. A profile of the product's burst had the first version of this callback at
    // 17% of a console's JavaScript time (it searched every added leaf element's subtree for cards).
    private const string Observer = """
        ([selector, attribute]) => {
          const seen = window.__seen = {};
          const mark = (c) => { const id = c.getAttribute(attribute); if (id !== null && !(id in seen)) seen[id] = performance.timeOrigin + performance.now(); };
          const note = (e) => {
            if (e.nodeType !== 1) return;
            if (e.matches(selector)) { mark(e); return; }
            if (e.firstElementChild === null) return; // a leaf (a card's name, tag or line): no card inside
            for (const c of e.querySelectorAll(selector)) mark(c);
          };
          // Look only at what was added: scanning the whole board on every mutation would load the browsers.
          new MutationObserver(records => { for (const r of records) { const added = r.addedNodes; for (let i = 0; i < added.length; i++) note(added[i]); } })
            .observe(document.body, { childList: true, subtree: true });
          note(document.body);
        }
        """;

    private static readonly string[] PageMetrics = ["TaskDuration", "ScriptDuration", "LayoutDuration", "RecalcStyleDuration"];

    public static async Task<int> RunAsync(string[] args)
    {
        var numbers = args.Where(a => !a.StartsWith("--", StringComparison.Ordinal)).ToArray();
        var nice = Option(args, "--browser-nice") is { } bn && int.TryParse(bn, NumberStyles.None, CultureInfo.InvariantCulture, out var level) && level <= 19 ? level : DefaultBrowserNice;
        var deviceNice = Option(args, "--device-nice") is { } dn && int.TryParse(dn, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var dl) && dl is >= -20 and <= 19 ? dl : DefaultDeviceNice;
        var settings = new Settings(Arg(numbers, 0, 10), Arg(numbers, 1, 50), Arg(numbers, 2, 10), Arg(numbers, 3, 1000), nice, deviceNice);
        var runs = Option(args, "--runs") is { } r && int.TryParse(r, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0 ? n : 1;
        var withFloor = args.Any(a => a == "--floor" || a.StartsWith("--floor=", StringComparison.Ordinal));
        string? floorApp = null;
        if (withFloor)
        {
            floorApp = FindFloor(Option(args, "--floor"));
            if (floorApp is null)
            {
                Console.WriteLine("The alarm floor was not found: pass --floor=DIR (the folder holding app/FloorApp.csproj) or set PORTAL_ALARM_FLOOR.");
                return 1;
            }
        }

        Console.WriteLine(FormattableString.Invariant($"machine: {Environment.ProcessorCount} cores, load average {LoadAverage()} before the run"));
        Console.WriteLine(settings.BrowserNice > 0
            ? FormattableString.Invariant($"consoles: Chromium's scheduler group at nice {settings.BrowserNice} for the floor and the product alike (operators' browsers run on their own PCs, not on the server's cores; --browser-nice=0 shares the cores evenly)")
            : "consoles: Chromium at the server's priority, sharing its cores evenly (--browser-nice=N lowers it)");
        Console.WriteLine(settings.DeviceNice != 0
            ? FormattableString.Invariant($"devices: the simulated terminals' threads at nice {settings.DeviceNice} for the floor and the product alike (a terminal is a machine of its own, not a thread waiting for the server's cores; --device-nice=0 shares them)")
            : "devices: the simulated terminals' threads at the server's priority (--device-nice=N changes it)");
        using var playwright = await Playwright.CreateAsync().ConfigureAwait(false);
        string? floorBuild = null;
        if (floorApp is not null)
        {
            Console.WriteLine("building the alarm floor from " + floorApp);
            floorBuild = await BuildFloorAsync(floorApp).ConfigureAwait(false);
        }

        var pairs = new List<(Result? Floor, Result Product)>();
        try
        {
            for (var run = 1; run <= runs; run++)
            {
                if (runs > 1)
                {
                    Console.WriteLine(FormattableString.Invariant($"=== run {run} of {runs} (load average {LoadAverage()})"));
                }

                var floor = floorBuild is null ? null : await MeasureFloorAsync(playwright, floorBuild, settings).ConfigureAwait(false);
                var product = await MeasureProductAsync(playwright, settings).ConfigureAwait(false);
                pairs.Add((floor, product));
                if (floor is not null)
                {
                    PrintRatio(floor, product);
                }
            }
        }
        finally
        {
            if (floorBuild is not null)
            {
                Directory.Delete(floorBuild, recursive: true);
            }
        }

        if (pairs.Count > 1)
        {
            Console.WriteLine("summary (p99 in ms; device answer p99; burst last card):");
            foreach (var (floor, product) in pairs)
            {
                Console.WriteLine(FormattableString.Invariant(
                    $"  {(floor is null ? string.Empty : $"floor {floor.P99:0} / ")}product {product.P99:0}{(floor is null ? string.Empty : $" = {product.P99 / floor.P99:0.00}x")}; answer {product.AnswerP99:0.0}; burst {product.BurstLastMs:0}; lost {product.Lost}"));
            }
        }

        var missed = pairs.Any(p => p.Product.Lost > 0
            || (p.Floor is { } f && (p.Product.P99 > RatioAim * f.P99 || p.Product.AnswerP99 > AnswerAimMs || p.Product.BurstLastMs > BurstAimMs)));
        return missed ? 2 : 0;
    }

    private static void PrintRatio(Result floor, Result product)
    {
        static string Mark(bool met) => met ? "met" : "MISSED";
        Console.WriteLine(FormattableString.Invariant(
            $"product / floor, request -> card in DOM: p50 {product.P50 / floor.P50:0.00}x, p95 {product.P95 / floor.P95:0.00}x, p99 {product.P99 / floor.P99:0.00}x (aim <= {RatioAim}: {Mark(product.P99 <= RatioAim * floor.P99)})"));
        Console.WriteLine(FormattableString.Invariant(
            $"  device answer p99 {product.AnswerP99:0.0} ms (floor {floor.AnswerP99:0.0} ms; aim <= {AnswerAimMs} ms: {Mark(product.AnswerP99 <= AnswerAimMs)}); burst on every console after {product.BurstLastMs:0} ms (floor {floor.BurstLastMs:0} ms; aim <= {BurstAimMs} ms: {Mark(product.BurstLastMs <= BurstAimMs)}); lost {product.Lost} (floor {floor.Lost})"));
    }

    private static async Task<Result> MeasureProductAsync(IPlaywright playwright, Settings s)
    {
        var schools = s.Steady + s.Burst + WarmUp + 10;

        // The gate cameras the portal pulls at each alarm's intake, and its health checks probe, are devices on the
        // network: here a simulated fleet in a process of its own (at the normal priority, sharing the same two cores),
        // not the portal's in-process demo cameras, whose streams and SOAP answers were counted as the portal's CPU
        // (5-10 % of a core in the steady phase) and allocated in its heap. PORTAL_BENCH_CAMERAS_IN_PORTAL=1 goes back.
        using var fleet = Environment.GetEnvironmentVariable("PORTAL_BENCH_CAMERAS_IN_PORTAL") is null ? await FleetProcess.StartAsync().ConfigureAwait(false) : null;
        string[] fleetArguments = fleet is null ? [] : ["--Portal:DemoFleetRtspUrl=" + fleet.RtspBase, "--Portal:DemoFleetOnvifUrl=" + fleet.OnvifBase];

        // Thousands of terminals press from this one address: lift the per-address limit meant for a stranger's flood.
        await using var portal = await PortalProcess.StartAsync(new PortalProcessOptions
        {
            DemoSchoolCount = schools,
            LogLevel = "Warning",
            EchoErrors = true,
            Arguments = ["--Portal:DeviceRateLimits:PerAddressBurst=1000000", "--Portal:DeviceRateLimits:PerAddressPerSecond=1000000",
                "--Portal:DeviceServerTiming=" + (Environment.GetEnvironmentVariable("PORTAL_BENCH_SERVER_TIMING") is null ? "false" : "true"),
                "--Portal:DeviceAnswerInline=" + (Environment.GetEnvironmentVariable("PORTAL_BENCH_ANSWER_POOLED") is null ? "true" : "false"),
                .. fleetArguments,
                // PORTAL_BENCH_PORTAL_ARGS: more settings for the product's portal, space-separated (to weigh a part's cost).
                .. (Environment.GetEnvironmentVariable("PORTAL_BENCH_PORTAL_ARGS") ?? string.Empty).Split(' ', StringSplitOptions.RemoveEmptyEntries)],
        }).ConfigureAwait(false);
        var (url, folder, process) = (portal.BaseUrl, portal.DataFolder, portal.Process!);
        Console.WriteLine(fleet is null
            ? "product: gate cameras simulated inside the portal's process (PORTAL_BENCH_CAMERAS_IN_PORTAL)"
            : FormattableString.Invariant($"product: gate cameras from a simulated fleet in process {fleet.Process.Id} ({fleet.RtspBase}, {fleet.OnvifBase})"));
        try
        {
            // No alarm of the run may fall due: the warm-up's alarms would escalate during the steady phase (50 a
            // second, each a change on every console) and the comparison with the floor would be of two kinds of work.
            await using (var connection = ProductDb(folder).Open())
            {
                await Dapper.SqlMapper.ExecuteAsync(connection, "UPDATE PoliceCentre SET AnswerDeadlineSeconds = 600").ConfigureAwait(false);
            }

            Console.WriteLine(FormattableString.Invariant($"product: portal up at {url} with {schools} demo schools (answer deadlines 10 minutes: nothing escalates during the run)"));
            Console.WriteLine("  " + DiskSync(folder));
            var target = new Target("product", url, process, "[data-testid=alarm-card]", "data-alarm-id",
                (send, key) => PressTerminalAsync(send, key, s),
                SignInAsync,
                ids => CountStoredAsync(folder, ids), Cameras: fleet?.Process);
            return await MeasureAsync(playwright, target, s).ConfigureAwait(false);
        }
        finally
        {
            await portal.KillAsync().ConfigureAwait(false);
        }
    }

    private static async Task<Result> MeasureFloorAsync(IPlaywright playwright, string build, Settings s)
    {
        var folder = Path.Combine(Path.GetTempPath(), "alarm-floor-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        var url = $"http://127.0.0.1:{FreePorts.Tcp()}";
        var app = Path.Combine(build, "out");
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = app, UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine(app, "FloorApp.dll"));
        start.ArgumentList.Add("--urls");
        start.ArgumentList.Add(url);
        start.Environment["FLOOR_DB"] = Path.Combine(folder, "floor.db");
        start.Environment["FLOOR_SYNC"] = "FULL";
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        using var floor = Process.Start(start) ?? throw new InvalidOperationException("the floor did not start");
        floor.OutputDataReceived += (_, _) => { };
        floor.ErrorDataReceived += (_, e) => { if (e.Data is not null) Console.Error.WriteLine("floor: " + e.Data); };
        floor.BeginOutputReadLine();
        floor.BeginErrorReadLine();
        try
        {
            await WaitForAsync(url + "/stats", floor).ConfigureAwait(false);
            Console.WriteLine($"floor: bare Blazor Server + SQLite (synchronous=FULL) up at {url}");
            Console.WriteLine("  " + DiskSync(folder));
            using var stats = new HttpClient { BaseAddress = new Uri(url) };
            var target = new Target("floor", url, floor, "li[data-id]", "data-id",
                PressFloorAsync,
                async (browser, baseUrl) =>
                {
                    var context = await NewConsoleContextAsync(browser, baseUrl).ConfigureAwait(false);
                    var page = await context.NewPageAsync().ConfigureAwait(false);
                    await page.GotoAsync("/").ConfigureAwait(false);
                    await page.Locator("#ready[data-ready='1']").WaitForAsync(new LocatorWaitForOptions { Timeout = 60_000 }).ConfigureAwait(false);
                    return page;
                },
                async _ =>
                {
                    using var doc = JsonDocument.Parse(await stats.GetStringAsync(new Uri("/stats", UriKind.Relative)).ConfigureAwait(false));
                    return doc.RootElement.GetProperty("rows").GetInt64();
                },
                StoredCountsAll: true);
            return await MeasureAsync(playwright, target, s).ConfigureAwait(false);
        }
        finally
        {
            floor.Kill(entireProcessTree: true);
            await floor.WaitForExitAsync().ConfigureAwait(false);
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>The measurement, the same for the floor and the product: consoles, warm-up, steady rate, burst.</summary>
    private static async Task<Result> MeasureAsync(IPlaywright playwright, Target target, Settings s)
    {
        await using var browser = await Chromium.LaunchAsync(playwright, disableGpu: false, nice: s.BrowserNice).ConfigureAwait(false);
        Console.WriteLine(FormattableString.Invariant($"{target.Name}: opening {s.Consoles} consoles"));

        var pages = new List<IPage>();
        for (var i = 0; i < s.Consoles; i++)
        {
            var page = await target.OpenConsoleAsync(browser, target.Url).ConfigureAwait(false);
            await page.EvaluateAsync(Observer, new[] { target.CardSelector, target.IdAttribute }).ConfigureAwait(false);
            pages.Add(page);
        }

        Console.WriteLine("  consoles' Chromium: " + ChromiumScheduling());

        // A process that has just started answers its first requests slowly and a console draws its first alarms
        // slowly (JIT and tiering, pools, key ring): warm both up, as a running city's portal is, and wait until every
        // console shows the warm-up alarms before measuring. These alarms stay on the boards.
        Console.WriteLine(FormattableString.Invariant($"{target.Name}: warming up with {WarmUp} presses at 50/s"));
        // The warm-up and the steady phase press from device threads of their own (DirectDevices: the device answer's
        // time without this process's own thread hand-overs); the burst, a thousand at once, through HttpClient.
        // PORTAL_BENCH_DEVICES_POOLED=1: through HttpClient, as before (to compare).
        using var devices = new DirectDevices(new Uri(target.Url), s.DeviceNice);
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 256 }) { BaseAddress = new Uri(target.Url), Timeout = TimeSpan.FromSeconds(120) };
        var pooled = Through(http);
        var direct = Environment.GetEnvironmentVariable("PORTAL_BENCH_DEVICES_POOLED") is null ? Through(devices) : pooled;
        var warmed = await PaceAsync(Enumerable.Range(0, WarmUp).Select(i => (Func<Task<Press>>)(() => target.PressAsync(direct, Key.WarmUp(i)))).ToList(), 50).ConfigureAwait(false);
        await CollectAsync(pages, warmed.Where(p => p.Accepted).ToDictionary(p => p.Id, p => p.SentMs), TimeSpan.FromSeconds(60)).ConfigureAwait(false);

        // The pages' DevTools sessions are attached before the pause, not right before the steady phase: attaching ten
        // (and enabling their metrics) is the harness's own work in every renderer, not the consoles'.
        var cdp = new List<ICDPSession>();
        foreach (var page in pages)
        {
            var session = await page.Context.NewCDPSessionAsync(page).ConfigureAwait(false);
            await session.SendAsync("Performance.enable").ConfigureAwait(false);
            cdp.Add(session);
        }

        await Task.Delay(2000).ConfigureAwait(false);

        // PORTAL_BENCH_TRACE_PHASE=burst traces the burst instead of the steady phase.
        var traceBurst = Environment.GetEnvironmentVariable("PORTAL_BENCH_TRACE_PHASE") == "burst";
        var trace = traceBurst ? null : await StartTraceAsync(cdp[0]).ConfigureAwait(false);

        // PORTAL_BENCH_HEAP=file.json: where the first console's JavaScript allocates during the steady phase (V8's
        // sampling heap profiler, one sample per 16 KB; the CDP SamplingHeapProfile as it comes).
        var heapPath = Environment.GetEnvironmentVariable("PORTAL_BENCH_HEAP");
        if (heapPath is not null)
        {
            await cdp[0].SendAsync("HeapProfiler.enable").ConfigureAwait(false);
            await cdp[0].SendAsync("HeapProfiler.startSampling", new Dictionary<string, object> { ["samplingInterval"] = 16384, ["includeObjectsCollectedByMajorGC"] = true, ["includeObjectsCollectedByMinorGC"] = true }).ConfigureAwait(false);
        }

        var before = await MetricsAsync(cdp).ConfigureAwait(false);
        target.Process.Refresh();
        var serverCpu = target.Process.TotalProcessorTime;
        var browserCpu = ChromiumCpuMs();
        var machineBusy = MachineBusyMs();
        var benchmarkCpu = Process.GetCurrentProcess().TotalProcessorTime;
        var camerasCpu = CpuMs(target.Cameras);
        var (ownPause, ownGen0, ownGen1, ownGen2) = (GC.GetTotalPauseDuration(), GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2));
        // PORTAL_BENCH_FRAMES=file: the first 200 binary WebSocket frames the first console receives in the steady phase,
        // base64, one per line (what a render batch carries per alarm).
        var framesPath = Environment.GetEnvironmentVariable("PORTAL_BENCH_FRAMES");
        if (framesPath is not null)
        {
            await pages[0].EvaluateAsync("() => window.__ws.keep = 200").ConfigureAwait(false);
        }

        await Task.WhenAll(pages.Select(p => p.EvaluateAsync("() => window.__ws.counting = true"))).ConfigureAwait(false);
        var clock = Stopwatch.StartNew();
        var queuedBefore = devices.QueuedForThread;
        var steady = await PaceAsync(Enumerable.Range(0, s.Steady).Select(i => (Func<Task<Press>>)(() => target.PressAsync(direct, Key.Steady(i)))).ToList(), s.Rate).ConfigureAwait(false);
        var queued = devices.QueuedForThread - queuedBefore;
        var steadyWall = clock.Elapsed.TotalMilliseconds;
        target.Process.Refresh();
        var serverCpuMs = (target.Process.TotalProcessorTime - serverCpu).TotalMilliseconds;
        var browserCpuMs = ChromiumCpuMs() - browserCpu;
        var machineBusyMs = MachineBusyMs() - machineBusy;
        var benchmarkCpuMs = (Process.GetCurrentProcess().TotalProcessorTime - benchmarkCpu).TotalMilliseconds;
        var camerasCpuMs = CpuMs(target.Cameras) - camerasCpu;
        var ownPausedMs = (GC.GetTotalPauseDuration() - ownPause).TotalMilliseconds;
        var ownCollections = FormattableString.Invariant($"{GC.CollectionCount(0) - ownGen0}/{GC.CollectionCount(1) - ownGen1}/{GC.CollectionCount(2) - ownGen2}");
        var after = await MetricsAsync(cdp).ConfigureAwait(false);
        await EndTraceAsync(cdp[0], trace).ConfigureAwait(false);
        if (heapPath is not null)
        {
            var heap = await cdp[0].SendAsync("HeapProfiler.stopSampling").ConfigureAwait(false);
            await File.WriteAllTextAsync(heapPath, heap!.Value.GetProperty("profile").GetRawText()).ConfigureAwait(false);
        }
        if (Environment.GetEnvironmentVariable("PORTAL_BENCH_SHOT") is { } shot)
        {
            await pages[0].ScreenshotAsync(new PageScreenshotOptions { Path = shot }).ConfigureAwait(false);
            Console.WriteLine("elements on the first console: " + await pages[0].EvaluateAsync<int>("() => document.querySelectorAll('*').length").ConfigureAwait(false));
        }

        var sent = steady.Where(p => p.Accepted).ToDictionary(p => p.Id, p => p.SentMs);
        var appearances = await CollectEachAsync(pages, sent, TimeSpan.FromSeconds(30)).ConfigureAwait(false);
        var latencies = appearances.Select(a => a.LatencyMs).Order().ToList();
        var steadyShown = await Task.WhenAll(pages.Select(p => p.EvaluateAsync<int>("ids => ids.filter(id => id in window.__seen).length", sent.Keys.ToArray()))).ConfigureAwait(false);
        var frames = await Task.WhenAll(pages.Select(p => p.EvaluateAsync<double[]>("() => { window.__ws.counting = false; return [window.__ws.frames, window.__ws.bytes]; }"))).ConfigureAwait(false);
        if (framesPath is not null)
        {
            var kept = await pages[0].EvaluateAsync<string[]>("() => window.__ws.kept.map(a => btoa(String.fromCharCode(...a)))").ConfigureAwait(false);
            await File.WriteAllLinesAsync(framesPath, kept).ConfigureAwait(false);
        }

        var answers = steady.Select(p => p.RoundTripMs).Order().ToList();
        if (Environment.GetEnvironmentVariable("PORTAL_BENCH_SLOWEST") is not null)
        {
            var first = steady.Min(p => p.SentMs);
            Console.WriteLine(FormattableString.Invariant($"  slowest device answers (ms after the start, {DateTimeOffset.FromUnixTimeMilliseconds((long)first):HH:mm:ss.fff} UTC: ms): ") + string.Join(", ", steady.OrderByDescending(p => p.RoundTripMs).Take(12)
                .Select(p => FormattableString.Invariant($"{p.SentMs - first:0}: {p.RoundTripMs:0}"))));
        }

        Console.WriteLine(FormattableString.Invariant($"{target.Name}: steady {s.Rate}/s for {s.Seconds} s from {DateTimeOffset.FromUnixTimeMilliseconds((long)steady.Min(p => p.SentMs)):HH:mm:ss} UTC, {s.Consoles} consoles: {sent.Count} alarms accepted, {latencies.Count} card appearances; {queued} presses waited for a device thread (0: every time whole){(devices.NiceRefused > 0 ? FormattableString.Invariant($"; the system refused nice {s.DeviceNice} for {devices.NiceRefused} device threads (they ran at 0)") : "")}"));
        Console.WriteLine(FormattableString.Invariant($"  device request -> answer (alarm committed): p50 {Percentiles.Of(answers, 0.50):0.0} ms, p95 {Percentiles.Of(answers, 0.95):0.0} ms, p99 {Percentiles.Of(answers, 0.99):0.0} ms"));
        Console.WriteLine(FormattableString.Invariant($"  device request -> card in DOM: p50 {Percentiles.Of(latencies, 0.50):0.0} ms, p95 {Percentiles.Of(latencies, 0.95):0.0} ms, p99 {Percentiles.Of(latencies, 0.99):0.0} ms, max {latencies.DefaultIfEmpty().Max():0.0} ms"));
        Console.WriteLine("    " + TailOf(appearances));
        PrintServerTiming("steady", steady);
        Console.WriteLine(FormattableString.Invariant($"  CPU during the steady phase ({steadyWall / 1000:0.0} s): server {serverCpuMs / steadyWall * 100:0}% of a core = {serverCpuMs / s.Steady:0.00} ms per alarm; Chromium (this run's processes) {browserCpuMs / steadyWall * 100:0}% = {browserCpuMs / s.Steady:0.00} ms per alarm"));
        // The simulated cameras' process streams the cameras the portal pulls for open alarms (at most MaxAlarmCameraPulls,
        // 10-14 % of a core here) and answers the health checks' probes: a share well above that, in the steady phase or
        // the burst, means probes ran beside it (HealthOptions.AlarmHoldSeconds holds them back while alarms flow).
        Console.WriteLine(FormattableString.Invariant($"    the whole machine busy {machineBusyMs / steadyWall * 100:0}% of {Environment.ProcessorCount * 100}: this benchmark's own process {benchmarkCpuMs / steadyWall * 100:0}%, ")
            + (target.Cameras is null ? string.Empty : FormattableString.Invariant($"the simulated cameras' process {camerasCpuMs / steadyWall * 100:0}%, "))
            + FormattableString.Invariant($"everything else ({(target.Cameras is null ? "the simulated cameras, " : string.Empty)}Playwright's driver, the kernel) {(machineBusyMs - serverCpuMs - browserCpuMs - benchmarkCpuMs - camerasCpuMs) / steadyWall * 100:0}%"));
        // The devices' threads live in this process: while its own garbage collector stops it, a press waits to be sent or to be read.
        Console.WriteLine(FormattableString.Invariant($"    this benchmark's own garbage collections (gen0/1/2): {ownCollections}, paused {ownPausedMs:0} ms in all"));
        Console.WriteLine(FormattableString.Invariant($"  per alarm and console: {frames.Sum(f => f[0]) / s.Steady / s.Consoles:0.00} WebSocket frames in, {frames.Sum(f => f[1]) / s.Steady / s.Consoles:0} bytes in; main-thread time (wall time, so it grows when the cores are short):"));
        Console.WriteLine("    " + string.Join(", ", after.Keys.Select(k => FormattableString.Invariant($"{k} {(after[k] - before[k]) * 1000 / pages.Count / s.Steady:0.00} ms"))));

        // Burst: every press at once. (The floor counts all its rows, not given ids: what was there before is taken off.)
        var storedBefore = target.StoredCountsAll ? await target.StoredAsync([]).ConfigureAwait(false) : 0;
        var burstClock = Stopwatch.StartNew();
        var burstCamerasCpu = CpuMs(target.Cameras);
        var burstStart = (TimeProvider.System.GetUtcNow() - DateTimeOffset.UnixEpoch).TotalMilliseconds;
        var burstTrace = traceBurst ? await StartTraceAsync(cdp[0]).ConfigureAwait(false) : null;
        // PORTAL_BENCH_PROFILE=file.cpuprofile: the first console's JavaScript CPU profile during the burst (DevTools opens it).
        var profilePath = Environment.GetEnvironmentVariable("PORTAL_BENCH_PROFILE");
        if (profilePath is not null)
        {
            await cdp[0].SendAsync("Profiler.enable").ConfigureAwait(false);
            await cdp[0].SendAsync("Profiler.setSamplingInterval", new Dictionary<string, object> { ["interval"] = 200 }).ConfigureAwait(false);
            await cdp[0].SendAsync("Profiler.start").ConfigureAwait(false);
        }

        using var sampling = new CancellationTokenSource();
        var samples = SampleCpuAsync(target.Process, burstClock, sampling.Token);
        var burst = await Task.WhenAll(Enumerable.Range(0, s.Burst).Select(i => target.PressAsync(pooled, Key.Burst(i)))).ConfigureAwait(false);
        var acceptedTime = burstClock.Elapsed;
        var accepted = burst.Where(p => p.Accepted).ToDictionary(p => p.Id, p => p.SentMs);
        var stored = await target.StoredAsync(accepted.Keys).ConfigureAwait(false) - storedBefore;
        var burstLatencies = await CollectAsync(pages, accepted, TimeSpan.FromSeconds(120)).ConfigureAwait(false);
        await sampling.CancelAsync().ConfigureAwait(false);
        var cpu = await samples.ConfigureAwait(false);
        await EndTraceAsync(cdp[0], burstTrace).ConfigureAwait(false);
        if (profilePath is not null && await cdp[0].SendAsync("Profiler.stop").ConfigureAwait(false) is { } profile)
        {
            await File.WriteAllTextAsync(profilePath, profile.GetProperty("profile").GetRawText()).ConfigureAwait(false);
            Console.WriteLine("  the first console's JavaScript profile of the burst: " + profilePath);
        }
        var shown = await Task.WhenAll(pages.Select(p => p.EvaluateAsync<int>("ids => ids.filter(id => id in window.__seen).length", accepted.Keys.ToArray()))).ConfigureAwait(false);
        var lastShown = await Task.WhenAll(pages.Select(p => p.EvaluateAsync<double>("ids => Math.max(0, ...ids.map(id => window.__seen[id] || 0))", accepted.Keys.ToArray()))).ConfigureAwait(false);
        var lastMs = lastShown.Max() - burstStart;
        // Lost: refused, or missing on some console (at most; an alarm missing on two consoles counts once).
        var lost = (s.Steady - steadyShown.Min()) + (s.Burst - shown.Min());
        Console.WriteLine(FormattableString.Invariant($"{target.Name}: burst of {s.Burst}: accepted {accepted.Count} in {acceptedTime.TotalSeconds:0.00} s, stored {stored}, shown on every console: min {shown.Min()} max {shown.Max()}, lost {s.Burst - shown.Min()} (steady phase: {s.Steady - steadyShown.Min()})"));
        PrintServerTiming("burst", burst);
        Console.WriteLine(FormattableString.Invariant($"  burst request -> card in DOM: p50 {Percentiles.Of(burstLatencies, 0.50):0} ms, p99 {Percentiles.Of(burstLatencies, 0.99):0} ms; the last card on every console {lastMs:0} ms after the burst began")
            + (target.Cameras is null ? string.Empty : FormattableString.Invariant($"; the simulated cameras' process used {CpuMs(target.Cameras) - burstCamerasCpu:0} ms of CPU meanwhile")));
        // One console far behind the others points at that browser (its renderer's share of the cores), all close together at the server.
        Console.WriteLine("  the last card on each console (ms after the burst began): " + string.Join(", ", lastShown.Select((t, i) => FormattableString.Invariant($"{i + 1}: {t - burstStart:0}"))));
        var seen = (await Task.WhenAll(pages.Select(p => p.EvaluateAsync<double[]>("ids => ids.filter(id => id in window.__seen).map(id => window.__seen[id])", accepted.Keys.ToArray()))).ConfigureAwait(false))
            .SelectMany(t => t).Select(t => t - burstStart).ToList();
        PrintBurstTimeline(cpu, seen, s.Consoles * accepted.Count, acceptedTime);
        return new Result(
            Percentiles.Of(latencies, 0.50), Percentiles.Of(latencies, 0.95), Percentiles.Of(latencies, 0.99),
            Percentiles.Of(answers, 0.99), lastMs, lost);
    }

    /// <summary>The server's and the consoles' CPU time, read every <see cref="SampleEvery"/> until cancelled: (ms since the burst began, server ms, Chromium ms).</summary>
    private static async Task<List<(double At, double Server, double Browser)>> SampleCpuAsync(Process server, Stopwatch clock, CancellationToken ct)
    {
        var samples = new List<(double, double, double)>();
        while (true)
        {
            server.Refresh();
            samples.Add((clock.Elapsed.TotalMilliseconds, server.TotalProcessorTime.TotalMilliseconds, ChromiumCpuMs()));
            try
            {
                await Task.Delay(SampleEvery, ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return samples;
            }
        }
    }

    private static readonly TimeSpan SampleEvery = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// Where the burst's time went, per quarter second: the server's and the consoles' share of a core, and how many of
    /// the (alarm, console) cards were drawn in that quarter. Shows whether the consoles wait for the server, the server
    /// for the cores, or the cores for the consoles.
    /// </summary>
    private static void PrintBurstTimeline(List<(double At, double Server, double Browser)> cpu, List<double> seen, int cards, TimeSpan accepted)
    {
        Console.WriteLine(FormattableString.Invariant($"  burst timeline (accepted by {accepted.TotalMilliseconds:0} ms; % of one core, of 200; cards drawn of {cards}):"));
        var drawn = 0;
        for (var i = 1; i < cpu.Count; i++)
        {
            var (from, to) = (cpu[i - 1].At, cpu[i].At);
            var span = to - from;
            var inSpan = seen.Count(t => t >= from && t < to);
            drawn += inSpan;
            Console.WriteLine(FormattableString.Invariant($"    {to:0} ms: server {(cpu[i].Server - cpu[i - 1].Server) / span * 100:0}%, Chromium {(cpu[i].Browser - cpu[i - 1].Browser) / span * 100:0}%, cards +{inSpan} = {drawn}"));
            if (drawn >= cards)
            {
                break;
            }
        }
    }

    /// <summary>Starts each press at its due time (open loop: a slow answer does not hold the next press back).</summary>
    private static async Task<Press[]> PaceAsync(List<Func<Task<Press>>> presses, int rate)
    {
        var tasks = new List<Task<Press>>(presses.Count);
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < presses.Count; i++)
        {
            var due = TimeSpan.FromSeconds((double)i / rate);
            if (due > clock.Elapsed)
            {
                await Task.Delay(due - clock.Elapsed).ConfigureAwait(false);
            }

            tasks.Add(presses[i]());
        }

        return await Task.WhenAll(tasks).ConfigureAwait(false);
    }

    /// <summary>A device's POST: path, headers, body; the answer with its time from send to the body's last byte.</summary>
    private delegate Task<DeviceReply> Send(string path, (string Name, string Value)[] headers, byte[] body);

    private static Send Through(DirectDevices devices) => (path, headers, body) => devices.PostAsync(path, headers, body);

    private static Send Through(HttpClient http) => async (path, headers, body) =>
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        foreach (var (name, value) in headers)
        {
            request.Headers.Add(name, value);
        }

        var started = Stopwatch.GetTimestamp();
        using var response = await http.SendAsync(request).ConfigureAwait(false);
        var text = await response.Content.ReadAsStringAsync().ConfigureAwait(false);
        var elapsed = Stopwatch.GetElapsedTime(started);
        var timing = response.Headers.TryGetValues("Server-Timing", out var values) ? string.Join(", ", values) : null;
        return new DeviceReply(response.StatusCode, text, elapsed, timing, started);
    };

    private static async Task<Press> PressTerminalAsync(Send send, Key key, Settings s)
    {
        // Each press from its own terminal (its own school), so every press is a new alarm; signed as the terminal's
        // firmware signs (SignedAlarmClient.SignedHeaders), before the clock starts.
        var index = key.Phase switch
        {
            Phase.Steady => key.Index,
            Phase.Burst => s.Steady + key.Index,
            _ => s.Steady + s.Burst + key.Index,
        };
        var serial = DemoCity.TerminalSerial(index);
        var body = "{\"event\":\"alarm\"}"u8.ToArray();
        var headers = SignedAlarmClient.SignedHeaders(serial, DemoCity.DemoApiKeyPrefix + serial, SignedAlarmClient.AlarmPath, body, DateTimeOffset.UtcNow);
        var sentMs = EpochMs();
        var result = await send(SignedAlarmClient.AlarmPath, headers, body).ConfigureAwait(false);
        var id = result.Status == HttpStatusCode.Created ? JsonDocument.Parse(result.Body).RootElement.GetProperty("alarmId").GetInt32().ToString(CultureInfo.InvariantCulture) : "-" + key;
        return new Press(id, sentMs, result.Status == HttpStatusCode.Created, result.Elapsed.TotalMilliseconds, result.ServerTiming, result.SentAt);
    }

    private static async Task<Press> PressFloorAsync(Send send, Key key)
    {
        var id = key.ToString();
        var sentMs = EpochMs();
        var body = JsonSerializer.SerializeToUtf8Bytes(new { id, ts = sentMs });
        var result = await send("/alarm", [], body).ConfigureAwait(false);
        return new Press(id, sentMs, result.Status == HttpStatusCode.OK, result.Elapsed.TotalMilliseconds);
    }

    /// <summary>A process's CPU time so far (ms); 0 without one.</summary>
    private static double CpuMs(Process? process)
    {
        if (process is null)
        {
            return 0;
        }

        process.Refresh();
        return process.TotalProcessorTime.TotalMilliseconds;
    }

    private static double EpochMs() => (TimeProvider.System.GetUtcNow() - DateTimeOffset.UnixEpoch).TotalMilliseconds;

    private static Portal.Core.Data.Db ProductDb(string folder) =>
        new(Portal.Core.Data.Db.SqliteConnectionString(Path.Combine(folder, "portal.db")), Portal.Core.Data.SqlDialect.Sqlite);

    private static async Task<long> CountStoredAsync(string folder, IEnumerable<string> ids)
    {
        await using var connection = ProductDb(folder).Open();
        return await Dapper.SqlMapper.ExecuteScalarAsync<long>(connection, "SELECT COUNT(*) FROM Alarm WHERE Id IN @ids",
            new { ids = ids.Select(i => int.Parse(i, CultureInfo.InvariantCulture)).ToArray() }).ConfigureAwait(false);
    }

    /// <summary>The floor's app folder: DIR, PORTAL_ALARM_FLOOR, or shared/bench/alarm-floor above the working folder or this program.</summary>
    private static string? FindFloor(string? given)
    {
        foreach (var candidate in new[] { given, Environment.GetEnvironmentVariable("PORTAL_ALARM_FLOOR") })
        {
            if (!string.IsNullOrEmpty(candidate))
            {
                return File.Exists(Path.Combine(candidate, "app", "FloorApp.csproj")) ? Path.Combine(candidate, "app") : null;
            }
        }

        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var app = Path.Combine(dir.FullName, "shared", "bench", "alarm-floor", "app");
                if (File.Exists(Path.Combine(app, "FloorApp.csproj")))
                {
                    return app;
                }
            }
        }

        return null;
    }

    /// <summary>Publishes a copy of the floor's app (its folder may be read-only) into a temp folder; returns that folder (the app in out/).</summary>
    private static async Task<string> BuildFloorAsync(string app)
    {
        var work = Path.Combine(Path.GetTempPath(), "alarm-floor-build-" + Guid.NewGuid().ToString("N"));
        var source = Path.Combine(work, "app");
        foreach (var file in Directory.EnumerateFiles(app, "*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(app, file);
            if (relative.StartsWith("bin" + Path.DirectorySeparatorChar, StringComparison.Ordinal) || relative.StartsWith("obj" + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            {
                continue;
            }

            Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(source, relative))!);
            File.Copy(file, Path.Combine(source, relative));
        }

        var output = Path.Combine(work, "out");
        var publish = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { "publish", source, "-c", "Release", "-o", output, "-v", "q", "-nologo" })
        {
            publish.ArgumentList.Add(arg);
        }

        using var process = Process.Start(publish) ?? throw new InvalidOperationException("dotnet publish did not start");
        var log = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().ConfigureAwait(false);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException("The floor did not build:\n" + await log.ConfigureAwait(false) + await errors.ConfigureAwait(false));
        }

        // Keep only the output; the caller deletes the whole folder.
        Directory.Delete(source, recursive: true);
        return work;
    }

    private static async Task WaitForAsync(string url, Process process)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(120) && !process.HasExited)
        {
            try
            {
                if ((await http.GetAsync(new Uri(url)).ConfigureAwait(false)).IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }

            await Task.Delay(250).ConfigureAwait(false);
        }

        throw new TimeoutException(url + " did not answer");
    }

    /// <summary>PORTAL_BENCH_TRACE=file.json: a Chromium trace of the first console during the steady phase (chrome://tracing, Perfetto).</summary>
    private static async Task<(string Path, List<JsonElement> Events, TaskCompletionSource Done)?> StartTraceAsync(ICDPSession session)
    {
        if (Environment.GetEnvironmentVariable("PORTAL_BENCH_TRACE") is not { } path)
        {
            return null;
        }

        var events = new List<JsonElement>();
        var done = new TaskCompletionSource();
        session.Event("Tracing.dataCollected").OnEvent += (_, e) => { lock (events) { events.AddRange(e!.Value.GetProperty("value").EnumerateArray().Select(x => x.Clone())); } };
        session.Event("Tracing.tracingComplete").OnEvent += (_, _) => done.TrySetResult();
        await session.SendAsync("Tracing.start", new Dictionary<string, object> { ["transferMode"] = "ReportEvents", ["categories"] = "devtools.timeline,v8,blink,cc,disabled-by-default-devtools.timeline" }).ConfigureAwait(false);
        return (path, events, done);
    }

    private static async Task EndTraceAsync(ICDPSession session, (string Path, List<JsonElement> Events, TaskCompletionSource Done)? trace)
    {
        if (trace is not { } t)
        {
            return;
        }

        await session.SendAsync("Tracing.end").ConfigureAwait(false);
        await t.Done.Task.WaitAsync(TimeSpan.FromSeconds(60)).ConfigureAwait(false);
        lock (t.Events)
        {
            File.WriteAllText(t.Path, JsonSerializer.Serialize(new { traceEvents = t.Events }));
        }
    }

    /// <summary>CPU time the whole machine spent busy (every core, all but idle and I/O wait), from /proc/stat, in ms.</summary>
    private static double MachineBusyMs()
    {
        var fields = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(f => long.Parse(f, CultureInfo.InvariantCulture)).ToArray();
        return (fields.Take(8).Sum() - fields[3] - fields[4]) * 10.0; // user nice system idle iowait irq softirq steal, in USER_HZ (100)
    }

    /// <summary>
    /// CPU time of the Chromium processes this benchmark started (descendants of this process, from /proc), in ms:
    /// on a shared machine other Chromium processes belong to someone else.
    /// </summary>
    private static double ChromiumCpuMs() => OurChromium().Sum(t => t.Ticks) * 10.0; // USER_HZ is 100 on Linux

    /// <summary>
    /// How the cores are shared with the consoles' Chromium, read back from /proc: its scheduler groups (autogroup) and
    /// their nice levels, and the nice levels its processes run at.
    /// </summary>
    private static string ChromiumScheduling()
    {
        var groups = new SortedSet<string>(StringComparer.Ordinal);
        var nices = new SortedSet<int>();
        foreach (var (pid, _) in OurChromium())
        {
            try
            {
                groups.Add(File.ReadAllText($"/proc/{pid}/autogroup").Trim());
                var stat = File.ReadAllText($"/proc/{pid}/stat");
                nices.Add(int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[16], CultureInfo.InvariantCulture));
            }
            catch (IOException)
            {
            }
        }

        return $"scheduler group {(groups.Count == 0 ? "none (no autogroup)" : string.Join(", ", groups))}; process nice {string.Join("/", nices)}";
    }

    private static List<(int Pid, long Ticks)> OurChromium()
    {
        var parents = new Dictionary<int, int>();
        var ticks = new Dictionary<int, long>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                continue;
            }

            try
            {
                // Fields after the command name in parentheses: ppid is the 2nd, utime and stime the 12th and 13th.
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                parents[pid] = int.Parse(fields[1], CultureInfo.InvariantCulture);
                if (File.ReadAllText(Path.Combine(dir, "cmdline")).StartsWith("/usr/lib/chromium/", StringComparison.Ordinal))
                {
                    ticks[pid] = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
                }
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }

        var self = Environment.ProcessId;
        bool Ours(int pid)
        {
            for (var p = pid; p > 1 && parents.TryGetValue(p, out var parent); p = parent)
            {
                if (parent == self)
                {
                    return true;
                }
            }

            return false;
        }

        return [.. ticks.Where(t => Ours(t.Key)).Select(t => (t.Key, t.Value))];
    }

    /// <summary>
    /// How long the disk under <paramref name="folder"/> takes to make a small write durable now (16 KB, then fsync; at
    /// most 100 times or 2 s): a durable commit, and so a device's answer, cannot be quicker. On a shared machine this
    /// moves with the others' I/O, which is why it is printed beside each run.
    /// </summary>
    private static string DiskSync(string folder)
    {
        var path = Path.Combine(folder, "sync-probe.tmp");
        var times = new List<double>();
        try
        {
            using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1, FileOptions.None);
            var block = new byte[16 * 1024];
            var clock = Stopwatch.StartNew();
            while (times.Count < 100 && clock.Elapsed < TimeSpan.FromSeconds(2))
            {
                file.Position = 0;
                file.Write(block);
                var started = Stopwatch.GetTimestamp();
                file.Flush(flushToDisk: true);
                times.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
        }
        finally
        {
            File.Delete(path);
        }

        times.Sort();
        return FormattableString.Invariant($"disk sync now (16 KB write + fsync, {times.Count} times): p50 {Percentiles.Of(times, 0.50):0.0} ms, p99 {Percentiles.Of(times, 0.99):0.0} ms, max {times[^1]:0.0} ms");
    }

    private static string LoadAverage()
    {
        try
        {
            return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
        }
        catch (IOException)
        {
            return "?";
        }
    }

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

    /// <summary>Waits until every page has seen every alarm (or the timeout), then returns all latencies in ms.</summary>
    private static async Task<List<double>> CollectAsync(List<IPage> pages, Dictionary<string, double> sent, TimeSpan timeout) =>
        [.. (await CollectEachAsync(pages, sent, timeout).ConfigureAwait(false)).Select(a => a.LatencyMs).Order()];

    /// <summary>
    /// Where the slowest 1% of card appearances were: on how many consoles, and each slow alarm's press time in the phase. One
    /// console far behind the others points at that browser; every console at once, over a short stretch, at a stall of
    /// the server or of the whole machine.
    /// </summary>
    private static string TailOf(List<Appearance> appearances)
    {
        if (appearances.Count < 100)
        {
            return "too few cards to say";
        }

        var slowest = appearances.OrderByDescending(a => a.LatencyMs).Take(appearances.Count / 100).ToList();
        var first = appearances.Min(a => a.SentMs);
        var byConsole = slowest.GroupBy(a => a.Console).OrderByDescending(g => g.Count()).ToList();
        var alarms = slowest.GroupBy(a => a.Id).Select(g => (At: (g.First().SentMs - first) / 1000, Consoles: string.Join('+', g.Select(a => a.Console + 1).Order()))).OrderBy(a => a.At).ToList();
        return FormattableString.Invariant(
            $"the slowest 1% ({slowest.Count}) are {alarms.Count} alarms, on {byConsole.Count} of {appearances.Select(a => a.Console).Distinct().Count()} consoles (most on console {byConsole[0].Key + 1}: {byConsole[0].Count()}); pressed at (s into the phase @ consoles): ")
            + string.Join(", ", alarms.Select(a => FormattableString.Invariant($"{a.At:0.00}@{a.Consoles}")));
    }

    /// <summary><inheritdoc cref="CollectAsync"/> Each appearance with its console and the alarm's press time.</summary>
    private static async Task<List<Appearance>> CollectEachAsync(List<IPage> pages, Dictionary<string, double> sent, TimeSpan timeout)
    {
        var ids = sent.Keys.ToArray();
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            var counts = await Task.WhenAll(pages.Select(p => p.EvaluateAsync<int>("ids => ids.filter(id => id in window.__seen).length", ids))).ConfigureAwait(false);
            if (counts.All(c => c == ids.Length))
            {
                break;
            }

            await Task.Delay(250).ConfigureAwait(false);
        }

        var appearances = new List<Appearance>();
        for (var console = 0; console < pages.Count; console++)
        {
            var seen = await pages[console].EvaluateAsync<Dictionary<string, double>>("() => window.__seen").ConfigureAwait(false);
            foreach (var (id, at) in sent)
            {
                if (seen.TryGetValue(id, out var shown))
                {
                    appearances.Add(new Appearance(console, id, at, shown - at));
                }
            }
        }

        return appearances;
    }

    /// <summary>One alarm's card on one console: the press time and the latency, in ms.</summary>
    private sealed record Appearance(int Console, string Id, double SentMs, double LatencyMs);

    /// <summary>
    /// Counts the WebSocket frames a console receives and their bytes inside the page (<c>window.__ws</c>, counting only
    /// while <c>counting</c> is set). It replaced the DevTools protocol's frame events: those sent every frame, base64,
    /// through Playwright's driver to this process, which shares the server's scheduler group, so the measuring itself
    /// took the server's cores during the steady phase.
    /// </summary>
    private const string WebSocketCounter = """
        (() => {
          const Native = window.WebSocket;
          const count = { counting: false, frames: 0, bytes: 0, keep: 0, kept: [] };
          const utf8 = new TextEncoder();
          window.__ws = count;
          window.WebSocket = class extends Native {
            constructor(...args) {
              super(...args);
              this.addEventListener('message', e => {
                if (!count.counting) return;
                const d = e.data;
                count.frames++;
                count.bytes += typeof d === 'string' ? utf8.encode(d).length : (d.byteLength ?? d.size ?? 0);
                if (count.kept.length < count.keep && d instanceof ArrayBuffer) count.kept.push(new Uint8Array(d.slice(0)));
              });
            }
          };
        })();
        """;

    private static async Task<IBrowserContext> NewConsoleContextAsync(IBrowser browser, string url)
    {
        var context = await browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = url }).ConfigureAwait(false);
        await context.AddInitScriptAsync(WebSocketCounter).ConfigureAwait(false);
        return context;
    }

    private static async Task<IPage> SignInAsync(IBrowser browser, string url)
    {
        var context = await NewConsoleContextAsync(browser, url).ConfigureAwait(false);

        // The consoles here share two cores with the server; in a 110 centre each runs on its own PC. Their
        // pop-up video (measured by the media benchmark) is switched off so this measures the alarm path.
        await context.AddInitScriptAsync("delete window.RTCPeerConnection;").ConfigureAwait(false);
        if (Environment.GetEnvironmentVariable("PORTAL_BENCH_CSS") is { } css)
        {
            await context.AddInitScriptAsync("document.addEventListener('DOMContentLoaded', () => { const s = document.createElement('style'); s.textContent = " + JsonSerializer.Serialize(css) + "; document.head.appendChild(s); });").ConfigureAwait(false);
        }

        var page = await context.NewPageAsync().ConfigureAwait(false);
        await page.GotoAsync("/police").ConfigureAwait(false);
        await DemoSignIn.SignInAsync(page, "city110").ConfigureAwait(false);
        return page;
    }

    private static int Arg(string[] args, int index, int fallback) =>
        args.Length > index && int.TryParse(args[index], NumberStyles.None, CultureInfo.InvariantCulture, out var v) && v > 0 ? v : fallback;

    /// <summary>The value of <c>--name=value</c>, or null (also for a bare <c>--name</c>).</summary>
    private static string? Option(string[] args, string name) =>
        args.FirstOrDefault(a => a.StartsWith(name + "=", StringComparison.Ordinal))?[(name.Length + 1)..];

    private sealed record Settings(int Consoles, int Rate, int Seconds, int Burst, int BrowserNice, int DeviceNice)
    {
        public int Steady => Rate * Seconds;
    }

    private enum Phase
    {
        WarmUp,
        Steady,
        Burst,
    }

    private readonly record struct Key(Phase Phase, int Index)
    {
        public static Key WarmUp(int i) => new(Phase.WarmUp, i);

        public static Key Steady(int i) => new(Phase.Steady, i);

        public static Key Burst(int i) => new(Phase.Burst, i);

        public override string ToString() => (Phase switch { Phase.WarmUp => "w-", Phase.Steady => "s-", _ => "b-" }) + Index.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>One press: the id its card carries, when it was sent (epoch ms), whether it was accepted, and the device's wait for the answer.</summary>
    private sealed record Press(string Id, double SentMs, bool Accepted, double RoundTripMs, string? ServerTiming = null, long SentAt = 0);

    /// <summary>
    /// PORTAL_BENCH_SERVER_TIMING=1: where the device answers' time went inside the portal (its Server-Timing header,
    /// see RequestStamps), each stage's p50/p99/max, and what lies outside the portal's pipeline (the client's wait
    /// minus the portal's total: sockets, Kestrel before the first middleware, this process), split into the way in
    /// (the device's send to the first middleware, on the machine's one monotonic clock) and the way out; and how many
    /// presses a garbage collection paused while they were in the portal, among them and among the slowest 1%.
    /// </summary>
    private static void PrintServerTiming(string phase, IReadOnlyCollection<Press> presses)
    {
        var stages = new Dictionary<string, List<double>>();

        // A press's stage goes into the phase's figures and into the press's own list (for the slowest answers).
        void Add(List<(string Stage, double Ms)> mine, string stage, double ms)
        {
            (stages.TryGetValue(stage, out var list) ? list : stages[stage] = []).Add(ms);
            mine.Add((stage, ms));
        }

        var timed = presses.Where(p => p.ServerTiming is not null).ToList();
        var paused = new HashSet<Press>(); // presses during which a garbage collection paused the portal
        var pauses = new List<double>();
        var own = new Dictionary<Press, List<(string Stage, double Ms)>>(); // each press's stages, for the slowest
        var clocks = new Dictionary<Press, (long Arrived, double AtArrivalMs, long Answered, double AtAnswerMs)>(); // the portal's pause clock
        foreach (var press in timed)
        {
            var mine = own[press] = [];
            double? total = null;
            long? arrived = null;
            double? clockIn = null, clockOut = null;
            long? answered = null;
            foreach (var part in press.ServerTiming!.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                var fields = part.Split(';');
                var value = fields.Skip(1).FirstOrDefault(f => f.StartsWith("dur=", StringComparison.Ordinal) || f.StartsWith("desc=", StringComparison.Ordinal));
                if (value is null || !double.TryParse(value[(value.IndexOf('=') + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture, out var v))
                {
                    continue;
                }

                switch (fields[0])
                {
                    case "arrived":
                        arrived = (long)v;
                        continue;
                    case "answered":
                        answered = (long)v;
                        continue;
                    case "gc-clock-in":
                        clockIn = v;
                        continue;
                    case "gc-clock-out":
                        clockOut = v;
                        continue;
                }

                if (fields[0] is "gc" or "gc-pause")
                {
                    paused.Add(press);
                    if (fields[0] == "gc-pause")
                    {
                        pauses.Add(v);
                        mine.Add(("gc-pause", v));
                    }

                    continue;
                }

                Add(mine, fields[0], v);
                total = fields[0] == "total" ? v : total;
            }

            if (total is { } t)
            {
                Add(mine, "outside", press.RoundTripMs - t);
                if (arrived is { } at && press.SentAt != 0)
                {
                    // The same monotonic clock in both processes: the way in (send to the first middleware) and the way out.
                    var inbound = Stopwatch.GetElapsedTime(press.SentAt, at).TotalMilliseconds;
                    Add(mine, "in", inbound);
                    Add(mine, "out", press.RoundTripMs - t - inbound);
                }
            }

            if (arrived is { } a && answered is { } b && clockIn is { } ci && clockOut is { } co)
            {
                clocks[press] = (a, ci, b, co);
            }
        }

        var outsidePaused = PauseOutsideThePipeline(clocks, own);

        if (stages.Count == 0)
        {
            return;
        }

        Console.WriteLine($"  {phase}: inside the portal (Server-Timing, ms: p50/p99/max):");
        Console.WriteLine("    " + string.Join(", ", stages.Select(kv =>
        {
            kv.Value.Sort();
            return FormattableString.Invariant($"{kv.Key} {Percentiles.Of(kv.Value, 0.50):0.0}/{Percentiles.Of(kv.Value, 0.99):0.0}/{kv.Value[^1]:0.0}");
        })));

        // The garbage collector stops every thread of the portal while it runs: a press in the portal then waits for it.
        var slowest = timed.OrderByDescending(p => p.RoundTripMs).Take(Math.Max(1, timed.Count / 100)).ToList();
        pauses.Sort();
        Console.WriteLine(FormattableString.Invariant(
            $"    garbage collections paused {paused.Count} of {timed.Count} presses in the portal") + (pauses.Count == 0 ? string.Empty : FormattableString.Invariant(
            $" (pause during a press p50 {Percentiles.Of(pauses, 0.50):0.0} ms, max {pauses[^1]:0.0} ms)")) + FormattableString.Invariant(
            $"; of the slowest 1% of answers ({slowest.Count}), {slowest.Count(paused.Contains)} were paused"));
        if (clocks.Count > 0)
        {
            var (inbound, outbound) = (outsidePaused.Where(p => p.Value.In > 0).ToList(), outsidePaused.Where(p => p.Value.Out > 0).ToList());
            Console.WriteLine(FormattableString.Invariant(
                $"    and outside it (gc-in, gc-out: at most the pause time grown between the portal's nearest readings, from any press, around the way in or out): {inbound.Count} presses on the way in")
                + (inbound.Count == 0 ? string.Empty : FormattableString.Invariant($" (max {inbound.Max(p => p.Value.In):0.0} ms)"))
                + FormattableString.Invariant($", {outbound.Count} on the way out") + (outbound.Count == 0 ? string.Empty : FormattableString.Invariant($" (max {outbound.Max(p => p.Value.Out):0.0} ms)"))
                + FormattableString.Invariant($"; of the slowest 1%, {slowest.Count(outsidePaused.ContainsKey)}"));
        }

        // Where each of the slowest answers spent its time: its largest stages. Not the sums (total, commit, outside), the
        // batch's size, or sync-cpu: a part of sync, like sync-runq, which stays because a wait for a core says more.
        Console.WriteLine("    the slowest answers (ms: largest stages): " + string.Join("; ", slowest.Select(p => FormattableString.Invariant($"{p.RoundTripMs:0.0}: ")
            + string.Join(", ", own[p].Where(st => st.Stage is not ("total" or "commit" or "outside" or "batch" or "sync-cpu")).OrderByDescending(st => st.Ms).Take(4)
                .Select(st => FormattableString.Invariant($"{st.Stage} {st.Ms:0.0}"))))));
    }

    /// <summary>
    /// For each press, the garbage-collection pause that can have fallen on its way in (the device's send to the first
    /// middleware) or out (the answer to the device's receipt), where the portal's own stamps do not reach: the growth of
    /// the portal's pause clock (GC.GetTotalPauseDuration) from the last reading at or before the stretch began to the
    /// first at or after it ended. Readings come from every press (two each, at 50/s about every 10 ms), so this is an
    /// upper bound: a collection just outside the stretch but between the readings counts too. Adds gc-in and gc-out to
    /// the press's stages when above 0.05 ms; returns the presses it found paused so.
    /// </summary>
    private static Dictionary<Press, (double In, double Out)> PauseOutsideThePipeline(
        Dictionary<Press, (long Arrived, double AtArrivalMs, long Answered, double AtAnswerMs)> clocks, Dictionary<Press, List<(string Stage, double Ms)>> own)
    {
        var readings = clocks.Values.SelectMany(c => new[] { (At: c.Arrived, Ms: c.AtArrivalMs), (At: c.Answered, Ms: c.AtAnswerMs) }).OrderBy(r => r.At).ToArray();
        var times = readings.Select(r => r.At).ToArray();
        var found = new Dictionary<Press, (double In, double Out)>();
        foreach (var (press, clock) in clocks)
        {
            if (press.SentAt == 0)
            {
                continue;
            }

            var before = CountAtOrBefore(times, press.SentAt) - 1; // the last reading at or before the send
            var inbound = before < 0 ? 0 : clock.AtArrivalMs - readings[before].Ms;
            var after = CountAtOrBefore(times, press.SentAt + (long)(press.RoundTripMs * Stopwatch.Frequency / 1000) - 1); // the first at or after the receipt
            var outbound = after >= times.Length ? 0 : readings[after].Ms - clock.AtAnswerMs;
            (inbound, outbound) = (inbound > 0.05 ? inbound : 0, outbound > 0.05 ? outbound : 0);
            if (inbound > 0 || outbound > 0)
            {
                found[press] = (inbound, outbound);
                if (inbound > 0)
                {
                    own[press].Add(("gc-in", inbound));
                }

                if (outbound > 0)
                {
                    own[press].Add(("gc-out", outbound));
                }
            }
        }

        return found;
    }

    // How many of the sorted readings were taken at or before this instant (raw clock ticks).
    private static int CountAtOrBefore(long[] sorted, long at)
    {
        var (low, high) = (0, sorted.Length);
        while (low < high)
        {
            var middle = (low + high) >>> 1;
            (low, high) = sorted[middle] <= at ? (middle + 1, high) : (low, middle);
        }

        return low;
    }

    private sealed record Target(
        string Name,
        string Url,
        Process Process,
        string CardSelector,
        string IdAttribute,
        Func<Send, Key, Task<Press>> PressAsync,
        Func<IBrowser, string, Task<IPage>> OpenConsoleAsync,
        Func<IEnumerable<string>, Task<long>> StoredAsync,
        bool StoredCountsAll = false,
        Process? Cameras = null);

    private sealed record Result(double P50, double P95, double P99, double AnswerP99, double BurstLastMs, int Lost);
}
