namespace Portal.Media.Core;

/// <summary>Produces tracks of RTP packets to any number of sinks (go2rtc <c>core.Producer</c>, reduced to what we use).</summary>
public interface IMediaSource : IAsyncDisposable
{
    /// <summary>The tracks on offer. Empty until the source has negotiated with its device.</summary>
    IReadOnlyList<MediaTrack> Tracks { get; }

    /// <summary>Starts delivering packets to <paramref name="sink"/>; dispose the result to stop.</summary>
    IDisposable AddSink(IMediaSink sink);

    /// <summary>Asks for a decodable picture soon (a browser's PLI or FIR), from the device or a cache.</summary>
    void RequestKeyframe(IMediaSink sink);
}
