using System.Buffers.Binary;

namespace Portal.Media.WebRtc.Dtls;

/// <summary>The 13-byte DTLS record header (RFC 6347 §4.1), checked before a datagram reaches BouncyCastle.</summary>
/// <remarks>
/// <code>
/// +--------+---------+---------+-------+----------------+--------+----------------+
/// | type 1 | version 2 (254.253 = DTLS 1.2) | epoch 2 | sequence_number 6 | length 2 | fragment ...
/// +--------+---------+---------+-------+----------------+--------+----------------+
/// </code>
/// A datagram may carry several records back to back. The check is cheap and drops garbage that RFC 7983's
/// first-byte rule (20..63) would otherwise hand to the DTLS stack.
/// </remarks>
public readonly record struct DtlsRecordHeader(byte ContentType, ushort Version, ushort Epoch, ulong SequenceNumber, int FragmentLength)
{
    public const int Length = 13;

    public const byte ChangeCipherSpec = 20;
    public const byte Alert = 21;
    public const byte Handshake = 22;
    public const byte ApplicationData = 23;

    /// <summary>Largest fragment RFC 6347 §4.1 allows (2^14 plus expansion).</summary>
    public const int MaxFragmentLength = 16384 + 2048;

    public static bool TryParse(ReadOnlySpan<byte> data, out DtlsRecordHeader header, out string error)
    {
        header = default;
        if (data.Length < Length)
        {
            error = "shorter than a DTLS record header";
            return false;
        }

        if (data[0] is < ChangeCipherSpec or > 25)
        {
            error = "unknown DTLS content type";
            return false;
        }

        var version = BinaryPrimitives.ReadUInt16BigEndian(data[1..]);
        if (version is not (0xFEFD or 0xFEFF))
        {
            error = "not DTLS 1.0 or 1.2";
            return false;
        }

        var fragment = BinaryPrimitives.ReadUInt16BigEndian(data[11..]);
        if (fragment > MaxFragmentLength || fragment > data.Length - Length)
        {
            error = "DTLS record length runs past the datagram";
            return false;
        }

        var sequence = ((ulong)BinaryPrimitives.ReadUInt16BigEndian(data[5..]) << 32) | BinaryPrimitives.ReadUInt32BigEndian(data[7..]);
        header = new DtlsRecordHeader(data[0], version, BinaryPrimitives.ReadUInt16BigEndian(data[3..]), sequence, fragment);
        error = string.Empty;
        return true;
    }

    /// <summary>Checks that a datagram is a run of whole DTLS records.</summary>
    public static bool TryValidateDatagram(ReadOnlySpan<byte> datagram, out int records, out string error)
    {
        records = 0;
        if (datagram.IsEmpty)
        {
            error = "empty datagram";
            return false;
        }

        while (!datagram.IsEmpty)
        {
            if (!TryParse(datagram, out var header, out error))
            {
                return false;
            }

            records++;
            datagram = datagram[(Length + header.FragmentLength)..];
        }

        error = string.Empty;
        return true;
    }

    public int Write(Span<byte> destination)
    {
        destination[0] = ContentType;
        BinaryPrimitives.WriteUInt16BigEndian(destination[1..], Version);
        BinaryPrimitives.WriteUInt16BigEndian(destination[3..], Epoch);
        BinaryPrimitives.WriteUInt16BigEndian(destination[5..], (ushort)(SequenceNumber >> 32));
        BinaryPrimitives.WriteUInt32BigEndian(destination[7..], (uint)SequenceNumber);
        BinaryPrimitives.WriteUInt16BigEndian(destination[11..], (ushort)FragmentLength);
        return Length;
    }
}
