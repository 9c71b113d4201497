using System.Net;
using Portal.Media.Core;
using Portal.Media.Sdp;

namespace Portal.Media.Sip.Calls;

/// <summary>One negotiated stream of a call: codec, where the terminal wants it, and who sends.</summary>
/// <param name="Codec">The codec with the payload type both sides use.</param>
/// <param name="Remote">The terminal's RTP address (its RTCP is the next port, RFC 3550 §11), or null while on hold.</param>
/// <param name="WeSend">We send this stream to the terminal.</param>
/// <param name="WeReceive">The terminal sends this stream to us.</param>
public sealed record SipMediaLine(Codec Codec, IPEndPoint? Remote, bool WeSend, bool WeReceive);

/// <summary>What an offer/answer exchange agreed (RFC 3264): audio and video, either possibly refused.</summary>
public sealed record SipMediaPlan(SipMediaLine? Audio, SipMediaLine? Video)
{
    /// <summary>The terminal's address as its SDP gives it (c= of the media, else of the session).</summary>
    internal static IPEndPoint? RemoteOf(SdpSession session, SdpMedia media)
    {
        var connection = media.Connection ?? session.Connection;
        if (connection is null || media.Port == 0 || !IPAddress.TryParse(connection.Host, out var address))
        {
            return null;
        }

        // c=IN IP4 0.0.0.0 is RFC 2543 hold: the stream continues later.
        return address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any) ? null : new IPEndPoint(address, media.Port);
    }
}
