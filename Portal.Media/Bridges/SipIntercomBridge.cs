using Portal.Media.Core;
using Portal.Media.Sip.Calls;
using Portal.Media.WebRtc;

namespace Portal.Media.Bridges;

/// <summary>
/// Puts an intercom call on an operator's browser session, with no transcoding: the terminal's G.711 and H.264
/// RTP go to the peer's audio and video tracks, the browser's microphone (G.711, negotiated to the call's codec)
/// goes back to the terminal. The browser's PLI/FIR becomes an RTCP keyframe request to the terminal.
/// </summary>
/// <remarks>
/// <code>
/// terminal RTP ──SipRtpLeg──► WebRtcPeer.SendRtp (SSRC/PT rewritten, SRTP) ──► browser    (audio, video)
/// browser SRTP ──WebRtcPeer.RtpReceived──► SipRtpLeg.SendRtp (SSRC/PT rewritten) ──► terminal  (audio; dropped while muted)
/// </code>
/// Runs on the receive loops of both sides: nothing here blocks or allocates per packet. Ends itself when the
/// peer closes or the call ends; the call itself is not touched (hanging up is the owner's decision).
/// </remarks>
public sealed class SipIntercomBridge : IDisposable
{
    private static readonly TimeSpan KeyframeInterval = TimeSpan.FromSeconds(1);

    private readonly SipCallMedia _media;
    private readonly WebRtcPeer _peer;
    private readonly TimeProvider _time;
    private readonly WebRtcTrack? _audio;
    private readonly WebRtcTrack? _video;
    private long _lastKeyframeRequest;
    private long _toBrowserAudio;
    private long _toBrowserVideo;
    private long _toTerminal;
    private long _refused;
    private int _disposed;

    private SipIntercomBridge(SipCallMedia media, WebRtcPeer peer, TimeProvider time)
    {
        _media = media;
        _peer = peer;
        _time = time;
        _audio = peer.FindSendTrack(MediaKind.Audio);
        _video = peer.FindSendTrack(MediaKind.Video);
    }

    /// <summary>The operator's microphone is not passed on (the terminal hears silence).</summary>
    public bool OperatorMuted { get; set; }

    public long PacketsToBrowserAudio => Interlocked.Read(ref _toBrowserAudio);

    public long PacketsToBrowserVideo => Interlocked.Read(ref _toBrowserVideo);

    public long PacketsToTerminal => Interlocked.Read(ref _toTerminal);

    /// <summary>Packets the peer could not take (not connected yet, or malformed).</summary>
    public long PacketsRefused => Interlocked.Read(ref _refused);

    /// <summary>Connects the call's media to the peer at once (packets before DTLS is up are refused by the peer) and asks for a keyframe when it connects.</summary>
    public static SipIntercomBridge Attach(SipCallMedia media, WebRtcPeer peer, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(media);
        ArgumentNullException.ThrowIfNull(peer);
        var bridge = new SipIntercomBridge(media, peer, time ?? TimeProvider.System);
        media.Audio.RtpReceived += bridge.OnTerminalAudio;
        media.Video.RtpReceived += bridge.OnTerminalVideo;
        peer.RtpReceived += bridge.OnBrowserRtp;
        peer.KeyframeRequested += bridge.OnKeyframeRequested;
        peer.Closed += bridge.OnClosed;
        _ = bridge.RequestKeyframeWhenConnectedAsync();
        return bridge;
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _media.Audio.RtpReceived -= OnTerminalAudio;
        _media.Video.RtpReceived -= OnTerminalVideo;
        _peer.RtpReceived -= OnBrowserRtp;
        _peer.KeyframeRequested -= OnKeyframeRequested;
        _peer.Closed -= OnClosed;
    }

    private void OnTerminalAudio(SipRtpLeg leg, ReadOnlySpan<byte> packet)
    {
        if (_audio is not null && _peer.SendRtp(_audio, packet))
        {
            Interlocked.Increment(ref _toBrowserAudio);
        }
        else
        {
            Interlocked.Increment(ref _refused);
        }
    }

    private void OnTerminalVideo(SipRtpLeg leg, ReadOnlySpan<byte> packet)
    {
        if (_video is not null && _peer.SendRtp(_video, packet))
        {
            Interlocked.Increment(ref _toBrowserVideo);
        }
        else
        {
            Interlocked.Increment(ref _refused);
        }
    }

    private void OnBrowserRtp(WebRtcPeer peer, WebRtcTrack track, ReadOnlySpan<byte> packet)
    {
        if (track.Kind == MediaKind.Audio && !OperatorMuted && _media.Audio.SendRtp(packet))
        {
            Interlocked.Increment(ref _toTerminal);
        }
    }

    private void OnKeyframeRequested(WebRtcPeer peer, WebRtcTrack track)
    {
        if (track == _video)
        {
            RequestKeyframe();
        }
    }

    /// <summary>At most once a second: a browser sends PLI in bursts while it waits, a terminal needs one.</summary>
    private void RequestKeyframe()
    {
        var now = _time.GetTimestamp();
        var last = Interlocked.Read(ref _lastKeyframeRequest);
        if ((last == 0 || _time.GetElapsedTime(last, now) >= KeyframeInterval) && Interlocked.CompareExchange(ref _lastKeyframeRequest, now, last) == last)
        {
            _media.RequestKeyframe();
        }
    }

    private async Task RequestKeyframeWhenConnectedAsync()
    {
        try
        {
            await _peer.WaitConnectedAsync().ConfigureAwait(false);
            RequestKeyframe(); // the browser decodes from an IDR only: ask for one rather than wait for the terminal's next
        }
        catch (Exception ex) when (ex is ObjectDisposedException or IOException or OperationCanceledException or InvalidOperationException or TimeoutException)
        {
            // The peer never connected; Closed disposes the bridge.
        }
    }

    private void OnClosed(WebRtcPeer peer) => Dispose();
}
