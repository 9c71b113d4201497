using System.Globalization;

namespace Portal.Media.Rtp;

/// <summary>H.264 NAL unit types and helpers used by the depacketizer, packetizer and the simulator's clip reader.</summary>
/// <remarks>
/// ITU-T H.264 §7.3.1 NAL header, one octet: <c>|F|NRI|  Type   |</c> (1, 2 and 5 bits).
/// RFC 6184 §5.2 reuses the type field: 24 STAP-A, 25 STAP-B, 26 MTAP16, 27 MTAP24, 28 FU-A, 29 FU-B.
/// </remarks>
public static class H264NalUnit
{
    public const int NonIdrSlice = 1;
    public const int IdrSlice = 5;
    public const int Sei = 6;
    public const int Sps = 7;
    public const int Pps = 8;
    public const int AccessUnitDelimiter = 9;
    public const int Filler = 12;
    public const int StapA = 24;
    public const int FuA = 28;

    public static int TypeOf(byte header) => header & 0x1F;

    public static bool IsSlice(int type) => type is >= NonIdrSlice and <= IdrSlice;

    /// <summary>
    /// True when a slice NAL starts a new picture: <c>first_mb_in_slice</c> is 0, and ue(v) of 0 is the single bit 1
    /// (H.264 §7.3.3, §9.1), so the first payload bit is set.
    /// </summary>
    public static bool IsFirstSliceOfPicture(ReadOnlySpan<byte> nal) => nal.Length > 1 && IsSlice(TypeOf(nal[0])) && (nal[1] & 0x80) != 0;

    /// <summary>Splits an Annex-B byte stream (start codes 00 00 01 or 00 00 00 01) into NAL units, as offset/length pairs.</summary>
    public static IReadOnlyList<Range> SplitAnnexB(ReadOnlySpan<byte> stream)
    {
        var result = new List<Range>();
        var start = -1;
        var i = 0;
        while (i + 2 < stream.Length)
        {
            if (stream[i] == 0 && stream[i + 1] == 0 && stream[i + 2] == 1)
            {
                if (start >= 0)
                {
                    var end = i;
                    while (end > start && stream[end - 1] == 0)
                    {
                        end--; // the zero of a 4-byte start code, or trailing_zero_8bits
                    }

                    AddIfNotEmpty(result, start, end);
                }

                i += 3;
                start = i;
                continue;
            }

            i++;
        }

        if (start >= 0)
        {
            AddIfNotEmpty(result, start, stream.Length);
        }

        return result;
    }

    /// <summary>Decodes <c>sprop-parameter-sets</c> (RFC 6184 §8.1): comma-separated base64 NAL units, usually SPS then PPS.</summary>
    public static IReadOnlyList<byte[]> ParseSpropParameterSets(string? value)
    {
        var result = new List<byte[]>();
        if (string.IsNullOrWhiteSpace(value))
        {
            return result;
        }

        foreach (var part in value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var buffer = new byte[((part.Length + 3) / 4) * 3];
            if (Convert.TryFromBase64String(part, buffer, out var written) && written > 0)
            {
                result.Add(buffer[..written]);
            }
        }

        return result;
    }

    /// <summary>The <c>profile-level-id</c> fmtp value (RFC 6184 §8.1): profile_idc, constraint flags and level_idc from an SPS.</summary>
    public static string ProfileLevelId(ReadOnlySpan<byte> sps) =>
        sps.Length >= 4
            ? string.Create(CultureInfo.InvariantCulture, $"{sps[1]:x2}{sps[2]:x2}{sps[3]:x2}")
            : "42e01f";

    private static void AddIfNotEmpty(List<Range> result, int start, int end)
    {
        if (end > start)
        {
            result.Add(new Range(start, end));
        }
    }
}

/// <summary>The NAL units of one picture and the RTP timestamp they share (RFC 6184 §5.1: one timestamp per access unit).</summary>
/// <remarks>Plain loops, no LINQ: the camera hub asks these for every frame it forwards.</remarks>
public sealed class H264AccessUnit(uint timestamp, IReadOnlyList<ReadOnlyMemory<byte>> nalUnits)
{
    /// <summary>Set again by a depacketizer that lends one reused unit.</summary>
    public uint Timestamp { get; internal set; } = timestamp;

    /// <summary>NAL units without start codes, each starting with its NAL header octet.</summary>
    public IReadOnlyList<ReadOnlyMemory<byte>> NalUnits { get; } = nalUnits;

    public bool IsKeyframe => Has(H264NalUnit.IdrSlice);

    public bool HasSps => Has(H264NalUnit.Sps);

    public bool HasPps => Has(H264NalUnit.Pps);

    public int Size
    {
        get
        {
            var size = 0;
            for (var i = 0; i < NalUnits.Count; i++)
            {
                size += NalUnits[i].Length;
            }

            return size;
        }
    }

    private bool Has(int type)
    {
        for (var i = 0; i < NalUnits.Count; i++)
        {
            var nal = NalUnits[i].Span;
            if (nal.Length > 0 && H264NalUnit.TypeOf(nal[0]) == type)
            {
                return true;
            }
        }

        return false;
    }
}
