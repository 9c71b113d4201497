using System.Diagnostics;
using System.Globalization;
using Portal.Media.Rtsp;

namespace Portal.Benchmarks.Harness;

/// <summary>
/// A third-party camera: GStreamer's RTSP server (<c>gst-rtsp-server.py</c> beside this file, run with Debian's
/// python3 and its GObject bindings) on a free 127.0.0.1 port, serving <c>/gate</c>: 640x360 H.264, 25 fps, 2 s GOP.
/// It honours RTCP PLI/FIR (GStreamer's RTP session asks the encoder for a key unit) unless started with
/// <c>ignoreKeyframeRequests</c>. Kept live like a real camera: one session plays from the start, so later sessions
/// join the shared stream mid-GOP instead of getting a fresh encoder's first IDR.
/// </summary>
public sealed class GStreamerRtspServer : IAsyncDisposable
{
    public const string Python = "/usr/bin/python3";

    private readonly Process _process;
    private RtspSource? _keeper;
    private int _keyframeRequests;
    private int _downstreamKeyUnits;

    private GStreamerRtspServer(Process process, int port)
    {
        _process = process;
        Uri = new Uri($"rtsp://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}/gate");
    }

    public Uri Uri { get; }

    /// <summary>Keyframe requests that reached the encoder (or were dropped before it, when ignoring them).</summary>
    public int KeyframeRequests => Volatile.Read(ref _keyframeRequests);

    /// <summary>Key units asked of the encoder from upstream of it, inside GStreamer's server (not by a viewer's RTCP).</summary>
    public int DownstreamKeyUnits => Volatile.Read(ref _downstreamKeyUnits);

    /// <summary>Null when the server can run here, else what to install (a clear message instead of a stack trace).</summary>
    public static async Task<string?> CheckAvailableAsync()
    {
        const string Install = "apt-get install -y python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-ugly gstreamer1.0-x (scripts/install-test-deps.sh)";
        if (!File.Exists(Python))
        {
            return $"{Python} is missing: {Install}";
        }

        try
        {
            await Tools.RunAsync(Python, ["-c", "import gi; gi.require_version('Gst', '1.0'); gi.require_version('GstRtspServer', '1.0'); from gi.repository import Gst, GstRtspServer; Gst.init(None); assert Gst.ElementFactory.find('x264enc') and Gst.ElementFactory.find('clockoverlay'), 'x264enc or clockoverlay missing'"]).ConfigureAwait(false);
            return null;
        }
        catch (InvalidOperationException ex)
        {
            return $"GStreamer's RTSP server cannot run ({ex.Message.Trim()}): {Install}";
        }
    }

    /// <summary>Starts the server and a first session that keeps its stream live; <see cref="InvalidOperationException"/> when it cannot start.</summary>
    /// <param name="ignoreKeyframeRequests">Drop RTCP PLI/FIR before the encoder, as a camera that ignores them.</param>
    /// <param name="bitrateKbps">x264's target bitrate.</param>
    /// <param name="keepEncoderOnPlay">
    /// Keep a PLAY's Range from restarting the encoder (gst-rtsp-server seeks the shared live media for it, and the seek
    /// restarts x264 with an IDR: every new session then starts on a keyframe, unlike an IP camera's). A relay on the
    /// public port takes the Range header off each PLAY; the media benchmark's press cases use it.
    /// </param>
    /// <param name="cancellationToken">Cancels the start.</param>
    public static async Task<GStreamerRtspServer> StartAsync(bool ignoreKeyframeRequests = false, int bitrateKbps = 800, bool keepEncoderOnPlay = false, CancellationToken cancellationToken = default)
    {
        var port = FreePorts.Tcp();
        var start = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Harness", "gst-rtsp-server.py"));
        start.ArgumentList.Add(port.ToString(CultureInfo.InvariantCulture));
        if (ignoreKeyframeRequests)
        {
            start.ArgumentList.Add("--ignore-keyframe-requests");
        }

        if (keepEncoderOnPlay)
        {
            start.ArgumentList.Add("--keep-encoder-on-play");
        }

        start.ArgumentList.Add("--bitrate=" + bitrateKbps.ToString(CultureInfo.InvariantCulture));

        var process = Process.Start(start) ?? throw new InvalidOperationException("gst-rtsp-server.py did not start");
        var server = new GStreamerRtspServer(process, port);
        try
        {
            var ready = await process.StandardOutput.ReadLineAsync(cancellationToken).AsTask().WaitAsync(TimeSpan.FromSeconds(30), cancellationToken).ConfigureAwait(false);
            if (ready != "READY")
            {
                throw new InvalidOperationException("gst-rtsp-server.py did not start: " + await process.StandardError.ReadToEndAsync(cancellationToken).ConfigureAwait(false));
            }

            // GStreamer may keep writing warnings; drain both pipes so a full one never stalls the server.
            _ = process.StandardError.ReadToEndAsync(CancellationToken.None);
            _ = server.ReadOutputAsync();

            var live = new CountingSink();
            server._keeper = new RtspSource(server.Uri, null);
            server._keeper.AddSink(live);
            server._keeper.Start();
            await Poll.UntilAsync(() => live.Packets > 0, TimeSpan.FromSeconds(30), "GStreamer's camera to stream", cancellationToken).ConfigureAwait(false);
            return server;
        }
        catch
        {
            await server.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_keeper is not null)
        {
            await _keeper.DisposeAsync().ConfigureAwait(false);
        }

        try
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync().ConfigureAwait(false);
        }
        catch (InvalidOperationException)
        {
            // already gone
        }

        _process.Dispose();
    }

    private async Task ReadOutputAsync()
    {
        try
        {
            while (await _process.StandardOutput.ReadLineAsync().ConfigureAwait(false) is { } line)
            {
                if (line.StartsWith("KEYUNIT downstream", StringComparison.Ordinal))
                {
                    Interlocked.Increment(ref _downstreamKeyUnits);
                }
                else if (line.StartsWith("KEYUNIT", StringComparison.Ordinal))
                {
                    Interlocked.Increment(ref _keyframeRequests);
                }
            }
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or InvalidOperationException)
        {
        }
    }
}
