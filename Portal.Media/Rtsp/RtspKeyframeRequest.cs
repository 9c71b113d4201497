using Portal.Media.Rtp.Rtcp;

namespace Portal.Media.Rtsp;

/// <summary>
/// The compound RTCP packet an RTSP client sends on a track's RTCP channel to ask the camera for a keyframe:
/// an empty receiver report, an SDES with our CNAME, a PLI (RFC 4585 §6.3.1) and, when the camera's SDP offers
/// <c>a=rtcp-fb:... ccm fir</c>, a FIR (RFC 5104 §4.3.1) too.
/// </summary>
/// <remarks>
/// <code>
/// RR (RC=0, our SSRC) | SDES (our SSRC, CNAME) | PLI (our SSRC, camera SSRC) [| FIR (our SSRC, camera SSRC, seq)]
/// </code>
/// RFC 3550 §6.1 wants every compound packet to start with a report and carry a CNAME; cameras that validate
/// strictly (GStreamer's RTP session among them) drop a bare PLI. The report also introduces our SSRC to the
/// camera's session, which some implementations look up before acting on feedback from it. The media SSRC must
/// be the camera's own (from its RTP, or the Transport header's <c>ssrc=</c>): feedback about any other source is
/// not for the camera's encoder and is ignored.
/// </remarks>
public readonly record struct RtspKeyframeRequest(uint SenderSsrc, uint MediaSsrc, string Cname, byte? FirSequence)
{
    /// <summary>Largest size of the compound packet (a CNAME of up to 64 bytes).</summary>
    public const int MaxLength = 8 + 76 + RtcpPli.Length + 20;

    /// <summary>Writes the compound packet; returns its length.</summary>
    public int Write(Span<byte> destination)
    {
        if (Cname.Length > 64)
        {
            throw new InvalidOperationException("CNAME too long for a keyframe request.");
        }

        var length = new RtcpReceiverReport { Ssrc = SenderSsrc }.Write(destination);
        length += new RtcpSourceDescription { Chunks = [(SenderSsrc, Cname)] }.Write(destination[length..]);
        length += new RtcpPli(SenderSsrc, MediaSsrc).Write(destination[length..]);
        if (FirSequence is { } sequence)
        {
            length += new RtcpFir { SenderSsrc = SenderSsrc, Entries = [new RtcpFirEntry(MediaSsrc, sequence)] }.Write(destination[length..]);
        }

        return length;
    }

    /// <summary>True when one of the SDP's <c>a=rtcp-fb</c> values offers FIR for <paramref name="payloadType"/> (or for every format, "*").</summary>
    public static bool OffersFir(IEnumerable<string> rtcpFeedback, int payloadType)
    {
        ArgumentNullException.ThrowIfNull(rtcpFeedback);
        var pt = payloadType.ToString(System.Globalization.CultureInfo.InvariantCulture);
        foreach (var value in rtcpFeedback)
        {
            var parts = value.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length >= 3 && (parts[0] == "*" || parts[0] == pt)
                && parts[1].Equals("ccm", StringComparison.OrdinalIgnoreCase) && parts[2].Equals("fir", StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }
}
