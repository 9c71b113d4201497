using Portal.Media.Core;
using Portal.Media.WebRtc;

namespace Portal.Benchmarks.Harness;

/// <summary>
/// What <c>RtspToWebRtcBridge.WriteRtp</c> does with each packet, without the hub's RTSP pull around it: a camera
/// stream fed straight from a <see cref="CameraFeed"/> reaches a real <see cref="WebRtcPeer"/>.
/// </summary>
public sealed class PeerSink(WebRtcPeer peer, WebRtcTrack peerTrack) : IMediaSink
{
    private long _sent;
    private long _refused;

    public long Sent => Interlocked.Read(ref _sent);

    /// <summary>Packets the peer would not send (not connected, or malformed).</summary>
    public long Refused => Interlocked.Read(ref _refused);

    /// <inheritdoc />
    public void WriteRtp(MediaTrack track, ReadOnlySpan<byte> packet)
    {
        if (peer.SendRtp(peerTrack, packet))
        {
            Interlocked.Increment(ref _sent);
        }
        else
        {
            Interlocked.Increment(ref _refused);
        }
    }
}
