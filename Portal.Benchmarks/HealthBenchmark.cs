using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Dapper;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Portal.Benchmarks.Harness;
using Portal.Core.Data;
using Portal.Core.Demo;
using Portal.Core.Devices;
using Portal.Core.Health;
using Portal.Core.Installation;
using Portal.Core.Notifications;
using Portal.Core.Schools;
using Portal.Health;
using Portal.Services;

namespace Portal.Benchmarks;

/// <summary>
/// Device health at city scale (issue 12): a fresh SQLite city of N cameras and M terminals, every camera served by one
/// simulated camera fleet in its own process on 127.0.0.1 (<c>Portal.Simulator camera --fleet</c>: real RTSP
/// OPTIONS/DESCRIBE with Digest and real ONVIF, each camera on its own path, as demo mode serves them; taken down through
/// its standard input), so this process's CPU is the portal side's alone, every terminal heartbeating once an interval into <see cref="DevicePresence"/> (where
/// the signed HTTP heartbeat lands; the HTTP and HMAC cost per heartbeat is not in these figures), and the portal's own
/// <see cref="HealthMonitor"/> with the real camera probe running one cycle per interval. After a warm cycle, 1 % of
/// the cameras go down and 1 % of the terminals fall silent, each at a random moment of the next interval. Prints each
/// cycle (devices, probe phase, CPU, most probes in flight), the detection time of the outages from the moment each device
/// was taken down (max and p95 per kind, any over 3 minutes flagged LATE and failing the run), and false offlines.
/// Stops by itself: once every outage is found, or 3 intervals plus 2 after the last one.
/// </summary>
internal static class HealthBenchmark
{
    /// <summary>Every outage must be found within this (EN 50136's best grade: 3 minutes).</summary>
    private static readonly TimeSpan DetectionBound = TimeSpan.FromMinutes(3);

    public const string Usage = "health [cameras=3000] [terminals=3000] [interval=60] [down-percent=1]";

    public static async Task<int> RunAsync(string[] args)
    {
        var cameras = Arg(args, 0, 3000);
        var terminals = Arg(args, 1, 3000);
        var intervalSeconds = Arg(args, 2, 60);
        var downPercent = Arg(args, 3, 1);
        var options = new HealthOptions { CheckIntervalSeconds = intervalSeconds, NotifyAfterSeconds = 0 };
        var interval = options.Interval;
        var folder = Directory.CreateTempSubdirectory("portal-health-bench-");
        var time = TimeProvider.System;
        try
        {
            Console.WriteLine($"health: {cameras:N0} cameras, {terminals:N0} terminals, interval {intervalSeconds} s, offline after {options.MissedIntervalsForOffline} failures "
                + $"(re-probed every {options.RetryIntervalSeconds} s after the first; terminals silent {options.SilenceForOffline.TotalSeconds:0} s), "
                + $"probe time-out {options.ProbeTimeoutSeconds} s, spread {options.ProbeSpread.TotalSeconds:0} s, at most {options.MaxConcurrentProbes} first probes and {options.MaxConcurrentProbes} retries in flight");
            var db = new Db(Db.SqliteConnectionString(Path.Combine(folder.FullName, "portal.db")), SqlDialect.Sqlite);
            DbMigrator.Migrate(db);
            var secrets = new DeviceSecrets(new EphemeralDataProtectionProvider());
            var seeding = Stopwatch.StartNew();
            await new DemoCity(db, secrets, time).SeedAsync(Math.Max(cameras, terminals)).ConfigureAwait(false);
            await PrepareAsync(db, cameras, terminals).ConfigureAwait(false);
            Console.WriteLine($"  seeded in {seeding.Elapsed.TotalSeconds:0.0} s");

            var devices = new DeviceRepository(db);
            var schools = new SchoolRepository(db);
            var installation = new InstallationService(db, new InstallationRepository(db), schools, new DistrictRepository(db), devices,
                new ProgrammeQueries(db, time), new InstallationFiles(folder.FullName), time);
            using var fleet = await FleetProcess.StartAsync().ConfigureAwait(false);
            Console.WriteLine($"  camera fleet: process {fleet.Process.Id}, {fleet.RtspBase} and {fleet.OnvifBase}");
            await using var resolver = new GateCameraResolver(
                Options.Create(new PortalOptions { DemoMode = true, DemoFleetRtspUrl = fleet.RtspBase, DemoFleetOnvifUrl = fleet.OnvifBase }),
                secrets, NullLoggerFactory.Instance, time);
            await resolver.StartAsync(CancellationToken.None).ConfigureAwait(false);
            using var http = new HttpClients();
            var probe = new CountingProbe(new CameraHealthProbe(resolver, new DevicePasswordCache(secrets, devices), http, time));
            var presence = new DevicePresence(devices, installation, time, NullLogger<DevicePresence>.Instance);
            var monitor = new HealthMonitor(new HealthRepository(db), new NotificationRepository(db), new NotificationCenter(NullLogger<NotificationCenter>.Instance),
                installation, probe, new NoSipOptionsProbe(), Options.Create(options), time, NullLogger<HealthMonitor>.Instance, presence);
            await presence.StartAsync(CancellationToken.None).ConfigureAwait(false);
            using var silence = new HealthSilenceWatch(monitor, Options.Create(options), time, NullLogger<HealthSilenceWatch>.Instance);
            await silence.StartAsync(CancellationToken.None).ConfigureAwait(false);

            // The outages: 1 % of each kind, each at a random moment of the interval after the warm cycle.
            var random = new Random(20261202);
            await using var connection = db.Open();
            var terminalRows = (await connection.QueryAsync<Device>("SELECT * FROM Device WHERE Kind = @Kind AND Enabled = 1",
                new { Kind = (int)DeviceKind.AlarmTerminal }).ConfigureAwait(false)).ToList();
            var cameraRows = (await connection.QueryAsync<Device>("SELECT * FROM Device WHERE Kind = @Kind AND Enabled = 1",
                new { Kind = (int)DeviceKind.GateCamera }).ConfigureAwait(false)).ToList();
            var start = time.GetUtcNow().UtcDateTime;
            var outages = new ConcurrentDictionary<int, DateTime>();
            var lastBeats = new ConcurrentDictionary<int, DateTime>();
            var cycles = new List<(DateTime Start, DateTime End)>();
            var cameraOutages = cameraRows.OrderBy(_ => random.Next()).Take(cameras * downPercent / 100)
                .Select(c => (Camera: c, At: start + interval + (interval * random.NextDouble()))).ToList();
            var terminalOutages = terminalRows.OrderBy(_ => random.Next()).Take(terminals * downPercent / 100)
                .ToDictionary(t => t.Id, _ => start + interval + (interval * random.NextDouble()));
            var lastOutage = cameraOutages.Select(o => o.At).Concat(terminalOutages.Values).DefaultIfEmpty(start).Max();
            var end = lastOutage + (interval * (options.MissedIntervalsForOffline + 2));

            using var stop = new CancellationTokenSource();
            var sweep = new Stopwatch();
            var beats = HeartbeatsAsync(presence, terminalRows, terminalOutages, outages, lastBeats, sweep, interval, time, stop.Token);
            var failures = TakeDownAsync(fleet, cameraOutages, outages, time, stop.Token);

            Console.WriteLine("  cycle  devices  probed  no-sign  changes  first-probes  probe-phase  cycle     CPU/interval  in-flight max");
            using var self = Process.GetCurrentProcess();
            var cpu = self.TotalProcessorTime;
            var fleetCpu = fleet.Process.TotalProcessorTime;
            var fleetCpuPerInterval = new List<double>();
            var cycle = 0;
            var worstPhase = TimeSpan.Zero;
            var worstFirst = TimeSpan.Zero;
            var maxInFlight = 0;
            var cpuPerInterval = new List<double>();
            while (true)
            {
                var due = start + (interval * cycle);
                var wait = due - time.GetUtcNow().UtcDateTime;
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, time).ConfigureAwait(false);
                }

                probe.ResetMax();
                var cycleStart = time.GetUtcNow().UtcDateTime;
                var result = await monitor.RunCycleAsync(CancellationToken.None).ConfigureAwait(false);
                cycles.Add((cycleStart, time.GetUtcNow().UtcDateTime));
                var next = start + (interval * (cycle + 1)) - time.GetUtcNow().UtcDateTime;
                if (next > TimeSpan.Zero)
                {
                    await Task.Delay(next, time).ConfigureAwait(false); // the CPU of the whole interval, idle part included
                }

                self.Refresh();
                var used = self.TotalProcessorTime;
                var share = (used - cpu) / interval * 100;
                cpu = used;
                fleet.Process.Refresh();
                var fleetUsed = fleet.Process.TotalProcessorTime;
                fleetCpuPerInterval.Add((fleetUsed - fleetCpu) / interval * 100);
                fleetCpu = fleetUsed;
                worstPhase = result.ProbePhase > worstPhase ? result.ProbePhase : worstPhase;
                worstFirst = result.FirstProbes > worstFirst ? result.FirstProbes : worstFirst;
                maxInFlight = Math.Max(maxInFlight, probe.MaxInFlight);
                cpuPerInterval.Add(share);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  {cycle,5}  {result.Devices,7}  {result.Probed,6}  {result.Failed,7}  {result.Changes,7}  {result.FirstProbes.TotalMilliseconds,9:F0} ms  {result.ProbePhase.TotalMilliseconds,8:F0} ms  {result.Elapsed.TotalMilliseconds,6:F0} ms  {share,8:F1} %    {probe.MaxInFlight,5}"));
                cycle++;
                var detected = await OfflineAsync(db).ConfigureAwait(false);
                var allFound = outages.Count == cameraOutages.Count + terminalOutages.Count && outages.Keys.All(detected.ContainsKey);
                if ((allFound && time.GetUtcNow().UtcDateTime > lastOutage) || time.GetUtcNow().UtcDateTime > end)
                {
                    break;
                }
            }

            await stop.CancelAsync().ConfigureAwait(false);
            await Task.WhenAll(beats, failures).ConfigureAwait(false);
            await silence.StopAsync(CancellationToken.None).ConfigureAwait(false);
            await presence.StopAsync(CancellationToken.None).ConfigureAwait(false);
            presence.Dispose();

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  every device's first probe of the interval done within, worst: {worstFirst.TotalSeconds:F1} s (the probe phase also waits for retry chains, which start until 53 s)"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  the simulated terminals' in-process loop (their sweeps' wall time, DevicePresence.Seen included: an upper bound of what is not the portal's): {sweep.Elapsed.TotalMilliseconds / Math.Max(1, cycle):F0} ms per interval"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  CPU of the camera fleet process (not the portal's) per interval: mean {fleetCpuPerInterval.Skip(1).DefaultIfEmpty(0).Average():F1} %, max {fleetCpuPerInterval.Skip(1).DefaultIfEmpty(0).Max():F1} % of one core"));
            var found = await OfflineAsync(db).ConfigureAwait(false);
            Silences(found, lastBeats, outages, options, cycles);
            return Report(found, outages, [.. cameraOutages.Select(o => o.Camera.Id)], options, worstPhase, maxInFlight, cpuPerInterval);
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            folder.Delete(recursive: true);
        }
    }

    /// <summary>
    /// Each silent terminal's detection counted from its last heartbeat, against its deadline (last heartbeat +
    /// SilenceForOffline): how late after the deadline the offline mark was written, and in which cycle.
    /// </summary>
    private static void Silences(IReadOnlyDictionary<int, DateTime> offline, ConcurrentDictionary<int, DateTime> lastBeats,
        ConcurrentDictionary<int, DateTime> outages, HealthOptions options, List<(DateTime Start, DateTime End)> cycles)
    {
        var rows = lastBeats.Where(b => offline.ContainsKey(b.Key) && outages.ContainsKey(b.Key))
            .Select(b => (Id: b.Key, Beat: b.Value, Died: outages[b.Key], At: offline[b.Key], Lag: (offline[b.Key] - (b.Value + options.SilenceForOffline)).TotalSeconds))
            .OrderByDescending(r => r.Lag).ToList();
        if (rows.Count == 0)
        {
            return;
        }

        var t0 = cycles.Count > 0 ? cycles[0].Start : rows.Min(r => r.Beat);
        string S(DateTime t) => ((t - t0).TotalSeconds).ToString("F1", CultureInfo.InvariantCulture);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  terminals from their last heartbeat to the offline mark: max {rows.Max(r => (r.At - r.Beat).TotalSeconds):F1} s; after the deadline (last heartbeat + {options.SilenceForOffline.TotalSeconds:0} s): max {rows[0].Lag:F1} s, mean {rows.Average(r => r.Lag):F1} s"));
        Console.WriteLine("  cycles (s from the first start): " + string.Join(", ", cycles.Select(c => $"{S(c.Start)}-{S(c.End)}")));
        foreach (var r in rows.Take(10))
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"    terminal {r.Id}: last beat {S(r.Beat)}, died {S(r.Died)}, deadline {S(r.Beat + options.SilenceForOffline)}, offline {S(r.At)} (+{r.Lag:F1} s; {(r.At - r.Died).TotalSeconds:F1} s after it died)"));
        }
    }

    private static int Report(IReadOnlyDictionary<int, DateTime> offline, ConcurrentDictionary<int, DateTime> outages, HashSet<int> cameraIds, HealthOptions options,
        TimeSpan worstPhase, int maxInFlight, List<double> cpuPerInterval)
    {
        var missed = outages.Keys.Where(id => !offline.ContainsKey(id)).ToList();
        var falseOffline = offline.Keys.Where(id => !outages.ContainsKey(id)).ToList();
        // Detection time: from the moment each device was taken down (a camera refusing, a terminal's heartbeats stopping)
        // to its offline mark, sorted per kind.
        List<double> Times(bool camera) => [.. outages.Where(o => cameraIds.Contains(o.Key) == camera && offline.ContainsKey(o.Key))
            .Select(o => (offline[o.Key] - o.Value).TotalSeconds).Order()];
        static double P95(List<double> sorted) => sorted.Count == 0 ? 0 : sorted[Math.Max(0, (int)Math.Ceiling(sorted.Count * 0.95) - 1)];
        var cameraTimes = Times(camera: true);
        var terminalTimes = Times(camera: false);
        var bound = DetectionBound.TotalSeconds;
        var late = cameraTimes.Count(t => t > bound) + terminalTimes.Count(t => t > bound);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"""
              full check cycle (probe phase), worst: {worstPhase.TotalSeconds:F1} s of a {options.Interval.TotalSeconds:0} s interval
              CPU of this process (prober, SQLite, presence; the terminals' in-process heartbeats; no camera) per interval: mean {cpuPerInterval.Skip(1).DefaultIfEmpty(0).Average():F1} %, max {cpuPerInterval.Skip(1).DefaultIfEmpty(0).Max():F1} % of one core (warm cycle left out)
              probes in flight, most at once: {maxInFlight} (bound {options.MaxConcurrentProbes} first probes + {options.MaxConcurrentProbes} retries)
              outages: {outages.Count} ({cameraIds.Count} cameras down, {outages.Count - cameraIds.Count} terminals silent); detected {outages.Count - missed.Count}
              detection time from the moment each device was taken down (bound {bound:0} s):
                cameras   max {cameraTimes.DefaultIfEmpty(0).Max(),6:F1} s  p95 {P95(cameraTimes),6:F1} s  over {bound:0} s: {cameraTimes.Count(t => t > bound)}{(cameraTimes.Any(t => t > bound) ? "  <-- LATE" : "")}
                terminals max {terminalTimes.DefaultIfEmpty(0).Max(),6:F1} s  p95 {P95(terminalTimes),6:F1} s  over {bound:0} s: {terminalTimes.Count(t => t > bound)}{(terminalTimes.Any(t => t > bound) ? "  <-- LATE" : "")}
              false offline: {falseOffline.Count}
            """));
        var ok = missed.Count == 0 && falseOffline.Count == 0 && late == 0 && maxInFlight <= 2 * options.MaxConcurrentProbes;
        Console.WriteLine(ok ? "  PASS" : $"  FAIL: {missed.Count} outages not detected, {late} detected later than {bound:0} s, {falseOffline.Count} false offline");
        return ok ? 0 : 1;
    }

    /// <summary>Enables the first <paramref name="cameras"/> cameras and <paramref name="terminals"/> terminals, accepted and online (a finished city).</summary>
    private static async Task PrepareAsync(Db db, int cameras, int terminals)
    {
        await using var connection = db.Open();
        await connection.ExecuteAsync(
            """
            UPDATE Device SET InstallState = @Accepted, HealthState = @Online,
                Enabled = CASE WHEN Id IN (SELECT Id FROM (SELECT Id, Kind, ROW_NUMBER() OVER (PARTITION BY Kind ORDER BY Id) AS n FROM Device) r
                                           WHERE r.n <= CASE WHEN r.Kind = @Camera THEN @cameras ELSE @terminals END)
                    THEN 1 ELSE 0 END
            """,
            new { Accepted = (int)DeviceInstallState.Accepted, Online = (int)DeviceHealthState.Online, Camera = (int)DeviceKind.GateCamera, cameras, terminals }).ConfigureAwait(false);
    }

    /// <summary>Every terminal heartbeats once an interval at its own phase, until its outage.</summary>
    private static async Task HeartbeatsAsync(DevicePresence presence, List<Device> terminals, Dictionary<int, DateTime> outageAt,
        ConcurrentDictionary<int, DateTime> outages, ConcurrentDictionary<int, DateTime> lastBeats, Stopwatch sweep, TimeSpan interval, TimeProvider time, CancellationToken ct)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var next = new DateTime[terminals.Count];
        for (var i = 0; i < terminals.Count; i++)
        {
            presence.Seen(terminals[i]);
            next[i] = now + (interval * ((i * 0.618033988749895) % 1.0));
        }

        await presence.FlushAsync(ct).ConfigureAwait(false);
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(250), time);
        try
        {
            while (await timer.WaitForNextTickAsync(ct).ConfigureAwait(false))
            {
                sweep.Start();
                now = time.GetUtcNow().UtcDateTime;
                for (var i = 0; i < terminals.Count; i++)
                {
                    var t = terminals[i];
                    if (outageAt.TryGetValue(t.Id, out var dies) && now >= dies)
                    {
                        outages.TryAdd(t.Id, dies);
                        continue;
                    }

                    if (now >= next[i])
                    {
                        presence.Seen(t);
                        if (outageAt.ContainsKey(t.Id))
                        {
                            lastBeats[t.Id] = time.GetUtcNow().UtcDateTime;
                        }

                        next[i] += interval;
                    }
                }

                sweep.Stop();
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static async Task TakeDownAsync(FleetProcess fleet, List<(Device Camera, DateTime At)> plan, ConcurrentDictionary<int, DateTime> outages,
        TimeProvider time, CancellationToken ct)
    {
        try
        {
            foreach (var (camera, at) in plan.OrderBy(p => p.At))
            {
                var wait = at - time.GetUtcNow().UtcDateTime;
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, time, ct).ConfigureAwait(false);
                }

                await fleet.SetAsync(GateCameraResolver.DemoName(camera.RtspUrl)!, "down", ct).ConfigureAwait(false);
                outages.TryAdd(camera.Id, time.GetUtcNow().UtcDateTime);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Each device's first transition to offline.</summary>
    private static async Task<IReadOnlyDictionary<int, DateTime>> OfflineAsync(Db db)
    {
        await using var connection = db.Open();
        var rows = await connection.QueryAsync<(int DeviceId, DateTime AtUtc)>("SELECT DeviceId, MIN(AtUtc) FROM DeviceHealthEvent WHERE ToState = @Offline GROUP BY DeviceId",
            new { Offline = (int)DeviceHealthState.Offline }).ConfigureAwait(false);
        return rows.ToDictionary(r => r.DeviceId, r => r.AtUtc);
    }

    private static int Arg(string[] args, int index, int fallback) =>
        index < args.Length && int.TryParse(args[index], NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value > 0 ? value : fallback;

    /// <summary>Counts the probes in flight, to show the bound holds.</summary>
    private sealed class CountingProbe(ICameraProbe inner) : ICameraProbe
    {
        private int _inFlight;
        private int _max;

        public int MaxInFlight => Volatile.Read(ref _max);

        public void ResetMax() => Volatile.Write(ref _max, 0);

        public async Task<ProbeResult> ProbeAsync(HealthTarget camera, TimeSpan timeout, CancellationToken ct)
        {
            var now = Interlocked.Increment(ref _inFlight);
            int seen;
            while (now > (seen = Volatile.Read(ref _max)) && Interlocked.CompareExchange(ref _max, now, seen) != seen)
            {
            }

            try
            {
                return await inner.ProbeAsync(camera, timeout, ct).ConfigureAwait(false);
            }
            finally
            {
                Interlocked.Decrement(ref _inFlight);
            }
        }
    }

    /// <summary>The portal's ONVIF health client settings (Portal/Extensions.cs): 15 s, a 256 KB buffer.</summary>
    private sealed class HttpClients : IHttpClientFactory, IDisposable
    {
        private readonly SocketsHttpHandler _handler = new();

        public HttpClient CreateClient(string name) => new(_handler, disposeHandler: false) { Timeout = TimeSpan.FromSeconds(15), MaxResponseContentBufferSize = 256 * 1024 };

        public void Dispose() => _handler.Dispose();
    }
}
