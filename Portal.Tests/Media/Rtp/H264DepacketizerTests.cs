using Portal.Media.Rtp;
using Xunit;

namespace Portal.Tests.Media.Rtp;

public sealed class H264DepacketizerTests
{
    // SPS/PPS of a 640x360 Constrained Baseline stream (as in sprop-parameter-sets), and small slices.
    internal static readonly byte[] Sps = Convert.FromHexString("6742C01E8C8D40501E90");
    internal static readonly byte[] Pps = Convert.FromHexString("68CE3C80");
    internal static readonly byte[] Idr = [0x65, 0x88, 0x84, 0x00, 0x33, 0xFF];
    internal static readonly byte[] Slice = [0x41, 0x9A, 0x02, 0x04];

    private static string Sprop => Convert.ToBase64String(Sps) + "," + Convert.ToBase64String(Pps);

    internal static byte[] Rtp(ushort seq, uint ts, bool marker, params byte[] payload)
    {
        var buffer = new byte[12 + payload.Length];
        RtpPacket.Write(buffer, new RtpHeader { SequenceNumber = seq, Timestamp = ts, Marker = marker, PayloadType = 96 }, payload);
        return buffer;
    }

    private static (H264Depacketizer Depacketizer, List<H264AccessUnit> Units) Create(string? sprop = null, bool startAtKeyframe = true)
    {
        var units = new List<H264AccessUnit>();
        return (new H264Depacketizer(units.Add, sprop, startAtKeyframe), units);
    }

    [Fact]
    public void Push_SingleNalUnits_EmitsAccessUnitAtMarker()
    {
        var (d, units) = Create();

        d.Push(Rtp(1, 3600, false, Sps));
        d.Push(Rtp(2, 3600, false, Pps));
        Assert.Empty(units);
        d.Push(Rtp(3, 3600, true, Idr));

        var unit = Assert.Single(units);
        Assert.True(unit.IsKeyframe && unit.HasSps && unit.HasPps);
        Assert.Equal(3600u, unit.Timestamp);
        Assert.Equal(Convert.ToHexString(Idr), Convert.ToHexString(unit.NalUnits[2].Span));
    }

    [Fact]
    public void Push_LendUnits_SameNalUnitsAsOwnedOnesAndOneReusedUnit()
    {
        var owned = new List<string>();
        var lent = new List<string>();
        var lentUnits = new HashSet<H264AccessUnit>(ReferenceEqualityComparer.Instance);
        var copying = new H264Depacketizer(u => owned.Add(Describe(u)), Sprop);
        var lending = new H264Depacketizer(u => { lent.Add(Describe(u)); lentUnits.Add(u); }, Sprop, lendUnits: true);
        byte[] fuStart = [0x7C, 0x85, .. Idr[1..4]];
        byte[] fuEnd = [0x7C, 0x45, .. Idr[4..]];
        byte[][] packets = [Rtp(1, 3600, false, fuStart), Rtp(2, 3600, true, fuEnd), Rtp(3, 7200, true, Slice), Rtp(4, 10800, false, Sps), Rtp(5, 10800, false, Pps), Rtp(6, 10800, true, Idr)];

        foreach (var packet in packets)
        {
            copying.Push(packet);
            lending.Push(packet);
        }

        Assert.Equal(3, owned.Count);
        Assert.Equal(owned, lent);
        Assert.Single(lentUnits);

        // The unit's NALs are SPS, PPS (inserted from sprop for the first IDR) and the reassembled IDR.
        static string Describe(H264AccessUnit unit) =>
            unit.Timestamp + ":" + string.Join(',', unit.NalUnits.Select(n => Convert.ToHexString(n.Span))) + ":" + unit.IsKeyframe;
    }

    [Fact]
    public void Push_StapA_SplitsAggregatedUnits()
    {
        var (d, units) = Create();
        byte[] stap = [0x78, 0, (byte)Sps.Length, .. Sps, 0, (byte)Pps.Length, .. Pps];

        d.Push(Rtp(10, 0, false, stap));
        d.Push(Rtp(11, 0, true, Idr));

        Assert.Equal(3, Assert.Single(units).NalUnits.Count);
    }

    [Fact]
    public void Push_FuA_ReassemblesTheNalUnit()
    {
        var (d, units) = Create(Sprop);
        byte[] nal = [0x65, .. Enumerable.Range(0, 3000).Select(i => (byte)i)];

        // Split by our packetizer, then put back together.
        var packetizer = new H264Packetizer(mtu: 1000, initialSequenceNumber: 65530);
        packetizer.Packetize([nal], 90000, p => d.Push(p));

        var unit = Assert.Single(units);
        Assert.Equal(Convert.ToHexString(nal), Convert.ToHexString(unit.NalUnits[^1].Span));
    }

    [Fact]
    public void Push_IdrWithoutParameterSets_InsertsThemFromSprop()
    {
        // Some cameras send SPS/PPS only in the SDP; a browser needs them in-band before the IDR.
        var (d, units) = Create(Sprop);

        d.Push(Rtp(1, 0, true, Idr));

        var nals = Assert.Single(units).NalUnits;
        Assert.Equal([7, 8, 5], nals.Select(n => H264NalUnit.TypeOf(n.Span[0])));
    }

    [Fact]
    public void Push_BeforeFirstKeyframe_DropsNonIdrUnits()
    {
        var (d, units) = Create(Sprop);

        d.Push(Rtp(1, 0, true, Slice));
        d.Push(Rtp(2, 3600, true, Idr));
        d.Push(Rtp(3, 7200, true, Slice));

        Assert.Equal(2, units.Count);
        Assert.True(units[0].IsKeyframe);
        Assert.Equal(1, d.DroppedAccessUnits);
    }

    [Fact]
    public void Push_SequenceGap_DropsUntilNextKeyframe()
    {
        var (d, units) = Create(Sprop);
        d.Push(Rtp(1, 0, true, Idr));

        d.Push(Rtp(3, 3600, true, Slice)); // 2 lost
        d.Push(Rtp(4, 7200, true, Slice));
        d.Push(Rtp(5, 10800, true, Idr));

        Assert.Equal(2, units.Count);
        Assert.True(units[1].IsKeyframe);
    }

    [Fact]
    public void Push_MissingMarker_TimestampChangeEndsTheUnit()
    {
        var (d, units) = Create(Sprop);

        d.Push(Rtp(1, 0, false, Idr));
        d.Push(Rtp(2, 3600, false, Slice));

        Assert.Single(units);
    }

    [Theory]
    [InlineData("7800")] // STAP-A with a cut size
    [InlineData("78000A6742")] // STAP-A size beyond payload
    [InlineData("78")] // empty STAP-A
    [InlineData("7C45AA")] // FU-A with S and E both set
    [InlineData("7C05AA")] // FU-A continuation without a start
    [InlineData("E5")] // forbidden bit set
    [InlineData("79")] // STAP-B (mode 2 only)
    [InlineData("7C")] // FU-A without header
    public void Push_MalformedPayload_CountsAndEmitsNothing(string payloadHex)
    {
        var (d, units) = Create(Sprop, startAtKeyframe: false);

        d.Push(Rtp(1, 0, true, Convert.FromHexString(payloadHex)));

        Assert.Empty(units);
        Assert.Equal(1, d.MalformedPackets);
    }

    [Fact]
    public void Push_AccessUnitOverTheLimit_IsDropped()
    {
        var units = new List<H264AccessUnit>();
        var d = new H264Depacketizer(units.Add, Sprop, startAtKeyframe: false, maxAccessUnitSize: 1000);
        var big = new byte[600];
        big[0] = 0x65;

        d.Push(Rtp(1, 0, false, big));
        d.Push(Rtp(2, 0, true, big));

        Assert.Empty(units);
        Assert.True(d.MalformedPackets > 0);
    }

    [Fact]
    public void Push_SeededFuzz_NeverThrowsAndEmitsOnlyValidUnits()
    {
        var packets = new List<byte[]>();
        var packetizer = new H264Packetizer(mtu: 200, initialSequenceNumber: 1);
        byte[] bigIdr = [0x65, .. Enumerable.Range(0, 900).Select(i => (byte)(i * 7))];
        packetizer.Packetize([Sps, Pps, bigIdr], 0, p => packets.Add(p.ToArray()));
        packetizer.Packetize([Slice], 3600, p => packets.Add(p.ToArray()));
        byte[] stap = [0x78, 0, (byte)Sps.Length, .. Sps, 0, (byte)Pps.Length, .. Pps];
        packets.Add(Rtp(50, 7200, false, stap));

        var units = new List<H264AccessUnit>();
        var d = new H264Depacketizer(units.Add, Sprop, startAtKeyframe: false, maxAccessUnitSize: 64 * 1024);
        foreach (var input in MediaFuzz.Inputs(6184, packets))
        {
            d.Push(input);
        }

        foreach (var unit in units)
        {
            Assert.All(unit.NalUnits, n => Assert.True(n.Length > 0 && (n.Span[0] & 0x80) == 0));
        }
    }
}
