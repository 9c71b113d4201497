using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Portal.Media.Core;
using Portal.Media.Sdp;

namespace Portal.Media.Sip.Calls;

/// <summary>Our side of a call's SDP: the address and ports we receive on, the audio codecs we take, the o= line.</summary>
/// <param name="Address">The address the terminal sends RTP to.</param>
/// <param name="AudioPort">Our audio RTP port (RTCP on the next).</param>
/// <param name="VideoPort">Our video RTP port (RTCP on the next).</param>
/// <param name="AudioCodecs">Audio encodings in our order of preference (the browser side's: PCMU, PCMA).</param>
/// <param name="SessionId">The o= session id, kept for the whole call (RFC 3264 §5).</param>
/// <param name="Version">The o= version; a changed description raises it (RFC 3264 §8).</param>
/// <param name="SendsVideo">
/// We have a camera (a terminal answering the portal's call-back): an offer that wants video (recvonly or sendrecv) is
/// answered sendonly. The portal has none: it only ever receives video.
/// </param>
public sealed record SipLocalMedia(IPAddress Address, int AudioPort, int VideoPort, IReadOnlyList<string> AudioCodecs, string SessionId, int Version, bool SendsVideo = false);

/// <summary>
/// Offer/answer for the terminal leg of a call (RFC 3264 over RFC 8866 SDP), plain RTP/AVP: G.711 audio both ways,
/// H.264 video from the terminal. Nothing is transcoded, so we only accept what the browser side plays as is.
/// </summary>
/// <remarks>
/// <code>
/// offer  m=audio 40000 RTP/AVP 8 0 101     m=video 40002 RTP/AVP 96 (H264/90000, packetization-mode=1)
/// answer m=audio 20000 RTP/AVP 0 sendrecv  m=video 20002 RTP/AVP 96 recvonly   (same order, same count: RFC 3264 §6)
/// </code>
/// A stream we cannot serve is answered with port 0 (§6); an offer with neither G.711 nor H.264 gets
/// nothing (the caller answers 488). Directions mirror the offer's (sendonly ⇄ recvonly); video is only ever
/// received. H.264 with packetization-mode=1 is preferred (FU-A, like WebRTC), mode 0 accepted (single NAL units
/// are valid in mode 1 streams too). Secure profiles (RTP/SAVP) are refused: the terminal leg is plain RTP on the
/// police network, the browser leg is SRTP.
/// </remarks>
public static class SipSdpNegotiator
{
    public const int VideoPayloadType = 96;

    public static bool TryAnswer(string offerText, SipLocalMedia local, [NotNullWhen(true)] out SdpSession? answer, [NotNullWhen(true)] out SipMediaPlan? plan, out string error)
    {
        ArgumentNullException.ThrowIfNull(local);
        answer = null;
        plan = null;
        if (!SdpSession.TryParse(offerText, out var offer, out error))
        {
            error = "offer is not valid SDP: " + error;
            return false;
        }

        answer = NewSession(local);
        SipMediaLine? audio = null;
        SipMediaLine? video = null;
        foreach (var media in offer.Media)
        {
            var kind = media.Type.ToLowerInvariant();
            var plain = media.Protocol is "RTP/AVP" or "RTP/AVPF" && media.Port != 0;
            var direction = offer.EffectiveDirection(media);
            if (kind == "audio" && audio is null && plain && ChooseAudio(media, local.AudioCodecs) is { } audioCodec)
            {
                audio = new SipMediaLine(audioCodec, SipMediaPlan.RemoteOf(offer, media),
                    WeSend: direction is SdpDirection.SendRecv or SdpDirection.RecvOnly, WeReceive: direction is SdpDirection.SendRecv or SdpDirection.SendOnly);
                answer.Media.Add(Accept(media, local.AudioPort, audioCodec, Mirror(direction)));
            }
            else if (kind == "video" && video is null && plain && !local.SendsVideo && direction is SdpDirection.SendRecv or SdpDirection.SendOnly && ChooseH264(media) is { } videoCodec)
            {
                video = new SipMediaLine(videoCodec, SipMediaPlan.RemoteOf(offer, media), WeSend: false, WeReceive: true);
                answer.Media.Add(Accept(media, local.VideoPort, videoCodec, SdpDirection.RecvOnly));
            }
            else if (kind == "video" && video is null && plain && local.SendsVideo && direction is SdpDirection.SendRecv or SdpDirection.RecvOnly && ChooseH264(media) is { } cameraCodec)
            {
                // A terminal's camera answering the portal's call-back (its offer is recvonly): we send, never receive.
                video = new SipMediaLine(cameraCodec, SipMediaPlan.RemoteOf(offer, media), WeSend: true, WeReceive: false);
                answer.Media.Add(Accept(media, local.VideoPort, cameraCodec, SdpDirection.SendOnly));
            }
            else
            {
                answer.Media.Add(Reject(media));
            }
        }

        if (audio is null && video is null)
        {
            error = "no G.711 audio or H.264 video in the offer";
            answer = null;
            return false;
        }

        plan = new SipMediaPlan(audio, video);
        return true;
    }

    /// <summary>
    /// An offer: G.711 both ways and H.264 in <paramref name="video"/>'s direction: recvonly when the portal calls a
    /// terminal (its camera to us), sendonly when a (simulated) terminal calls the alarm number.
    /// </summary>
    public static SdpSession CreateOffer(SipLocalMedia local, SdpDirection video = SdpDirection.RecvOnly)
    {
        ArgumentNullException.ThrowIfNull(local);
        var offer = NewSession(local);
        var audio = new SdpMedia { Type = "audio", Port = local.AudioPort, Protocol = "RTP/AVP" };
        foreach (var name in local.AudioCodecs)
        {
            var pt = string.Equals(name, Codec.Pcma, StringComparison.OrdinalIgnoreCase) ? 8 : 0;
            audio.Formats.Add(pt.ToString(CultureInfo.InvariantCulture));
            audio.AddAttribute("rtpmap", string.Create(CultureInfo.InvariantCulture, $"{pt} {(pt == 8 ? Codec.Pcma : Codec.Pcmu)}/8000"));
        }

        audio.AddAttribute("ptime", "20");
        audio.AddAttribute("sendrecv");
        var media = new SdpMedia { Type = "video", Port = local.VideoPort, Protocol = "RTP/AVP" };
        media.Formats.Add(VideoPayloadType.ToString(CultureInfo.InvariantCulture));
        media.AddAttribute("rtpmap", VideoPayloadType.ToString(CultureInfo.InvariantCulture) + " H264/90000");
        media.AddAttribute("fmtp", VideoPayloadType.ToString(CultureInfo.InvariantCulture) + " packetization-mode=1;profile-level-id=42e01f");
        media.AddAttribute(video == SdpDirection.SendOnly ? "sendonly" : "recvonly");
        offer.Media.Add(audio);
        offer.Media.Add(media);
        return offer;
    }

    /// <summary>Reads the terminal's answer to <paramref name="offer"/>: each m-line answers ours in order (RFC 3264 §6).</summary>
    public static bool TryReadAnswer(SdpSession offer, string answerText, SipLocalMedia local, [NotNullWhen(true)] out SipMediaPlan? plan, out string error)
    {
        ArgumentNullException.ThrowIfNull(offer);
        ArgumentNullException.ThrowIfNull(local);
        plan = null;
        if (!SdpSession.TryParse(answerText, out var answer, out error))
        {
            error = "answer is not valid SDP: " + error;
            return false;
        }

        if (answer.Media.Count != offer.Media.Count)
        {
            error = "answer has " + answer.Media.Count + " m-lines for our " + offer.Media.Count;
            return false;
        }

        SipMediaLine? audio = null;
        SipMediaLine? video = null;
        for (var i = 0; i < answer.Media.Count; i++)
        {
            var media = answer.Media[i];
            if (media.Port == 0)
            {
                continue;
            }

            var direction = answer.EffectiveDirection(media);
            if (offer.Media[i].Type == "audio" && ChooseAudio(media, local.AudioCodecs) is { } audioCodec)
            {
                audio = new SipMediaLine(audioCodec, SipMediaPlan.RemoteOf(answer, media),
                    WeSend: direction is SdpDirection.SendRecv or SdpDirection.RecvOnly, WeReceive: direction is SdpDirection.SendRecv or SdpDirection.SendOnly);
            }
            else if (offer.Media[i].Type == "video" && ChooseH264(media) is { } videoCodec && direction != SdpDirection.Inactive)
            {
                video = new SipMediaLine(videoCodec, SipMediaPlan.RemoteOf(answer, media),
                    WeSend: direction is SdpDirection.RecvOnly or SdpDirection.SendRecv, WeReceive: direction is SdpDirection.SendOnly or SdpDirection.SendRecv);
            }
        }

        if (audio is null && video is null)
        {
            error = "the terminal accepted neither audio nor video";
            return false;
        }

        plan = new SipMediaPlan(audio, video);
        return true;
    }

    private static SdpSession NewSession(SipLocalMedia local)
    {
        var ip6 = local.Address.AddressFamily == AddressFamily.InterNetworkV6;
        var address = local.Address.ToString();
        return new SdpSession
        {
            Origin = new SdpOrigin("-", local.SessionId, local.Version.ToString(CultureInfo.InvariantCulture), "IN", ip6 ? "IP6" : "IP4", address),
            SessionName = "SchoolSafetyPortal",
            Connection = new SdpConnection("IN", ip6 ? "IP6" : "IP4", address),
        };
    }

    private static SdpMedia Accept(SdpMedia offered, int port, Codec codec, SdpDirection direction)
    {
        var pt = codec.PayloadType.ToString(CultureInfo.InvariantCulture);
        var media = new SdpMedia { Type = offered.Type, Port = port, Protocol = offered.Protocol };
        media.Formats.Add(pt);
        media.AddAttribute("rtpmap", string.Create(CultureInfo.InvariantCulture, $"{pt} {codec.Name}/{codec.ClockRate}"));
        if (codec.FmtpLine.Length > 0)
        {
            media.AddAttribute("fmtp", pt + " " + codec.FmtpLine);
        }

        if (codec.Name is Codec.Pcmu or Codec.Pcma)
        {
            media.AddAttribute("ptime", offered.GetAttribute("ptime") ?? "20");
        }

        media.AddAttribute(direction.ToString().ToLowerInvariant());
        return media;
    }

    private static SdpMedia Reject(SdpMedia offered)
    {
        var media = new SdpMedia { Type = offered.Type, Port = 0, Protocol = offered.Protocol };
        foreach (var format in offered.Formats.Take(1))
        {
            media.Formats.Add(format);
        }

        return media;
    }

    private static SdpDirection Mirror(SdpDirection offered) => offered switch
    {
        SdpDirection.SendOnly => SdpDirection.RecvOnly,
        SdpDirection.RecvOnly => SdpDirection.SendOnly,
        _ => offered,
    };

    private static Codec? ChooseAudio(SdpMedia media, IReadOnlyList<string> preference)
    {
        var codecs = Codec.FromSdp(media);
        foreach (var name in preference)
        {
            if (codecs.FirstOrDefault(c => string.Equals(c.Name, name, StringComparison.OrdinalIgnoreCase) && c.ClockRate == 8000) is { } match)
            {
                return match with { FmtpLine = string.Empty, Channels = 0 };
            }
        }

        return null;
    }

    private static Codec? ChooseH264(SdpMedia media)
    {
        var h264 = Codec.FromSdp(media).Where(c => c.Name == Codec.H264 && c.ClockRate == 90000).ToList();
        return h264.FirstOrDefault(c => c.FmtpParameters.GetValueOrDefault("packetization-mode") == "1")
            ?? h264.FirstOrDefault(c => c.FmtpParameters.GetValueOrDefault("packetization-mode", "0") == "0");
    }
}
