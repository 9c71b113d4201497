namespace Portal.Media.Core;

/// <summary>Consumes RTP packets of the tracks it was attached to.</summary>
/// <remarks>
/// Called on the source's receive loop: implementations must not block and must copy the packet if they
/// keep it, because the span is reused for the next packet. Exceptions are caught and the sink removed.
/// </remarks>
public interface IMediaSink
{
    /// <param name="track">The track the packet belongs to.</param>
    /// <param name="packet">A whole RTP packet (RFC 3550 header included).</param>
    void WriteRtp(MediaTrack track, ReadOnlySpan<byte> packet);
}
