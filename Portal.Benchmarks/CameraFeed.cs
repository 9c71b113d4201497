using System.Diagnostics;
using Portal.Media.Core;
using Portal.Media.Rtp;
using Portal.Simulator.Cameras;

namespace Portal.Benchmarks;

/// <summary>
/// A camera's RTP as the media plane receives it, without a network: a clip packetized once (1400-byte packets,
/// as the simulated camera sends), replayed in a loop with continuous sequence numbers and 25 fps timestamps.
/// Also makes the 4 Mbps clip with ffmpeg.
/// </summary>
internal sealed class CameraFeed
{
    /// <summary>The 4 Mbps clip: 1280x720, 25 fps, 2 s GOP, Constrained Baseline, noise so x264 cannot go below the rate.</summary>
    public const string HighRateDescription = "ffmpeg/libx264 clip: 1280x720 testsrc2 + temporal noise, 25 fps, IDR every 50 frames (2 s GOP), Constrained Baseline, -b:v 4M -maxrate 4M";

    private readonly List<(byte[] Packet, bool LastOfFrame)> _packets = [];
    private readonly byte[] _scratch = new byte[1500];
    private int _next;
    private ushort _sequence = 1000;
    private uint _timestamp = 90000;

    public CameraFeed(GateClip clip)
    {
        Clip = clip;
        var packetizer = new H264Packetizer(1400, 96, ssrc: 0x12345678);
        foreach (var frame in clip.Frames)
        {
            var start = _packets.Count;
            packetizer.Packetize(frame, 0, packet => _packets.Add((packet.ToArray(), false)));
            _packets[^1] = (_packets[^1].Packet, true);
            Bytes += _packets.Skip(start).Sum(p => (long)p.Packet.Length);
        }

        Track = new MediaTrack(MediaKind.Video, new Codec(Codec.H264, 90000, 96, 0, "packetization-mode=1;sprop-parameter-sets=" + clip.SpropParameterSets), "trackID=0");
    }

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

    /// <summary>Loads (or first makes, with ffmpeg, into the temp folder) the 10 s 4 Mbps clip.</summary>
    public static GateClip LoadHighRateClip()
    {
        var path = Path.Combine(Path.GetTempPath(), "portal-bench-720p-4mbps-gop50.h264");
        if (!File.Exists(path))
        {
            Console.WriteLine("making the 4 Mbps clip with ffmpeg (once, cached at " + path + ") ...");
            var start = new ProcessStartInfo("ffmpeg") { UseShellExecute = false, RedirectStandardError = true };
            foreach (var arg in new[]
            {
                "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc2=s=1280x720:r=25:d=10",
                "-vf", "noise=alls=14:allf=t", "-c:v", "libx264", "-preset", "veryfast", "-profile:v", "baseline", "-pix_fmt", "yuv420p",
                "-x264-params", "keyint=50:min-keyint=50:scenecut=0:bframes=0:ref=1:slices=1:repeat-headers=1",
                "-b:v", "4M", "-maxrate", "4M", "-bufsize", "4M", "-bsf:v", "h264_metadata=aud=remove", "-f", "h264", path + ".tmp",
            })
            {
                start.ArgumentList.Add(arg);
            }

            using var ffmpeg = Process.Start(start) ?? throw new InvalidOperationException("ffmpeg did not start (apt-get install -y ffmpeg)");
            var errors = ffmpeg.StandardError.ReadToEnd();
            ffmpeg.WaitForExit();
            if (ffmpeg.ExitCode != 0)
            {
                throw new InvalidOperationException("ffmpeg failed: " + errors);
            }

            File.Move(path + ".tmp", path, overwrite: true);
        }

        return GateClip.Load(File.ReadAllBytes(path));
    }

    /// <summary>Frames from one IDR to the next in the clip (its GOP length).</summary>
    public static int GopFrames(GateClip clip)
    {
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
