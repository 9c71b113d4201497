namespace Portal.Media.Rtp.Rtcp;

/// <summary>Walks the packets of a compound RTCP datagram (RFC 3550 §6.1) without copying.</summary>
/// <remarks>
/// <code>
/// +------+------+------+-- ... --+
/// |  SR  | SDES | PSFB |   ...   |   each: header (4) + (length+1)*4 bytes, back to back
/// +------+------+------+-- ... --+
/// </code>
/// RFC 3550 wants SR or RR first, but RFC 5506 reduced-size RTCP (browsers send a lone PLI or NACK) drops that
/// rule, so the reader only checks that every packet is version 2 and that the lengths tile the datagram exactly.
/// <code>
/// var reader = new RtcpCompoundReader(datagram);
/// while (reader.TryReadNext(out var header, out var packet, out var error)) { ... }
/// if (reader.Error is not null) { /* malformed */ }
/// </code>
/// </remarks>
public ref struct RtcpCompoundReader
{
    /// <summary>Bound on packets per datagram, so a hostile datagram of 4-byte packets cannot cost much.</summary>
    public const int MaxPackets = 64;

    private ReadOnlySpan<byte> _remaining;
    private int _count;

    public RtcpCompoundReader(ReadOnlySpan<byte> datagram)
    {
        _remaining = datagram;
        Error = datagram.IsEmpty ? "empty RTCP datagram" : null;
    }

    /// <summary>Why reading stopped early, or null when the datagram was read to its end.</summary>
    public string? Error { get; private set; }

    /// <summary>Checks that a whole datagram is well-formed compound RTCP.</summary>
    public static bool Validate(ReadOnlySpan<byte> datagram, out string error)
    {
        var reader = new RtcpCompoundReader(datagram);
        while (reader.TryReadNext(out _, out _, out _))
        {
        }

        error = reader.Error ?? string.Empty;
        return reader.Error is null;
    }

    /// <summary>Returns the next packet (header included); false at the end or on malformed input (see <see cref="Error"/>).</summary>
    public bool TryReadNext(out RtcpHeader header, out ReadOnlySpan<byte> packet, out string error)
    {
        header = default;
        packet = default;
        if (Error is not null || _remaining.IsEmpty)
        {
            error = Error ?? string.Empty;
            return false;
        }

        if (++_count > MaxPackets)
        {
            Error = error = "more than " + MaxPackets + " packets in one compound RTCP datagram";
            return false;
        }

        if (!RtcpHeader.TryParse(_remaining, out header, out error))
        {
            Error = error;
            return false;
        }

        packet = _remaining[..header.PacketLength];
        _remaining = _remaining[header.PacketLength..];
        return true;
    }
}
