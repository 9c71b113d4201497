using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Runtime;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Portal.Benchmarks.Harness;
using Portal.Media.Bridges;
using Portal.Media.Rtsp;
using Portal.Media.WebRtc;
using Portal.Media.WebRtc.Dtls;
using Portal.Simulator.Cameras;

namespace Portal.Benchmarks;

/// <summary>
/// Part 2 of <c>media</c>: CPU and memory of the media plane for N WebRTC viewers of one 4 Mbps camera.
/// </summary>
/// <remarks>
/// The media plane (<see cref="CameraHub"/> and <see cref="WebRtcEndpoint"/>, as the portal wires them through
/// <see cref="RtspToWebRtcBridge"/>) runs alone in a child process (<c>media serve RTSP-URI</c>), so its CPU and memory
/// are its own. This process plays the camera (the simulator's RTSP server looping a 4 Mbps clip) and the
/// viewers (<see cref="WebRtcViewer"/>: ICE, DTLS, SRTP decrypt of every packet). Offers and answers go over the
/// child's stdin/stdout, one line each, as the Blazor circuit would carry them.
/// </remarks>
internal static class MediaViewers
{
    private const string CameraUser = "admin";
    private const string CameraPassword = "gate-cam-1";

    public static async Task<bool> RunAsync(int viewerCount, int seconds)
    {
        var clip = await CameraFeed.LoadHighRateClipAsync().ConfigureAwait(false);
        var clipRate = new CameraFeed(clip).MegabitsPerSecond;
        await using var camera = await SimulatedCamera.StartAsync(new SimulatedCameraOptions { Clip = clip, Username = CameraUser, Password = CameraPassword }).ConfigureAwait(false);
        Console.WriteLine(FormattableString.Invariant(
            $"[viewers] camera: simulated RTSP server (TCP interleaved, Digest) looping a real H.264 clip at {clipRate:0.00} Mbit/s of RTP: {CameraFeed.HighRateDescription}"));

        using var server = StartServer(camera.RtspUri);
        var viewers = new List<WebRtcViewer>();
        try
        {
            await ReadLineAsync(server, "READY").ConfigureAwait(false);
            var certificate = DtlsCertificate.Generate();
            var connectClock = Stopwatch.StartNew();
            using var signalling = new SemaphoreSlim(1, 1);
            var failures = 0;
            for (var batch = 0; batch < viewerCount; batch += 10)
            {
                var tasks = new List<Task>();
                for (var i = batch; i < Math.Min(viewerCount, batch + 10); i++)
                {
                    var viewer = new WebRtcViewer(certificate);
                    viewers.Add(viewer);
                    tasks.Add(ConnectAsync(viewer));
                }

                try
                {
                    await Task.WhenAll(tasks).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is IOException or TimeoutException or OperationCanceledException or InvalidOperationException)
                {
                    failures += tasks.Count(t => t.IsFaulted || t.IsCanceled);
                }
            }

            Console.WriteLine(FormattableString.Invariant(
                $"  {viewerCount - failures} of {viewerCount} viewers connected (ICE + DTLS) in {connectClock.Elapsed.TotalSeconds:0.0} s; socket receive buffer {viewers[0].SocketReceiveBuffer / 1024} KiB each"));

            // Every viewer starts with the cached GOP; measure the steady state after that.
            await Task.Delay(3000).ConfigureAwait(false);
            var before = await StatsAsync(server, signalling).ConfigureAwait(false);
            var machineBefore = MachineCpu.Read();
            var selfBefore = Process.GetCurrentProcess().TotalProcessorTime;
            var receivedBefore = viewers.Sum(v => v.Packets);
            var bytesBefore = viewers.Sum(v => v.Bytes);
            var expectedBefore = viewers.Sum(v => v.Expected);
            var clock = Stopwatch.StartNew();
            var peakWorkingSet = before.WorkingSet;
            while (clock.Elapsed < TimeSpan.FromSeconds(seconds))
            {
                await Task.Delay(1000).ConfigureAwait(false);
                peakWorkingSet = Math.Max(peakWorkingSet, (await StatsAsync(server, signalling).ConfigureAwait(false)).WorkingSet);
            }

            var after = await StatsAsync(server, signalling).ConfigureAwait(false);
            var wall = clock.Elapsed.TotalSeconds;
            var machine = MachineCpu.Read() - machineBefore;
            var self = (Process.GetCurrentProcess().TotalProcessorTime - selfBefore).TotalSeconds;
            var received = viewers.Sum(v => v.Packets) - receivedBefore;
            var receivedBytes = viewers.Sum(v => v.Bytes) - bytesBefore;
            var expected = viewers.Sum(v => v.Expected) - expectedBefore;
            var cpu = (after.CpuMs - before.CpuMs) / 1000.0 / wall;
            var forwarded = (after.StreamPackets - before.StreamPackets) * after.Bridges;
            var forwardedBytes = (after.StreamBytes - before.StreamBytes) * after.Bridges;

            Console.WriteLine(FormattableString.Invariant(
                $"  {after.Bridges} viewers for {wall:0.0} s, media plane process (CameraHub + WebRtcEndpoint, {(after.ServerGc ? "server" : "workstation")} GC, {Environment.ProcessorCount} cores):"));
            Console.WriteLine(FormattableString.Invariant(
                $"    CPU {100 * cpu:0.0} % of one core = {100 * cpu / Environment.ProcessorCount:0.0} % of the machine"));
            Console.WriteLine(FormattableString.Invariant(
                $"    memory: working set {Mib(after.WorkingSet)} MiB (peak sampled {Mib(peakWorkingSet)} MiB), managed heap {Mib(after.GcHeap)} MiB, allocated {(after.Allocated - before.Allocated) / wall / 1024:0.0} KiB/s, GCs gen0/1/2 {after.Gen0 - before.Gen0}/{after.Gen1 - before.Gen1}/{after.Gen2 - before.Gen2}, {after.Threads} threads"));
            Console.WriteLine(FormattableString.Invariant(
                $"    camera in {(after.StreamBytes - before.StreamBytes) * 8 / wall / 1e6:0.00} Mbit/s (after repacketizing); forwarded {forwarded / wall:N0} packets/s, {forwardedBytes * 8 / wall / 1e6:0.0} Mbit/s of RTP; refused by peers: {after.Dropped}"));
            Console.WriteLine(FormattableString.Invariant(
                $"  viewers: received {received / wall:N0} packets/s, {receivedBytes * 8 / wall / 1e6:0.0} Mbit/s, lost {Math.Max(0, expected - received):N0} of {expected:N0} ({100.0 * Math.Max(0, expected - received) / Math.Max(1, expected):0.00} %), SRTP auth failures {viewers.Sum(v => v.AuthFailures)}"));
            Console.WriteLine(FormattableString.Invariant(
                $"  load: this process (camera + {viewerCount} viewers decrypting) {100 * self / wall:0} % of one core; whole machine {machine.BusyPercent:0} % busy over {Environment.ProcessorCount} cores (shared: other work on the machine counts too)"));
            return failures == 0 && after.Bridges == viewerCount;

            async Task ConnectAsync(WebRtcViewer viewer)
            {
                string answer;
                await signalling.WaitAsync().ConfigureAwait(false);
                try
                {
                    await server.StandardInput.WriteLineAsync("OFFER " + Convert.ToBase64String(Encoding.UTF8.GetBytes(viewer.CreateOffer()))).ConfigureAwait(false);
                    answer = Encoding.UTF8.GetString(Convert.FromBase64String(await ReadLineAsync(server, "ANSWER").ConfigureAwait(false)));
                }
                finally
                {
                    signalling.Release();
                }

                await viewer.ConnectAsync(answer, TimeSpan.FromSeconds(20)).ConfigureAwait(false);
            }
        }
        finally
        {
            foreach (var viewer in viewers)
            {
                await viewer.DisposeAsync().ConfigureAwait(false);
            }

            await StopServerAsync(server).ConfigureAwait(false);
        }
    }

    /// <summary>The child: <c>media serve RTSP-URI</c>. Reads OFFER/STATS/QUIT lines, writes READY/ANSWER/STATS lines.</summary>
    public static async Task<int> ServeAsync(Uri rtsp)
    {
        var options = new WebRtcEndpointOptions { BindAddress = IPAddress.Loopback, Port = 0, AnnouncedAddress = IPAddress.Loopback };
        await using var endpoint = new WebRtcEndpoint(options, NullLoggerFactory.Instance);
        endpoint.Start();
        await using var hub = new CameraHub();
        var camera = new CameraEndpoint(rtsp, CameraUser, CameraPassword, RtspTransport.Tcp);
        var counter = new CountingSink();
        using var warm = hub.Subscribe(camera, counter); // the camera is pulled before viewers come, as after an alarm
        var bridges = new List<RtspToWebRtcBridge>();
        Console.WriteLine("READY");
        while (await Console.In.ReadLineAsync().ConfigureAwait(false) is { } line)
        {
            if (line.StartsWith("OFFER ", StringComparison.Ordinal))
            {
                var offer = Encoding.UTF8.GetString(Convert.FromBase64String(line[6..]));
                if (!endpoint.TryCreatePeer(offer, out var peer, out var error))
                {
                    await Console.Error.WriteLineAsync("offer refused: " + error).ConfigureAwait(false);
                    Console.WriteLine("ANSWER ");
                    continue;
                }

                Console.WriteLine("ANSWER " + Convert.ToBase64String(Encoding.UTF8.GetBytes(peer.AnswerSdp)));
                _ = AttachAsync(peer);
            }
            else if (line == "STATS")
            {
                using var self = Process.GetCurrentProcess();
                int count;
                long dropped;
                lock (bridges)
                {
                    count = bridges.Count;
                    dropped = bridges.Sum(b => b.DroppedPackets);
                }

                var stats = new ServerStats(
                    self.TotalProcessorTime.TotalMilliseconds, self.WorkingSet64, GC.GetTotalMemory(forceFullCollection: false), GC.GetTotalAllocatedBytes(),
                    GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2), self.Threads.Count, GCSettings.IsServerGC,
                    counter.Packets, counter.Bytes, count, dropped);
                Console.WriteLine("STATS " + JsonSerializer.Serialize(stats));
            }
            else if (line == "QUIT")
            {
                break;
            }
        }

        return 0;

        async Task AttachAsync(WebRtcPeer peer)
        {
            try
            {
                var bridge = await RtspToWebRtcBridge.AttachAsync(hub, camera, peer, CancellationToken.None).ConfigureAwait(false);
                lock (bridges)
                {
                    bridges.Add(bridge);
                }
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                await Console.Error.WriteLineAsync("viewer failed: " + ex.Message).ConfigureAwait(false);
            }
        }
    }

    private static string Mib(long bytes) => (bytes / 1048576.0).ToString("0.0", CultureInfo.InvariantCulture);

    private static Process StartServer(Uri rtsp)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = false,
        };
        foreach (var arg in new[] { Path.Combine(AppContext.BaseDirectory, "Portal.Benchmarks.dll"), "media", "serve", rtsp.ToString() })
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
        catch (Exception ex) when (ex is IOException or TimeoutException)
        {
            server.Kill(entireProcessTree: true);
        }
    }

    private static async Task<ServerStats> StatsAsync(Process server, SemaphoreSlim signalling)
    {
        await signalling.WaitAsync().ConfigureAwait(false);
        try
        {
            await server.StandardInput.WriteLineAsync("STATS").ConfigureAwait(false);
            return JsonSerializer.Deserialize<ServerStats>(await ReadLineAsync(server, "STATS").ConfigureAwait(false))
                ?? throw new InvalidDataException("empty STATS");
        }
        finally
        {
            signalling.Release();
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
                return line[prefix.Length..].TrimStart();
            }

            Console.WriteLine("  media plane: " + line);
        }

        throw new IOException("media plane process ended");
    }

    private sealed record ServerStats(
        double CpuMs, long WorkingSet, long GcHeap, long Allocated, int Gen0, int Gen1, int Gen2, int Threads, bool ServerGc,
        long StreamPackets, long StreamBytes, int Bridges, long Dropped);
}

/// <summary>Whole-machine CPU time from /proc/stat (Linux), to show how loaded the shared machine was.</summary>
internal readonly record struct MachineCpu(long Busy, long Total)
{
    public double BusyPercent => Total == 0 ? double.NaN : 100.0 * Busy / Total;

    public static MachineCpu Read()
    {
        try
        {
            var fields = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries)[1..]
                .Select(f => long.Parse(f, CultureInfo.InvariantCulture)).ToArray();
            var idle = fields[3] + (fields.Length > 4 ? fields[4] : 0);
            return new MachineCpu(fields.Sum() - idle, fields.Sum());
        }
        catch (IOException)
        {
            return default;
        }
    }

    public static MachineCpu operator -(MachineCpu a, MachineCpu b) => new(a.Busy - b.Busy, a.Total - b.Total);
}
