using System.Diagnostics;
using System.Globalization;
using Portal.Benchmarks.Harness;
using Portal.Media.Rtsp;
using Portal.Simulator.Cameras;

namespace Portal.Benchmarks;

/// <summary>
/// <c>media prewarmcost</c> (issue #15, item 3): what one pre-warmed camera costs the network, measured. A sub-stream is
/// pulled the way the portal pre-warms it (an <see cref="RtspSource"/>, RTP interleaved on the RTSP TCP connection) for a
/// fixed time on 127.0.0.1, from GStreamer's RTSP server at a typical sub-stream setting (640×360, 25 fps, 2 s GOP, x264 at
/// the given target bitrate) and from the simulated camera's embedded clip (what demo mode pulls). Prints bytes/s on the wire
/// (RTP plus the 4-byte interleave header; TCP/IP headers not counted) and the city-wide figure for N cameras.
/// </summary>
internal static class MediaPrewarmCost
{
    public static async Task<bool> RunAsync(int seconds, int bitrateKbps)
    {
        seconds = Math.Clamp(seconds, 5, 600);
        Console.WriteLine($"media prewarmcost: one sub-stream pulled for {seconds} s after a 3 s warm-up, RTP over RTSP/TCP on 127.0.0.1");
        if (await GStreamerRtspServer.CheckAvailableAsync().ConfigureAwait(false) is { } missing)
        {
            Console.WriteLine("  GStreamer skipped: " + missing);
        }
        else
        {
            await using var gst = await GStreamerRtspServer.StartAsync(bitrateKbps: bitrateKbps).ConfigureAwait(false);
            await MeasureAsync($"GStreamer 640x360 25 fps, x264 target {bitrateKbps} kbit/s", gst.Uri, seconds).ConfigureAwait(false);
        }

        await using var camera = await SimulatedCamera.StartAsync(new SimulatedCameraOptions { Username = null, Password = null }).ConfigureAwait(false);
        await MeasureAsync("simulated camera (embedded 640-wide gate clip)", camera.RtspUri, seconds).ConfigureAwait(false);
        return true;
    }

    private static async Task MeasureAsync(string name, Uri uri, int seconds)
    {
        var sink = new CountingSink();
        await using var source = new RtspSource(uri, null, new RtspSourceOptions { Transport = RtspTransport.Tcp });
        source.AddSink(sink);
        source.Start();
        await Poll.UntilAsync(() => sink.Packets > 0, TimeSpan.FromSeconds(30), name + " streaming").ConfigureAwait(false);
        await Task.Delay(TimeSpan.FromSeconds(3)).ConfigureAwait(false); // warm-up: past the first GOP

        var (bytes0, packets0) = (sink.Bytes, sink.Packets);
        var clock = Stopwatch.StartNew();
        await Task.Delay(TimeSpan.FromSeconds(seconds)).ConfigureAwait(false); // the measuring window, not synchronisation
        var elapsed = clock.Elapsed.TotalSeconds;
        var bytes = sink.Bytes - bytes0 + 4 * (sink.Packets - packets0);
        var perSecond = bytes / elapsed;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  {name}: {perSecond:F0} B/s = {perSecond * 8 / 1000:F0} kbit/s per pre-warmed camera ({(sink.Packets - packets0) / elapsed:F0} packets/s); "
            + $"city: 50 cameras {perSecond * 8 * 50 / 1e6:F1} Mbit/s, 500 cameras {perSecond * 8 * 500 / 1e6:F1} Mbit/s, 4000 cameras {perSecond * 8 * 4000 / 1e6:F0} Mbit/s"));
    }
}
