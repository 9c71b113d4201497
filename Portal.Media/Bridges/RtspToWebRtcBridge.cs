using Portal.Media.Core;
using Portal.Media.WebRtc;

namespace Portal.Media.Bridges;

/// <summary>
/// Puts one camera's video on one browser session: a <see cref="CameraHub"/> viewer whose packets go to the
/// peer's video track, with the browser's PLI/FIR answered from the hub's cached GOP.
/// </summary>
/// <remarks>
/// Subscribes only once DTLS is up, so the GOP replay that starts a new viewer reaches the browser instead
/// of being dropped by a peer that cannot send yet. Ends itself when the peer closes.
/// </remarks>
public sealed class RtspToWebRtcBridge : IMediaSink, IDisposable
{
    private readonly WebRtcPeer _peer;
    private readonly WebRtcTrack _track;
    private CameraSubscription? _subscription;
    private int _disposed;

    private RtspToWebRtcBridge(WebRtcPeer peer, WebRtcTrack track)
    {
        _peer = peer;
        _track = track;
    }

    /// <summary>Packets the peer refused (not connected, or malformed); for diagnostics.</summary>
    public long DroppedPackets { get; private set; }

    /// <summary>Waits for the peer to connect, then starts the camera's video on its first sending video track.</summary>
    /// <exception cref="InvalidOperationException">The negotiated session has no video track we may send on.</exception>
    public static async Task<RtspToWebRtcBridge> AttachAsync(CameraHub hub, CameraEndpoint camera, WebRtcPeer peer, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(hub);
        ArgumentNullException.ThrowIfNull(peer);
        var track = peer.FindSendTrack(MediaKind.Video) ?? throw new InvalidOperationException("The WebRTC session has no video track to send the camera on.");
        await peer.WaitConnectedAsync(cancellationToken).ConfigureAwait(false);
        var bridge = new RtspToWebRtcBridge(peer, track);
        peer.KeyframeRequested += bridge.OnKeyframeRequested;
        peer.Closed += bridge.OnClosed;
        bridge._subscription = hub.Subscribe(camera, bridge);
        return bridge;
    }

    /// <inheritdoc />
    public void WriteRtp(MediaTrack track, ReadOnlySpan<byte> packet)
    {
        if (!_peer.SendRtp(_track, packet))
        {
            DroppedPackets++;
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _peer.KeyframeRequested -= OnKeyframeRequested;
            _peer.Closed -= OnClosed;
            _subscription?.Dispose();
        }
    }

    private void OnKeyframeRequested(WebRtcPeer peer, WebRtcTrack track)
    {
        if (track == _track)
        {
            _subscription?.RequestKeyframe();
        }
    }

    private void OnClosed(WebRtcPeer peer) => Dispose();
}
