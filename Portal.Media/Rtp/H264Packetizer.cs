namespace Portal.Media.Rtp;

/// <summary>Receives each RTP packet a packetizer writes; the span is reused for the next packet.</summary>
public delegate void RtpPacketWriter(ReadOnlySpan<byte> packet);

/// <summary>Splits access units into RTP packets that fit an MTU (RFC 6184 packetization-mode 1, non-interleaved).</summary>
/// <remarks>
/// A NAL unit that fits goes out as a single-NAL packet (§5.6); a larger one as FU-A fragments (§5.8):
/// <code>
/// |FU indicator: F NRI 28|FU header: S E R NAL-type| fragment of the NAL payload (header octet removed) |
/// </code>
/// The marker bit is set on the last packet of each access unit (§5.1). 1200 bytes of RTP leaves room for
/// SRTP's auth tag and the UDP/IP headers under common tunnel MTUs, the size browsers themselves use.
/// </remarks>
public sealed class H264Packetizer
{
    public const int DefaultMtu = 1200;

    private readonly byte[] _buffer;
    private readonly int _mtu;

    /// <param name="mtu">Largest RTP packet to write, header included.</param>
    /// <param name="payloadType">Written as is; a WebRTC peer rewrites it to the negotiated value.</param>
    /// <param name="ssrc">Written as is; a WebRTC peer rewrites it to its own.</param>
    /// <param name="initialSequenceNumber">First sequence number; RFC 3550 §5.1 suggests a random start.</param>
    public H264Packetizer(int mtu = DefaultMtu, byte payloadType = 96, uint ssrc = 0, ushort? initialSequenceNumber = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(mtu, RtpPacket.FixedHeaderLength + 3);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(payloadType, (byte)127);
        _mtu = mtu;
        _buffer = new byte[mtu];
        PayloadType = payloadType;
        Ssrc = ssrc;
        NextSequenceNumber = initialSequenceNumber ?? (ushort)Random.Shared.Next(ushort.MaxValue + 1);
    }

    public byte PayloadType { get; }

    public uint Ssrc { get; }

    public ushort NextSequenceNumber { get; private set; }

    /// <summary>Writes all packets of one access unit through <paramref name="writer"/>.</summary>
    public void Packetize(H264AccessUnit accessUnit, RtpPacketWriter writer) =>
        Packetize(accessUnit.NalUnits, accessUnit.Timestamp, writer);

    public void Packetize(IReadOnlyList<ReadOnlyMemory<byte>> nalUnits, uint timestamp, RtpPacketWriter writer)
    {
        var maxPayload = _mtu - RtpPacket.FixedHeaderLength;
        var last = nalUnits.Count - 1;
        while (last >= 0 && nalUnits[last].IsEmpty)
        {
            last--;
        }

        Span<byte> prefix = stackalloc byte[2];
        for (var i = 0; i <= last; i++)
        {
            var nal = nalUnits[i].Span;
            if (nal.IsEmpty)
            {
                continue;
            }

            var lastNal = i == last;
            if (nal.Length <= maxPayload)
            {
                Emit(nal, [], lastNal, timestamp, writer);
                continue;
            }

            // FU-A: the NAL header's F and NRI go in the indicator, its type in the FU header.
            prefix[0] = (byte)((nal[0] & 0xE0) | H264NalUnit.FuA);
            var type = (byte)(nal[0] & 0x1F);
            var body = nal[1..];
            var chunk = maxPayload - 2;
            var first = true;
            while (body.Length > 0)
            {
                var size = Math.Min(chunk, body.Length);
                var end = size == body.Length;
                prefix[1] = (byte)((first ? 0x80 : 0) | (end ? 0x40 : 0) | type);
                Emit(prefix, body[..size], lastNal && end, timestamp, writer);
                body = body[size..];
                first = false;
            }
        }
    }

    private void Emit(ReadOnlySpan<byte> first, ReadOnlySpan<byte> second, bool marker, uint timestamp, RtpPacketWriter writer)
    {
        var header = new RtpHeader
        {
            Marker = marker,
            PayloadType = PayloadType,
            SequenceNumber = NextSequenceNumber++,
            Timestamp = timestamp,
            Ssrc = Ssrc,
        };
        var written = RtpPacket.Write(_buffer, header, first);
        second.CopyTo(_buffer.AsSpan(written));
        writer(_buffer.AsSpan(0, written + second.Length));
    }
}
