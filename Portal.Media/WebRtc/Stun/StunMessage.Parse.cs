using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Text;
using System.Text.Unicode;

namespace Portal.Media.WebRtc.Stun;

/// <summary>Parsing half of <see cref="StunMessage"/>: pure, bounded, never throws on hostile input.</summary>
public sealed partial class StunMessage
{
    /// <summary>Parses one STUN message that fills the whole datagram.</summary>
    public static bool TryParse(ReadOnlySpan<byte> data, [NotNullWhen(true)] out StunMessage? message, out string error)
    {
        message = null;
        if (data.Length < HeaderLength)
        {
            error = "shorter than the 20-byte STUN header";
            return false;
        }

        if ((data[0] & 0xC0) != 0)
        {
            error = "first two bits are not zero";
            return false;
        }

        var length = BinaryPrimitives.ReadUInt16BigEndian(data[2..]);
        if ((length & 3) != 0 || HeaderLength + length != data.Length)
        {
            error = "message length does not match the datagram";
            return false;
        }

        if (BinaryPrimitives.ReadUInt32BigEndian(data[4..]) != MagicCookie)
        {
            error = "magic cookie missing (RFC 3489 messages are not supported)";
            return false;
        }

        var transactionId = data.Slice(8, TransactionIdLength).ToArray();
        string? username = null, software = null, errorReason = null;
        uint? priority = null;
        ulong? controlled = null, controlling = null;
        int? errorCode = null;
        IPEndPoint? mapped = null;
        var useCandidate = false;
        var integrityOffset = -1;
        var fingerprint = false;
        List<ushort>? unknown = null;

        var pos = HeaderLength;
        while (pos < data.Length)
        {
            if (fingerprint)
            {
                error = "attribute after FINGERPRINT";
                return false;
            }

            if (data.Length - pos < 4)
            {
                error = "truncated attribute header";
                return false;
            }

            var type = BinaryPrimitives.ReadUInt16BigEndian(data[pos..]);
            var valueLength = BinaryPrimitives.ReadUInt16BigEndian(data[(pos + 2)..]);
            var padded = (valueLength + 3) & ~3;
            if (data.Length - pos - 4 < padded)
            {
                error = "attribute 0x" + type.ToString("X4", System.Globalization.CultureInfo.InvariantCulture) + " runs past the message";
                return false;
            }

            var value = data.Slice(pos + 4, valueLength);
            if (integrityOffset >= 0 && type != StunAttributeType.Fingerprint)
            {
                // RFC 8489 §14.5: attributes after MESSAGE-INTEGRITY, other than FINGERPRINT, are ignored.
                pos += 4 + padded;
                continue;
            }

            switch (type)
            {
                case StunAttributeType.Username:
                    if (!TryReadText(value, MaxUsernameBytes, out username))
                    {
                        error = "USERNAME is not valid UTF-8 of at most 513 bytes";
                        return false;
                    }

                    break;
                case StunAttributeType.Software:
                    if (!TryReadText(value, 763, out software))
                    {
                        error = "SOFTWARE is not valid UTF-8";
                        return false;
                    }

                    break;
                case StunAttributeType.Priority:
                    if (valueLength != 4)
                    {
                        error = "PRIORITY must be 4 bytes";
                        return false;
                    }

                    priority = BinaryPrimitives.ReadUInt32BigEndian(value);
                    break;
                case StunAttributeType.IceControlled or StunAttributeType.IceControlling:
                    if (valueLength != 8)
                    {
                        error = "ICE-CONTROLLED/ICE-CONTROLLING must be 8 bytes";
                        return false;
                    }

                    if (type == StunAttributeType.IceControlled)
                    {
                        controlled = BinaryPrimitives.ReadUInt64BigEndian(value);
                    }
                    else
                    {
                        controlling = BinaryPrimitives.ReadUInt64BigEndian(value);
                    }

                    break;
                case StunAttributeType.UseCandidate:
                    if (valueLength != 0)
                    {
                        error = "USE-CANDIDATE must be empty";
                        return false;
                    }

                    useCandidate = true;
                    break;
                case StunAttributeType.XorMappedAddress:
                    if (!TryReadXorAddress(value, transactionId, out mapped))
                    {
                        error = "XOR-MAPPED-ADDRESS is malformed";
                        return false;
                    }

                    break;
                case StunAttributeType.ErrorCode:
                    if (valueLength < 4 || value[2] is < 3 or > 6 || value[3] > 99 || !TryReadText(value[4..], 763, out errorReason))
                    {
                        error = "ERROR-CODE is malformed";
                        return false;
                    }

                    errorCode = (value[2] * 100) + value[3];
                    break;
                case StunAttributeType.MessageIntegrity:
                    if (valueLength != MessageIntegrityLength)
                    {
                        error = "MESSAGE-INTEGRITY must be 20 bytes";
                        return false;
                    }

                    integrityOffset = pos;
                    break;
                case StunAttributeType.Fingerprint:
                    if (valueLength != 4)
                    {
                        error = "FINGERPRINT must be 4 bytes";
                        return false;
                    }

                    if ((StunCrc32.Compute(data[..pos]) ^ FingerprintXor) != BinaryPrimitives.ReadUInt32BigEndian(value))
                    {
                        error = "FINGERPRINT does not match";
                        return false;
                    }

                    fingerprint = true;
                    break;
                case StunAttributeType.MappedAddress or StunAttributeType.Realm or StunAttributeType.Nonce or StunAttributeType.UnknownAttributes:
                    break; // Known, not used by ICE-lite.
                default:
                    if (type < 0x8000)
                    {
                        unknown ??= [];
                        if (unknown.Count < 16)
                        {
                            unknown.Add(type);
                        }
                    }

                    break;
            }

            pos += 4 + padded;
        }

        message = new StunMessage
        {
            Type = BinaryPrimitives.ReadUInt16BigEndian(data),
            _transactionId = transactionId,
            Username = username,
            Software = software,
            Priority = priority,
            IceControlled = controlled,
            IceControlling = controlling,
            UseCandidate = useCandidate,
            XorMappedAddress = mapped,
            ErrorCode = errorCode,
            ErrorReason = errorReason,
            UnknownRequiredAttributes = (IReadOnlyList<ushort>?)unknown ?? [],
            HasFingerprint = fingerprint,
            _integrityOffset = integrityOffset,
        };
        error = string.Empty;
        return true;
    }

    private static bool TryReadText(ReadOnlySpan<byte> value, int maxBytes, out string? text)
    {
        text = null;
        if (value.Length > maxBytes || !Utf8.IsValid(value))
        {
            return false;
        }

        text = Encoding.UTF8.GetString(value);
        return true;
    }

    private static bool TryReadXorAddress(ReadOnlySpan<byte> value, byte[] transactionId, out IPEndPoint? endPoint)
    {
        endPoint = null;
        var addressLength = value.Length switch { 8 when value[1] == 1 => 4, 20 when value[1] == 2 => 16, _ => 0 };
        if (addressLength == 0)
        {
            return false;
        }

        var port = BinaryPrimitives.ReadUInt16BigEndian(value[2..]) ^ (int)(MagicCookie >> 16);
        Span<byte> address = stackalloc byte[addressLength];
        value.Slice(4, addressLength).CopyTo(address);
        Span<byte> mask = stackalloc byte[16];
        BinaryPrimitives.WriteUInt32BigEndian(mask, MagicCookie);
        transactionId.CopyTo(mask[4..]);
        for (var i = 0; i < address.Length; i++)
        {
            address[i] ^= mask[i];
        }

        endPoint = new IPEndPoint(new IPAddress(address), port);
        return true;
    }
}
