using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using Portal.Media.Core;
using Portal.Media.Sdp;

namespace Portal.Media.WebRtc;

/// <summary>What we put in an answer besides the negotiated media: ICE credentials, certificate, address.</summary>
/// <param name="Ufrag">Our ICE username fragment (RFC 8445 §5.3).</param>
/// <param name="Password">Our ICE password, at least 22 characters (RFC 8839 §5.4).</param>
/// <param name="Fingerprint">Our certificate fingerprint in SDP form (<c>sha-256 AB:...</c>).</param>
/// <param name="Candidate">The one host candidate: the announced address and the shared UDP port.</param>
/// <param name="AudioCodecs">Audio encoding names in our order of preference (PCMU, PCMA).</param>
/// <param name="SessionId">The answer's <c>o=</c> session id, kept across renegotiations (RFC 3264 §8).</param>
/// <param name="SessionVersion">The answer's <c>o=</c> version, incremented by each renegotiation.</param>
public sealed record WebRtcLocalDescription(
    string Ufrag, string Password, string Fingerprint, IPEndPoint Candidate, IReadOnlyList<string> AudioCodecs, string SessionId = "1", int SessionVersion = 2);

/// <summary>The outcome of answering an offer: the answer text, the browser's credentials and the tracks.</summary>
public sealed record WebRtcNegotiation(string AnswerSdp, string RemoteUfrag, string RemotePassword, string RemoteFingerprint, IReadOnlyList<WebRtcTrack> Tracks);

/// <summary>
/// WebRTC offer/answer on top of <see cref="SdpSession"/> (RFC 8829 JSEP §5.3, RFC 8839 ICE SDP, RFC 8842 DTLS SDP,
/// RFC 8843 BUNDLE). The browser always offers; we answer as an ICE-lite, DTLS-passive, bundled, rtcp-mux endpoint.
/// </summary>
/// <remarks>
/// Codec choice: H.264 only with packetization-mode=1, preferring profile-level-id 42e01f (constrained baseline,
/// which every browser decodes); G.711 PCMU/PCMA in <see cref="WebRtcLocalDescription.AudioCodecs"/> order. The
/// payload type is always the offer's number. An m-section we cannot serve is rejected with port 0 (RFC 8829 §5.3.1).
/// </remarks>
public static class WebRtcSdp
{
    public const string H264ProfileLevelId = "42e01f";

    private const string Protocol = "UDP/TLS/RTP/SAVPF";

    /// <summary>Our RTCP CNAME and media stream id, the same in SDP (<c>a=ssrc:... cname:</c>) and in RTCP SDES.</summary>
    internal const string StreamId = "portal";

    /// <summary>Host candidate priority for component 1: type preference 126, local preference 65535 (RFC 8445 §5.1.2.1).</summary>
    private const uint HostPriority = (126u << 24) | (65535u << 8) | (256u - 1);

    /// <summary>Answers an offer. With <paramref name="current"/> (a re-offer on a live session) a section whose mid,
    /// codec, direction and feedback are unchanged keeps its <see cref="WebRtcTrack"/> object, and a changed one
    /// keeps its SSRC.</summary>
    public static bool TryNegotiate(
        string offerSdp, WebRtcLocalDescription local, [NotNullWhen(true)] out WebRtcNegotiation? negotiation, out string error, IReadOnlyList<WebRtcTrack>? current = null)
    {
        negotiation = null;
        if (!SdpSession.TryParse(offerSdp, out var offer, out error))
        {
            error = "offer is not valid SDP: " + error;
            return false;
        }

        var first = offer.Media.FirstOrDefault();
        var ufrag = first?.GetAttribute("ice-ufrag") ?? offer.GetAttribute("ice-ufrag");
        var pwd = first?.GetAttribute("ice-pwd") ?? offer.GetAttribute("ice-pwd");
        var fingerprint = first?.GetAttribute("fingerprint") ?? offer.GetAttribute("fingerprint");
        var setup = first?.GetAttribute("setup") ?? offer.GetAttribute("setup") ?? "actpass";
        if (string.IsNullOrWhiteSpace(ufrag) || string.IsNullOrWhiteSpace(pwd))
        {
            error = "offer has no ice-ufrag/ice-pwd";
            return false;
        }

        if (string.IsNullOrWhiteSpace(fingerprint) || !fingerprint.Trim().StartsWith("sha-256 ", StringComparison.OrdinalIgnoreCase))
        {
            error = "offer has no sha-256 fingerprint";
            return false;
        }

        if (setup.Trim() is not ("actpass" or "active"))
        {
            error = "offer wants us to be the DTLS client (setup:" + setup + "); we only answer setup:passive";
            return false;
        }

        var bundle = offer.Groups.FirstOrDefault(g => string.Equals(g.Semantics, "BUNDLE", StringComparison.OrdinalIgnoreCase));
        var answer = new SdpSession
        {
            Origin = new SdpOrigin("-", local.SessionId, local.SessionVersion.ToString(CultureInfo.InvariantCulture), "IN", "IP4", "127.0.0.1"),
        };
        answer.AddAttribute("ice-lite");
        var tracks = new List<WebRtcTrack>();
        var accepted = new List<string>();
        var usedSsrcs = new HashSet<uint>(current?.Select(t => t.LocalSsrc) ?? []);
        foreach (var media in offer.Media)
        {
            var mid = media.Mid ?? (offer.Media.Count == 1 ? "0" : null);
            if (mid is null)
            {
                error = "offer has several m-sections without a=mid";
                return false;
            }

            var track = TryAcceptMedia(offer, media, mid, local, bundle, usedSsrcs, current?.FirstOrDefault(t => t.Mid == mid));
            if (track is null)
            {
                answer.Media.Add(Reject(media, mid));
                continue;
            }

            tracks.Add(track);
            accepted.Add(mid);
            answer.Media.Add(Accept(media, track, local, first: accepted.Count == 1));
        }

        if (tracks.Count == 0)
        {
            error = "no m-section offers a codec we support over " + Protocol + " with rtcp-mux";
            return false;
        }

        answer.Attributes.Insert(0, new SdpAttribute("group", "BUNDLE " + string.Join(' ', accepted)));
        answer.AddAttribute("msid-semantic", " WMS " + StreamId);
        negotiation = new WebRtcNegotiation(answer.ToString(), ufrag.Trim(), pwd.Trim(), fingerprint.Trim(), tracks);
        error = string.Empty;
        return true;
    }

    private static WebRtcTrack? TryAcceptMedia(
        SdpSession offer, SdpMedia media, string mid, WebRtcLocalDescription local, SdpGroup? bundle, HashSet<uint> usedSsrcs, WebRtcTrack? existing)
    {
        var kind = media.Type.ToLowerInvariant() switch { "audio" => MediaKind.Audio, "video" => MediaKind.Video, _ => (MediaKind?)null };
        if (kind is null || media.Port == 0 || !media.Protocol.Contains("SAVPF", StringComparison.OrdinalIgnoreCase)
            || media.GetAttribute("rtcp-mux") is null || media.GetAttribute("bundle-only") is not null && bundle is null
            || (offer.Media.Count > 1 && (bundle is null || !bundle.Mids.Contains(mid))))
        {
            return null;
        }

        var codecs = Codec.FromSdp(media);
        var codec = kind == MediaKind.Video ? ChooseH264(codecs) : ChooseAudio(codecs, local.AudioCodecs);
        if (codec is null)
        {
            return null;
        }

        var direction = offer.EffectiveDirection(media);
        if (direction == SdpDirection.Inactive)
        {
            return null;
        }

        var canSend = direction is SdpDirection.RecvOnly or SdpDirection.SendRecv;
        var canReceive = direction is SdpDirection.SendOnly or SdpDirection.SendRecv;
        var feedback = ReadFeedback(media, codec.PayloadType);
        var remoteSsrc = media.Ssrcs.Count > 0 ? media.Ssrcs[0].Ssrc : (uint?)null;
        if (existing is not null && existing.Kind == kind && existing.Codec == codec && existing.CanSend == canSend
            && existing.CanReceive == canReceive && existing.Feedback == feedback && (remoteSsrc is null || existing.RemoteSsrc == remoteSsrc))
        {
            return existing; // unchanged by the re-offer: the application keeps sending on the same object
        }

        uint ssrc;
        if (existing?.Kind == kind)
        {
            ssrc = existing.LocalSsrc; // a changed section keeps its SSRC, so the browser's jitter buffer carries on
        }
        else
        {
            do
            {
                ssrc = (uint)RandomNumberGenerator.GetInt32(1, int.MaxValue);
            }
            while (!usedSsrcs.Add(ssrc));
        }

        return new WebRtcTrack(mid, kind.Value, codec, ssrc, remoteSsrc, canSend, canReceive, feedback);
    }

    private static Codec? ChooseH264(IReadOnlyList<Codec> codecs)
    {
        Codec? fallback = null;
        foreach (var codec in codecs.Where(c => c.Name == Codec.H264 && c.ClockRate == 90000))
        {
            var p = codec.FmtpParameters;
            if (!p.TryGetValue("packetization-mode", out var mode) || mode != "1")
            {
                continue;
            }

            var profile = p.TryGetValue("profile-level-id", out var id) ? id : string.Empty;
            if (string.Equals(profile, H264ProfileLevelId, StringComparison.OrdinalIgnoreCase))
            {
                return codec with { FmtpLine = "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=" + H264ProfileLevelId };
            }

            // Any other baseline-family id (42xxxx) still decodes what cameras send in practice.
            if (fallback is null && profile.StartsWith("42", StringComparison.OrdinalIgnoreCase))
            {
                fallback = codec with { FmtpLine = "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=" + profile };
            }
        }

        return fallback;
    }

    private static Codec? ChooseAudio(IReadOnlyList<Codec> codecs, IReadOnlyList<string> preference)
    {
        foreach (var name in preference)
        {
            var match = codecs.FirstOrDefault(c => string.Equals(c.Name, name, StringComparison.OrdinalIgnoreCase) && c.ClockRate == 8000);
            if (match is not null)
            {
                return match with { FmtpLine = string.Empty, Channels = 0 };
            }
        }

        return null;
    }

    private static WebRtcFeedback ReadFeedback(SdpMedia media, int payloadType)
    {
        var result = WebRtcFeedback.None;
        var pt = payloadType.ToString(CultureInfo.InvariantCulture);
        foreach (var value in media.GetAttributes("rtcp-fb"))
        {
            var parts = value.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length < 2 || (parts[0] != pt && parts[0] != "*"))
            {
                continue;
            }

            var type = string.Join(' ', parts[1..]).ToLowerInvariant();
            result |= type switch { "nack" => WebRtcFeedback.Nack, "nack pli" => WebRtcFeedback.Pli, "ccm fir" => WebRtcFeedback.Fir, _ => WebRtcFeedback.None };
        }

        return result;
    }

    private static SdpMedia Accept(SdpMedia offered, WebRtcTrack track, WebRtcLocalDescription local, bool first)
    {
        var address = local.Candidate.Address.ToString();
        var pt = track.Codec.PayloadType.ToString(CultureInfo.InvariantCulture);
        var media = new SdpMedia { Type = offered.Type, Port = local.Candidate.Port, Protocol = Protocol, Connection = SdpConnection.Create(address) };
        media.Formats.Add(pt);
        media.AddAttribute("mid", track.Mid);
        media.AddAttribute(track.CanSend && track.CanReceive ? "sendrecv" : track.CanSend ? "sendonly" : "recvonly");
        media.AddAttribute("ice-ufrag", local.Ufrag);
        media.AddAttribute("ice-pwd", local.Password);
        media.AddAttribute("fingerprint", local.Fingerprint);
        media.AddAttribute("setup", "passive");
        media.AddAttribute("rtcp-mux");
        if (offered.GetAttribute("rtcp-rsize") is not null)
        {
            media.AddAttribute("rtcp-rsize");
        }

        media.AddAttribute("rtpmap", string.Create(CultureInfo.InvariantCulture, $"{pt} {track.Codec.Name}/{track.Codec.ClockRate}"));
        if (track.Codec.FmtpLine.Length > 0)
        {
            media.AddAttribute("fmtp", pt + " " + track.Codec.FmtpLine);
        }

        foreach (var (flag, text) in new[] { (WebRtcFeedback.Nack, "nack"), (WebRtcFeedback.Pli, "nack pli"), (WebRtcFeedback.Fir, "ccm fir") })
        {
            if (track.Feedback.HasFlag(flag))
            {
                media.AddAttribute("rtcp-fb", pt + " " + text);
            }
        }

        if (track.CanSend)
        {
            var trackId = StreamId + "-" + track.Mid;
            var ssrc = track.LocalSsrc.ToString(CultureInfo.InvariantCulture);
            media.AddAttribute("msid", StreamId + " " + trackId);
            media.AddAttribute("ssrc", ssrc + " cname:" + StreamId);
            media.AddAttribute("ssrc", ssrc + " msid:" + StreamId + " " + trackId);
        }

        if (first)
        {
            media.AddAttribute("candidate", string.Create(CultureInfo.InvariantCulture, $"1 1 udp {HostPriority} {address} {local.Candidate.Port} typ host"));
            media.AddAttribute("end-of-candidates");
        }

        return media;
    }

    private static SdpMedia Reject(SdpMedia offered, string mid)
    {
        var media = new SdpMedia { Type = offered.Type, Port = 0, Protocol = offered.Protocol, Connection = SdpConnection.Create("0.0.0.0") };
        foreach (var format in offered.Formats)
        {
            media.Formats.Add(format);
        }

        media.AddAttribute("mid", mid);
        media.AddAttribute("inactive");
        return media;
    }
}
