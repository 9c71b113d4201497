using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace Portal.Media.WebRtc.Stun;

/// <summary>A STUN message with the attributes ICE needs (RFC 8489, RFC 8445 §7 and §16).</summary>
/// <remarks>
/// RFC 8489 §5, header, then attributes (§14), each padded to a multiple of 4 bytes:
/// <code>
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |0 0|     STUN Message Type     |         Message Length        |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                         Magic Cookie                          |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                     Transaction ID (96 bits)                  |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |         Type                  |            Length             |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                         Value (variable)                ....
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// </code>
/// MESSAGE-INTEGRITY (§14.5) is an HMAC-SHA1 over the message up to the attribute, with the length field
/// already counting it; FINGERPRINT (§14.7) is CRC-32 xor 0x5354554e over everything before it and must be last.
/// </remarks>
[SuppressMessage("Security", "CA5350", Justification = "RFC 8489 §14.5 and RFC 8445 define MESSAGE-INTEGRITY as HMAC-SHA1.")]
public sealed partial class StunMessage
{
    public const int HeaderLength = 20;
    public const uint MagicCookie = 0x2112A442;
    public const int TransactionIdLength = 12;
    public const uint FingerprintXor = 0x5354554E;

    /// <summary>Largest USERNAME value RFC 8489 §14.3 allows.</summary>
    public const int MaxUsernameBytes = 513;

    private const int MessageIntegrityLength = 20;

    private byte[] _transactionId = new byte[TransactionIdLength];

    /// <summary>Offset of the MESSAGE-INTEGRITY attribute header in the parsed packet, or -1.</summary>
    private int _integrityOffset = -1;

    public ushort Type { get; init; }

    public ReadOnlyMemory<byte> TransactionId
    {
        get => _transactionId;
        init
        {
            if (value.Length != TransactionIdLength)
            {
                throw new ArgumentException("A STUN transaction id is 12 bytes.", nameof(value));
            }

            _transactionId = value.ToArray();
        }
    }

    public string? Username { get; init; }

    public string? Software { get; init; }

    public uint? Priority { get; init; }

    public ulong? IceControlled { get; init; }

    public ulong? IceControlling { get; init; }

    public bool UseCandidate { get; init; }

    public IPEndPoint? XorMappedAddress { get; init; }

    /// <summary>ERROR-CODE as class*100+number (300..699).</summary>
    public int? ErrorCode { get; init; }

    public string? ErrorReason { get; init; }

    /// <summary>Comprehension-required attribute types the parser did not know (for a 420 answer, RFC 8489 §6.3.1.1).</summary>
    public IReadOnlyList<ushort> UnknownRequiredAttributes { get; private init; } = [];

    /// <summary>True when the parsed message carried MESSAGE-INTEGRITY; check it with <see cref="CheckIntegrity"/>.</summary>
    public bool HasMessageIntegrity => _integrityOffset >= 0;

    /// <summary>True when the parsed message carried a (valid) FINGERPRINT.</summary>
    public bool HasFingerprint { get; private init; }

    /// <summary>When writing: append FINGERPRINT (ICE requires it, RFC 8445 §7.2.2).</summary>
    public bool AddFingerprint { get; init; } = true;

    /// <summary>Padding byte used when writing. RFC 8489 says zero; RFC 5769's vectors pad with spaces.</summary>
    internal byte PaddingByte { get; init; }

    public static StunMessage CreateBindingRequest(string username, uint priority, ulong tieBreaker, bool controlling, bool useCandidate) => new()
    {
        Type = StunMessageType.BindingRequest,
        TransactionId = RandomNumberGenerator.GetBytes(TransactionIdLength),
        Username = username,
        Priority = priority,
        IceControlling = controlling ? tieBreaker : null,
        IceControlled = controlling ? null : tieBreaker,
        UseCandidate = useCandidate,
    };

    public static StunMessage CreateSuccessResponse(StunMessage request, IPEndPoint mappedAddress) => new()
    {
        Type = StunMessageType.BindingSuccessResponse,
        TransactionId = request.TransactionId,
        XorMappedAddress = mappedAddress,
    };

    public static StunMessage CreateErrorResponse(StunMessage request, int errorCode, string reason) => new()
    {
        Type = StunMessageType.BindingErrorResponse,
        TransactionId = request.TransactionId,
        ErrorCode = errorCode,
        ErrorReason = reason,
    };

    /// <summary>Whether a datagram looks like STUN (RFC 7983 §7: first byte 0..3, plus the magic cookie).</summary>
    public static bool IsStun(ReadOnlySpan<byte> datagram) =>
        datagram.Length >= HeaderLength && datagram[0] <= 3 && BinaryPrimitives.ReadUInt32BigEndian(datagram[4..]) == MagicCookie;

    /// <summary>Short-term credential key (RFC 8489 §9.1.1): the password's UTF-8 bytes. ICE passwords are ASCII, so no SASLprep.</summary>
    public static byte[] ShortTermKey(string password) => Encoding.UTF8.GetBytes(password);

    /// <summary>Checks MESSAGE-INTEGRITY of <paramref name="packet"/>, the exact bytes this message was parsed from.</summary>
    public bool CheckIntegrity(ReadOnlySpan<byte> packet, ReadOnlySpan<byte> key)
    {
        if (_integrityOffset < 0 || packet.Length < _integrityOffset + 4 + MessageIntegrityLength)
        {
            return false;
        }

        var rented = ArrayPool<byte>.Shared.Rent(_integrityOffset);
        try
        {
            var covered = rented.AsSpan(0, _integrityOffset);
            packet[.._integrityOffset].CopyTo(covered);
            BinaryPrimitives.WriteUInt16BigEndian(covered[2..], (ushort)(_integrityOffset + 4 + MessageIntegrityLength - HeaderLength));
            Span<byte> hmac = stackalloc byte[MessageIntegrityLength];
            HMACSHA1.HashData(key, covered, hmac);
            return CryptographicOperations.FixedTimeEquals(hmac, packet.Slice(_integrityOffset + 4, MessageIntegrityLength));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>Bytes <see cref="Write(Span{byte}, ReadOnlySpan{byte})"/> will produce.</summary>
    public int GetLength(bool withIntegrity)
    {
        var length = HeaderLength;
        length += AttributeSize(Software is null ? -1 : Encoding.UTF8.GetByteCount(Software));
        length += AttributeSize(ErrorCode is null ? -1 : 4 + Encoding.UTF8.GetByteCount(ErrorReason ?? string.Empty));
        length += AttributeSize(XorMappedAddress is null ? -1 : XorMappedAddress.AddressFamily == AddressFamily.InterNetworkV6 ? 20 : 8);
        length += AttributeSize(Priority is null ? -1 : 4);
        length += AttributeSize(IceControlled is null ? -1 : 8);
        length += AttributeSize(IceControlling is null ? -1 : 8);
        length += AttributeSize(UseCandidate ? 0 : -1);
        length += AttributeSize(Username is null ? -1 : Encoding.UTF8.GetByteCount(Username));
        length += withIntegrity ? 4 + MessageIntegrityLength : 0;
        length += AddFingerprint ? 8 : 0;
        return length;
    }

    /// <summary>Writes the message without MESSAGE-INTEGRITY.</summary>
    public int Write(Span<byte> destination) => Write(destination, default);

    /// <summary>Writes the message; a non-empty <paramref name="integrityKey"/> adds MESSAGE-INTEGRITY.</summary>
    public int Write(Span<byte> destination, ReadOnlySpan<byte> integrityKey)
    {
        var total = GetLength(!integrityKey.IsEmpty);
        if (destination.Length < total)
        {
            throw new ArgumentException("Destination is too small for the STUN message.", nameof(destination));
        }

        BinaryPrimitives.WriteUInt16BigEndian(destination, Type);
        BinaryPrimitives.WriteUInt32BigEndian(destination[4..], MagicCookie);
        _transactionId.CopyTo(destination[8..]);
        var pos = HeaderLength;
        if (Software is not null)
        {
            pos = WriteText(destination, pos, StunAttributeType.Software, Software);
        }

        if (ErrorCode is { } code)
        {
            var reason = Encoding.UTF8.GetBytes(ErrorReason ?? string.Empty);
            var value = BeginAttribute(destination, ref pos, StunAttributeType.ErrorCode, 4 + reason.Length);
            value[..2].Clear();
            value[2] = (byte)(code / 100);
            value[3] = (byte)(code % 100);
            reason.CopyTo(value[4..]);
            pos = EndAttribute(destination, pos, 4 + reason.Length);
        }

        if (XorMappedAddress is { } mapped)
        {
            pos = WriteXorAddress(destination, pos, mapped);
        }

        if (Priority is { } priority)
        {
            BinaryPrimitives.WriteUInt32BigEndian(BeginAttribute(destination, ref pos, StunAttributeType.Priority, 4), priority);
            pos = EndAttribute(destination, pos, 4);
        }

        if (IceControlled is { } controlled)
        {
            BinaryPrimitives.WriteUInt64BigEndian(BeginAttribute(destination, ref pos, StunAttributeType.IceControlled, 8), controlled);
            pos = EndAttribute(destination, pos, 8);
        }

        if (IceControlling is { } controlling)
        {
            BinaryPrimitives.WriteUInt64BigEndian(BeginAttribute(destination, ref pos, StunAttributeType.IceControlling, 8), controlling);
            pos = EndAttribute(destination, pos, 8);
        }

        if (UseCandidate)
        {
            BeginAttribute(destination, ref pos, StunAttributeType.UseCandidate, 0);
        }

        if (Username is not null)
        {
            pos = WriteText(destination, pos, StunAttributeType.Username, Username);
        }

        if (!integrityKey.IsEmpty)
        {
            BinaryPrimitives.WriteUInt16BigEndian(destination[2..], (ushort)(pos + 4 + MessageIntegrityLength - HeaderLength));
            var value = BeginAttribute(destination, ref pos, StunAttributeType.MessageIntegrity, MessageIntegrityLength);
            HMACSHA1.HashData(integrityKey, destination[..(pos - 4)], value);
            pos += MessageIntegrityLength;
        }

        if (AddFingerprint)
        {
            BinaryPrimitives.WriteUInt16BigEndian(destination[2..], (ushort)(pos + 8 - HeaderLength));
            var crc = StunCrc32.Compute(destination[..pos]) ^ FingerprintXor;
            BinaryPrimitives.WriteUInt32BigEndian(BeginAttribute(destination, ref pos, StunAttributeType.Fingerprint, 4), crc);
            pos += 4;
        }

        BinaryPrimitives.WriteUInt16BigEndian(destination[2..], (ushort)(pos - HeaderLength));
        return pos;
    }

    private static int AttributeSize(int valueLength) => valueLength < 0 ? 0 : 4 + ((valueLength + 3) & ~3);

    private static Span<byte> BeginAttribute(Span<byte> destination, ref int pos, ushort type, int length)
    {
        BinaryPrimitives.WriteUInt16BigEndian(destination[pos..], type);
        BinaryPrimitives.WriteUInt16BigEndian(destination[(pos + 2)..], (ushort)length);
        pos += 4;
        return destination.Slice(pos, length);
    }

    private int EndAttribute(Span<byte> destination, int valueStart, int length)
    {
        var padded = (length + 3) & ~3;
        destination.Slice(valueStart + length, padded - length).Fill(PaddingByte);
        return valueStart + padded;
    }

    private int WriteText(Span<byte> destination, int pos, ushort type, string text)
    {
        var length = Encoding.UTF8.GetByteCount(text);
        Encoding.UTF8.GetBytes(text, BeginAttribute(destination, ref pos, type, length));
        return EndAttribute(destination, pos, length);
    }

    private int WriteXorAddress(Span<byte> destination, int pos, IPEndPoint endPoint)
    {
        var v6 = endPoint.AddressFamily == AddressFamily.InterNetworkV6;
        var length = v6 ? 20 : 8;
        var value = BeginAttribute(destination, ref pos, StunAttributeType.XorMappedAddress, length);
        value[0] = 0;
        value[1] = (byte)(v6 ? 2 : 1);
        BinaryPrimitives.WriteUInt16BigEndian(value[2..], (ushort)(endPoint.Port ^ (int)(MagicCookie >> 16)));
        endPoint.Address.TryWriteBytes(value[4..], out _);
        XorAddress(value[4..length]);
        return EndAttribute(destination, pos, length);
    }

    /// <summary>XOR with the cookie, then (IPv6) the transaction id (RFC 8489 §14.2). Its own inverse.</summary>
    private void XorAddress(Span<byte> address)
    {
        Span<byte> mask = stackalloc byte[16];
        BinaryPrimitives.WriteUInt32BigEndian(mask, MagicCookie);
        _transactionId.CopyTo(mask[4..]);
        for (var i = 0; i < address.Length; i++)
        {
            address[i] ^= mask[i];
        }
    }
}
