namespace Portal.Media.Core;

/// <summary>Whether a track carries audio or video; the SDP media type.</summary>
public enum MediaKind
{
    Audio,
    Video,
}

/// <summary>One stream of one codec that a source produces or a sink consumes (go2rtc <c>core.Media</c> + <c>core.Codec</c>).</summary>
/// <remarks><see cref="Id"/> is stable within its source: the SDP control URL for RTSP, the mid for WebRTC.</remarks>
public sealed record MediaTrack(MediaKind Kind, Codec Codec, string Id)
{
    public override string ToString() => $"{Kind} {Codec} ({Id})";
}
