using System.Globalization;
using Portal.Media.Sdp;

namespace Portal.Media.Core;

/// <summary>An RTP codec as an SDP rtpmap/fmtp pair describes it (go2rtc <c>pkg/core/codec.go</c> in spirit).</summary>
/// <remarks>
/// <see cref="Name"/> is the IANA encoding name in upper case (<c>H264</c>, <c>PCMU</c>, <c>PCMA</c>);
/// <see cref="FmtpLine"/> the fmtp parameters without the payload type, or empty.
/// </remarks>
public sealed record Codec(string Name, int ClockRate, int PayloadType, int Channels = 0, string FmtpLine = "")
{
    public const string H264 = "H264";

    public const string Pcmu = "PCMU";

    public const string Pcma = "PCMA";

    public bool IsVideo => Name is H264;

    public IReadOnlyDictionary<string, string> FmtpParameters => new SdpFmtp(PayloadType, FmtpLine).GetParameters();

    /// <summary>Reads every codec a media line offers, in its preference order.</summary>
    public static IReadOnlyList<Codec> FromSdp(SdpMedia media)
    {
        var result = new List<Codec>();
        foreach (var format in media.Formats)
        {
            if (!int.TryParse(format, NumberStyles.None, CultureInfo.InvariantCulture, out var pt) || pt > 127)
            {
                continue;
            }

            var map = media.GetRtpMap(pt);
            var fmtp = media.GetFmtp(pt)?.Parameters ?? string.Empty;
            if (map is not null)
            {
                result.Add(new Codec(map.EncodingName.ToUpperInvariant(), map.ClockRate, pt, map.Channels ?? 0, fmtp));
            }
            else if (pt is 0 or 8)
            {
                // Static payload types of RFC 3551 table 4; an rtpmap is optional for them.
                result.Add(new Codec(pt == 0 ? Pcmu : Pcma, 8000, pt, 1, fmtp));
            }
        }

        return result;
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Name}/{ClockRate} pt={PayloadType}");
}
