using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Portal.Benchmarks.Harness;
using Portal.Media.Bridges;
using Portal.Media.Core;
using Portal.Media.WebRtc;
using Portal.Media.WebRtc.Dtls;
using Portal.Simulator.Cameras;

namespace Portal.Benchmarks;

/// <summary>
/// Part 3 of <c>media</c>: bytes allocated per forwarded packet on the forwarding path, in process. Camera RTP is
/// pushed straight into the camera's <see cref="CameraStream"/> (depacketize, SPS/PPS, repacketize to 1200, GOP
/// cache, fan-out), and each viewer's packets go through its <see cref="WebRtcPeer"/> (SSRC/PT rewrite, NACK
/// history, SRTP protect, UDP send on the shared socket) to real C# viewers on 127.0.0.1.
/// </summary>
/// <remarks>
/// The whole path runs synchronously on the feeding thread, so <see cref="GC.GetAllocatedBytesForCurrentThread"/>
/// counts exactly what forwarding allocates; the process total (viewers' receive loops included) is shown too.
/// The RTSP socket read before it is left out: it is per TCP read, not per packet.
/// </remarks>
internal static class MediaAllocations
{
    public static async Task<bool> RunAsync(int viewers, int forwarded, bool highRate)
    {
        var clip = highRate ? await CameraFeed.LoadHighRateClipAsync().ConfigureAwait(false) : GateClip.Instance;
        var feed = new CameraFeed(clip);
        Console.WriteLine(FormattableString.Invariant(
            $"[alloc] {viewers} connected WebRTC viewers, camera stream {feed.MegabitsPerSecond:0.00} Mbit/s ({(highRate ? "4 Mbps ffmpeg clip" : "the committed gate clip")}, {feed.PacketsPerLoop} camera packets per 10 s loop)"));

        var options = new WebRtcEndpointOptions { BindAddress = IPAddress.Loopback, Port = 0, AnnouncedAddress = IPAddress.Loopback };
        await using var endpoint = new WebRtcEndpoint(options, NullLoggerFactory.Instance);
        endpoint.Start();
        var certificate = DtlsCertificate.Generate();
        var clients = new List<WebRtcViewer>();
        var stream = new CameraStream(new CameraHubOptions(), NullLogger.Instance, TimeProvider.System);
        var counter = new CountingSink();
        stream.AddViewer(counter);
        try
        {
            for (var i = 0; i < viewers; i++)
            {
                var client = new WebRtcViewer(certificate);
                clients.Add(client);
                var peer = endpoint.CreatePeer(client.CreateOffer());
                await client.ConnectAsync(peer.AnswerSdp, TimeSpan.FromSeconds(15)).ConfigureAwait(false);
                await peer.WaitConnectedAsync().WaitAsync(TimeSpan.FromSeconds(15)).ConfigureAwait(false);
                stream.AddViewer(new PeerSink(peer, peer.FindSendTrack(MediaKind.Video)!));
            }

            // Warm-up: two passes over the clip fill the GOP cache and grow every reused buffer; 20,000 packets and
            // a pause let tiered compilation finish (its call counting allocates on the calling thread).
            for (var i = 0; i < Math.Max(2 * feed.PacketsPerLoop, 20_000); i++)
            {
                stream.WriteRtp(feed.Track, feed.Next());
            }

            await Task.Delay(500).ConfigureAwait(false);
            for (var i = 0; i < 2_000; i++)
            {
                stream.WriteRtp(feed.Track, feed.Next());
            }

            var outBefore = counter.Packets;
            await Task.Delay(500).ConfigureAwait(false); // let the viewers drain the warm-up
            var receivedBefore = clients.Sum(c => c.Packets);
            var cameraPackets = 0L;
            var threadBefore = GC.GetAllocatedBytesForCurrentThread();
            var processBefore = GC.GetTotalAllocatedBytes(precise: true);
            var gen0Before = GC.CollectionCount(0);
            var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
            var clock = Stopwatch.StartNew();
            while ((counter.Packets - outBefore) * viewers < forwarded && cameraPackets < 10L * forwarded)
            {
                stream.WriteRtp(feed.Track, feed.Next());
                cameraPackets++;
            }

            clock.Stop();
            var threadBytes = GC.GetAllocatedBytesForCurrentThread() - threadBefore;
            var processBytes = GC.GetTotalAllocatedBytes(precise: true) - processBefore;
            var gen0 = GC.CollectionCount(0) - gen0Before;
            var cpu = Process.GetCurrentProcess().TotalProcessorTime - cpuBefore;
            var perViewer = counter.Packets - outBefore;
            var sent = perViewer * viewers;
            var received = clients.Sum(c => c.Packets) - receivedBefore;
            Console.WriteLine(FormattableString.Invariant(
                $"  fed {cameraPackets:N0} camera packets -> {perViewer:N0} WebRTC packets per viewer -> {sent:N0} forwarded (SRTP-protected and sent) in {clock.Elapsed.TotalSeconds:0.00} s ({sent / clock.Elapsed.TotalSeconds:N0} packets/s, feeding thread flat out)"));
            Console.WriteLine(FormattableString.Invariant(
                $"  allocated on the forwarding thread: {threadBytes:N0} B = {threadBytes / (double)sent:0.000} B per forwarded packet, {threadBytes / (double)cameraPackets:0.000} B per camera packet"));
            Console.WriteLine(FormattableString.Invariant(
                $"  allocated in the whole process (viewers' receive loops too): {processBytes:N0} B = {processBytes / (double)sent:0.000} B per forwarded packet; gen0 GCs during the run: {gen0}"));
            Console.WriteLine(FormattableString.Invariant(
                $"  process CPU {cpu.TotalMilliseconds * 1000 / sent:0.00} us per forwarded packet (forwarding + viewers' SRTP receive); viewers got {received:N0} ({100.0 * received / Math.Max(1, sent):0.0} %; at this unpaced rate a full socket buffer may drop some)"));
            return threadBytes < sent; // under one byte per forwarded packet: only the runtime's own noise
        }
        finally
        {
            foreach (var client in clients)
            {
                await client.DisposeAsync().ConfigureAwait(false);
            }
        }
    }
}
