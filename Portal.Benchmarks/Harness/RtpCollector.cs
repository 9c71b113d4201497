using Portal.Media.Core;
using Portal.Media.Rtp;

namespace Portal.Benchmarks.Harness;

/// <summary>A media sink for tests: keeps a copy of every packet and depacketizes the H.264 it gets.</summary>
public sealed class RtpCollector : IMediaSink
{
    private readonly Lock _gate = new();
    private readonly List<byte[]> _packets = [];
    private readonly List<H264AccessUnit> _units = [];
    private readonly H264Depacketizer _depacketizer;

    public RtpCollector(string? sprop = null, bool startAtKeyframe = false)
    {
        _depacketizer = new H264Depacketizer(_units.Add, sprop, startAtKeyframe);
    }

    public MediaTrack? LastTrack { get; private set; }

    public IReadOnlyList<byte[]> Packets
    {
        get
        {
            lock (_gate)
            {
                return [.. _packets];
            }
        }
    }

    public IReadOnlyList<H264AccessUnit> Units
    {
        get
        {
            lock (_gate)
            {
                return [.. _units];
            }
        }
    }

    public long MalformedPackets => _depacketizer.MalformedPackets;

    /// <inheritdoc />
    public void WriteRtp(MediaTrack track, ReadOnlySpan<byte> packet)
    {
        lock (_gate)
        {
            LastTrack = track;
            _packets.Add(packet.ToArray());
            _depacketizer.Push(packet);
        }
    }

    /// <summary>Polls <paramref name="condition"/> until it holds; throws <see cref="TimeoutException"/> after <paramref name="seconds"/>.</summary>
    public static Task WaitUntilAsync(Func<bool> condition, double seconds, string what, CancellationToken cancellationToken = default) =>
        Poll.UntilAsync(condition, TimeSpan.FromSeconds(seconds), what, cancellationToken);
}
