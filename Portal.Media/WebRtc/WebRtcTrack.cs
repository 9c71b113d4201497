using Portal.Media.Core;

namespace Portal.Media.WebRtc;

/// <summary>One negotiated m-section of a <see cref="WebRtcPeer"/>: what flows, in which direction, with which ids.</summary>
public sealed class WebRtcTrack
{
    internal WebRtcTrack(string mid, MediaKind kind, Codec codec, uint localSsrc, uint? remoteSsrc, bool canSend, bool canReceive, WebRtcFeedback feedback)
    {
        Mid = mid;
        Kind = kind;
        Codec = codec;
        LocalSsrc = localSsrc;
        RemoteSsrc = remoteSsrc;
        CanSend = canSend;
        CanReceive = canReceive;
        Feedback = feedback;
    }

    /// <summary>The SDP <c>a=mid</c>, also the <see cref="MediaTrack.Id"/> of <see cref="ToMediaTrack"/>.</summary>
    public string Mid { get; }

    public MediaKind Kind { get; }

    /// <summary>The codec with the payload type the browser offered (we send and expect that number).</summary>
    public Codec Codec { get; }

    /// <summary>The SSRC we send with (announced in the answer's <c>a=ssrc</c>).</summary>
    public uint LocalSsrc { get; }

    /// <summary>The browser's SSRC from its <c>a=ssrc</c>, when it announced one.</summary>
    public uint? RemoteSsrc { get; internal set; }

    /// <summary>We may send on this track (answer direction sendonly or sendrecv).</summary>
    public bool CanSend { get; }

    /// <summary>The browser sends on this track (answer direction recvonly or sendrecv).</summary>
    public bool CanReceive { get; }

    /// <summary>RTCP feedback both sides agreed on (RFC 4585 <c>a=rtcp-fb</c>).</summary>
    public WebRtcFeedback Feedback { get; }

    public MediaTrack ToMediaTrack() => new(Kind, Codec, Mid);

    public override string ToString() => $"{Mid}: {Kind} {Codec} ssrc={LocalSsrc}";
}

/// <summary>The RTCP feedback types this implementation can honour.</summary>
[Flags]
public enum WebRtcFeedback
{
    None = 0,

    /// <summary>Generic NACK (RFC 4585 §6.2.1); we retransmit from a small buffer.</summary>
    Nack = 1,

    /// <summary>PLI (RFC 4585 §6.3.1); raised as a keyframe request.</summary>
    Pli = 2,

    /// <summary>FIR (RFC 5104 §4.3.1); raised as a keyframe request.</summary>
    Fir = 4,
}
