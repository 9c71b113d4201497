using Portal.Media.Rtp;

namespace Portal.Simulator.Cameras;

/// <summary>The gate camera's test clip (see make-gate-clip.sh), split into access units of NAL units.</summary>
/// <remarks>
/// Access units are cut where a picture starts (first_mb_in_slice = 0) or where non-VCL NAL units follow a
/// picture (H.264 §7.4.1.2.3), so the clip needs no access unit delimiters.
/// </remarks>
public sealed class GateClip
{
    public const int FramesPerSecond = 25;

    public const int ClockRate = 90000;

    /// <summary>RTP timestamp ticks per frame at 90 kHz and 25 fps.</summary>
    public const uint TicksPerFrame = ClockRate / FramesPerSecond;

    private static readonly Lazy<GateClip> Default = new(() => Load(ReadEmbedded()));

    private GateClip(IReadOnlyList<IReadOnlyList<ReadOnlyMemory<byte>>> frames, byte[] sps, byte[] pps)
    {
        Frames = frames;
        Sps = sps;
        Pps = pps;
        Keyframes = [.. Enumerable.Range(0, frames.Count).Where(i => frames[i].Any(n => H264NalUnit.TypeOf(n.Span[0]) == H264NalUnit.IdrSlice))];
    }

    /// <summary>The embedded clip, loaded once.</summary>
    public static GateClip Instance => Default.Value;

    public IReadOnlyList<IReadOnlyList<ReadOnlyMemory<byte>>> Frames { get; }

    /// <summary>Indexes of the frames that are IDR pictures, in order.</summary>
    public IReadOnlyList<int> Keyframes { get; }

    public byte[] Sps { get; }

    public byte[] Pps { get; }

    /// <summary>For the SDP: <c>sprop-parameter-sets</c> (RFC 6184 §8.1).</summary>
    public string SpropParameterSets => Convert.ToBase64String(Sps) + "," + Convert.ToBase64String(Pps);

    public string ProfileLevelId => H264NalUnit.ProfileLevelId(Sps);

    /// <summary>The first frame number at or after <paramref name="frame"/> (counted over the loop) that is an IDR.</summary>
    public long NextKeyframe(long frame)
    {
        var position = (int)(frame % Frames.Count);
        foreach (var index in Keyframes)
        {
            if (index >= position)
            {
                return frame - position + index;
            }
        }

        return frame - position + Frames.Count + (Keyframes.Count > 0 ? Keyframes[0] : 0);
    }

    public static GateClip Load(byte[] annexB)
    {
        var frames = new List<IReadOnlyList<ReadOnlyMemory<byte>>>();
        var current = new List<ReadOnlyMemory<byte>>();
        var currentHasPicture = false;
        byte[]? sps = null;
        byte[]? pps = null;
        foreach (var range in H264NalUnit.SplitAnnexB(annexB))
        {
            var nal = annexB.AsMemory(range);
            var type = H264NalUnit.TypeOf(nal.Span[0]);
            var startsUnit = H264NalUnit.IsFirstSliceOfPicture(nal.Span) || !H264NalUnit.IsSlice(type);
            if (currentHasPicture && startsUnit)
            {
                frames.Add(current);
                current = [];
                currentHasPicture = false;
            }

            switch (type)
            {
                case H264NalUnit.Sps: sps ??= nal.ToArray(); break;
                case H264NalUnit.Pps: pps ??= nal.ToArray(); break;
                case H264NalUnit.AccessUnitDelimiter: continue;
            }

            current.Add(nal);
            currentHasPicture |= H264NalUnit.IsSlice(type);
        }

        if (currentHasPicture)
        {
            frames.Add(current);
        }

        if (frames.Count == 0 || sps is null || pps is null)
        {
            throw new InvalidDataException("Clip has no pictures or no SPS/PPS.");
        }

        return new GateClip(frames, sps, pps);
    }

    private static byte[] ReadEmbedded()
    {
        using var stream = typeof(GateClip).Assembly.GetManifestResourceStream("Portal.Simulator.Cameras.gate-clip.h264")
            ?? throw new InvalidOperationException("gate-clip.h264 is not embedded.");
        using var memory = new MemoryStream();
        stream.CopyTo(memory);
        return memory.ToArray();
    }
}
