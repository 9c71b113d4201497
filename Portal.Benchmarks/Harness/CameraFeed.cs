using Portal.Media.Core;
using Portal.Media.Rtp;
using Portal.Simulator.Cameras;

namespace Portal.Benchmarks.Harness;

/// <summary>
/// A camera's RTP as the media plane receives it, without a network: a clip packetized once (1400-byte packets,
/// as the simulated camera sends), replayed in a loop with continuous sequence numbers and 25 fps timestamps.
/// Also makes the 4 Mbps clip, with ffmpeg or else GStreamer.
/// </summary>
public sealed class CameraFeed
{
    private readonly List<(byte[] Packet, bool LastOfFrame)> _packets = [];
    private readonly byte[] _scratch = new byte[1500];
    private int _next;
    private ushort _sequence;
    private uint _timestamp;

    public CameraFeed(GateClip clip, uint ssrc = 0x12345678, ushort firstSequence = 1000, uint firstTimestamp = 90000)
    {
        ArgumentNullException.ThrowIfNull(clip);
        Clip = clip;
        _sequence = firstSequence;
        _timestamp = firstTimestamp;
        var packetizer = new H264Packetizer(1400, 96, ssrc);
        foreach (var frame in clip.Frames)
        {
            var start = _packets.Count;
            packetizer.Packetize(frame, 0, packet => _packets.Add((packet.ToArray(), false)));
            _packets[^1] = (_packets[^1].Packet, true);
            Bytes += _packets.Skip(start).Sum(p => (long)p.Packet.Length);
        }

        Track = new MediaTrack(MediaKind.Video, new Codec(Codec.H264, 90000, 96, 0, "packetization-mode=1;sprop-parameter-sets=" + clip.SpropParameterSets), "trackID=0");
    }

    /// <summary>How the 4 Mbps clip was made (set by <see cref="LoadHighRateClipAsync"/>).</summary>
    public static string HighRateDescription { get; private set; } = "4 Mbps clip not made yet";

    public GateClip Clip { get; }

    public MediaTrack Track { get; }

    /// <summary>RTP bytes of one pass over the clip.</summary>
    public long Bytes { get; }

    public int PacketsPerLoop => _packets.Count;

    /// <summary>Bit rate of the RTP stream at 25 fps.</summary>
    public double MegabitsPerSecond => Bytes * 8.0 / (Clip.Frames.Count / (double)GateClip.FramesPerSecond) / 1e6;

    /// <summary>Writes the next camera packet into a reused buffer: valid until the next call.</summary>
    public ReadOnlySpan<byte> Next()
    {
        var (packet, last) = _packets[_next];
        _next = (_next + 1) % _packets.Count;
        packet.CopyTo(_scratch, 0);
        var span = _scratch.AsSpan(0, packet.Length);
        RtpPacket.SetSequenceAndTimestamp(span, _sequence++, _timestamp);
        if (last)
        {
            _timestamp += GateClip.TicksPerFrame;
        }

        return span;
    }

    /// <summary>
    /// Loads (or first makes, into the temp folder) a 10 s clip of about 4 Mbit/s: 1280x720, 25 fps, a 2 s GOP,
    /// Constrained Baseline, SPS/PPS before every IDR. Made with Debian's ffmpeg when installed, else with GStreamer's
    /// x264enc (installed by scripts/install-test-deps.sh); with neither, an <see cref="InvalidOperationException"/>
    /// that says what to install.
    /// </summary>
    public static async Task<GateClip> LoadHighRateClipAsync()
    {
        var path = Path.Combine(Path.GetTempPath(), "portal-bench-720p-4mbps-gop50.h264");
        var described = path + ".txt";
        if (!File.Exists(path) || !File.Exists(described))
        {
            Console.WriteLine("making the 4 Mbps clip (once, cached at " + path + ") ...");
            string description;
            if (Tools.Find("ffmpeg") is { } ffmpeg)
            {
                description = "ffmpeg/libx264: 1280x720 testsrc2 + temporal noise, 25 fps, IDR every 50 frames (2 s GOP), Constrained Baseline, -b:v 4M -maxrate 4M";
                await Tools.RunAsync(ffmpeg,
                [
                    "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc2=s=1280x720:r=25:d=10",
                    "-vf", "noise=alls=14:allf=t", "-c:v", "libx264", "-preset", "veryfast", "-profile:v", "baseline", "-pix_fmt", "yuv420p",
                    "-x264-params", "keyint=50:min-keyint=50:scenecut=0:bframes=0:ref=1:slices=1:repeat-headers=1",
                    "-b:v", "4M", "-maxrate", "4M", "-bufsize", "4M", "-bsf:v", "h264_metadata=aud=remove", "-f", "h264", path + ".tmp",
                ]).ConfigureAwait(false);
            }
            else if (Tools.Find("gst-launch-1.0") is { } gst)
            {
                // No ffmpeg (Debian's test dependencies bring GStreamer, not ffmpeg): the same shape from x264enc.
                description = "GStreamer x264enc: 1280x720 videotestsrc ball on noise, 25 fps, IDR every 50 frames (2 s GOP), Constrained Baseline, CBR 4 Mbit/s";
                await Tools.RunAsync(gst,
                [
                    "-q", "videotestsrc", "num-buffers=250", "pattern=ball", "background-color=0xff204060", "!", "video/x-raw,width=1280,height=720,framerate=25/1",
                    "!", "compositor", "name=mix", "sink_1::alpha=0.25", "!", "videoconvert", "!", "x264enc", "pass=cbr", "bitrate=4000", "speed-preset=veryfast", "key-int-max=50",
                    "tune=zerolatency", "option-string=scenecut=0:bframes=0:ref=1:repeat-headers=1:keyint-min=50", "!",
                    "video/x-h264,profile=constrained-baseline,stream-format=byte-stream", "!", "filesink", "location=" + path + ".tmp",
                    "videotestsrc", "num-buffers=250", "pattern=snow", "!", "video/x-raw,width=1280,height=720,framerate=25/1", "!", "mix.",
                ]).ConfigureAwait(false);
            }
            else
            {
                throw new InvalidOperationException("Neither ffmpeg nor GStreamer's gst-launch-1.0 is installed to make the 4 Mbps clip: run scripts/install-test-deps.sh (or apt-get install -y ffmpeg).");
            }

            File.Move(path + ".tmp", path, overwrite: true);
            await File.WriteAllTextAsync(described, description).ConfigureAwait(false);
        }

        HighRateDescription = await File.ReadAllTextAsync(described).ConfigureAwait(false);
        return GateClip.Load(await File.ReadAllBytesAsync(path).ConfigureAwait(false));
    }

    /// <summary>Frames from one IDR to the next in the clip (its GOP length).</summary>
    public static int GopFrames(GateClip clip)
    {
        ArgumentNullException.ThrowIfNull(clip);
        var keyframes = new List<int>();
        for (var i = 0; i < clip.Frames.Count; i++)
        {
            if (clip.Frames[i].Any(n => H264NalUnit.TypeOf(n.Span[0]) == H264NalUnit.IdrSlice))
            {
                keyframes.Add(i);
            }
        }

        return keyframes.Count > 1 ? keyframes[1] - keyframes[0] : clip.Frames.Count;
    }
}
