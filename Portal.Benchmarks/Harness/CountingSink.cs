using Portal.Media.Core;

namespace Portal.Benchmarks.Harness;

/// <summary>
/// A media sink that only counts packets and bytes: thread-safe and allocation-free, so it can sit on the
/// forwarding path the allocation tests and the <c>media alloc</c> benchmark measure.
/// </summary>
public sealed class CountingSink : IMediaSink
{
    private long _packets;
    private long _bytes;

    public long Packets => Interlocked.Read(ref _packets);

    public long Bytes => Interlocked.Read(ref _bytes);

    /// <inheritdoc />
    public void WriteRtp(MediaTrack track, ReadOnlySpan<byte> packet)
    {
        Interlocked.Increment(ref _packets);
        Interlocked.Add(ref _bytes, packet.Length);
    }
}
