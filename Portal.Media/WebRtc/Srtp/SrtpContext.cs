using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;

namespace Portal.Media.WebRtc.Srtp;

/// <summary>
/// One direction of an SRTP/SRTCP session with AES_CM_128_HMAC_SHA1_80 (RFC 3711, profile from RFC 5764 §4.1.2).
/// Use one context to protect what we send and another, with the peer's keys, to unprotect what we receive.
/// </summary>
/// <remarks>
/// SRTP packet (RFC 3711 §3.1): the RTP header stays clear, the payload is encrypted, the tag covers both and the ROC:
/// <code>
/// +----------------------------+---------------------------+--------------------+
/// | RTP header (12 + 4*CC [+X]) | encrypted payload         | auth tag (10 bytes)|
/// +----------------------------+---------------------------+--------------------+
/// tag = HMAC-SHA1(auth_key, header || payload || ROC)[0..10)
/// IV  = (salt * 2^16) XOR (SSRC * 2^64) XOR (index * 2^16),  index = ROC * 2^16 + SEQ
/// </code>
/// SRTCP packet (§3.4): first 8 bytes clear, the rest encrypted, then E-flag||31-bit index and the tag:
/// <code>
/// | V P RC PT length SSRC (8) | encrypted rest | E| SRTCP index (4) | auth tag (10) |
/// </code>
/// Work is done in place on the caller's buffer, with reused cipher/HMAC state, so nothing is allocated per
/// packet. All methods are thread-safe (one lock per context); a context holds at most <see cref="MaxStreams"/> SSRCs.
/// </remarks>
[SuppressMessage("Security", "CA5350", Justification = "RFC 3711 §4.2 mandates HMAC-SHA1 for this profile.")]
public sealed class SrtpContext : IDisposable
{
    public const int AuthTagLength = 10;

    /// <summary>Bytes SRTCP adds after the RTCP packet: E||index and the tag.</summary>
    public const int SrtcpTrailerLength = 4 + AuthTagLength;

    public const int MaxStreams = 64;

    private const int RtpFixedHeader = 12;
    private const int RtcpHeader = 8;

    private readonly Lock _sync = new();
    private readonly AesCounterMode _rtpCipher;
    private readonly AesCounterMode _rtcpCipher;
    private readonly IncrementalHash _rtpAuth;
    private readonly IncrementalHash _rtcpAuth;
    private readonly byte[] _rtpSalt;
    private readonly byte[] _rtcpSalt;
    private readonly Dictionary<uint, Stream> _streams = [];
    private readonly byte[] _iv = new byte[AesCounterMode.BlockSize];
    private readonly byte[] _tag = new byte[20];
    private readonly byte[] _roc = new byte[4];
    private bool _disposed;

    public SrtpContext(ReadOnlySpan<byte> masterKey, ReadOnlySpan<byte> masterSalt)
    {
        var rtpKey = SrtpKeyDerivation.Derive(masterKey, masterSalt, SrtpKeyDerivation.RtpEncryptionLabel, SrtpKeyDerivation.SessionKeyLength);
        var rtpAuth = SrtpKeyDerivation.Derive(masterKey, masterSalt, SrtpKeyDerivation.RtpAuthenticationLabel, SrtpKeyDerivation.SessionAuthKeyLength);
        var rtcpKey = SrtpKeyDerivation.Derive(masterKey, masterSalt, SrtpKeyDerivation.RtcpEncryptionLabel, SrtpKeyDerivation.SessionKeyLength);
        var rtcpAuth = SrtpKeyDerivation.Derive(masterKey, masterSalt, SrtpKeyDerivation.RtcpAuthenticationLabel, SrtpKeyDerivation.SessionAuthKeyLength);
        _rtpSalt = SrtpKeyDerivation.Derive(masterKey, masterSalt, SrtpKeyDerivation.RtpSaltLabel, SrtpKeyDerivation.SessionSaltLength);
        _rtcpSalt = SrtpKeyDerivation.Derive(masterKey, masterSalt, SrtpKeyDerivation.RtcpSaltLabel, SrtpKeyDerivation.SessionSaltLength);
        _rtpCipher = new AesCounterMode(rtpKey);
        _rtcpCipher = new AesCounterMode(rtcpKey);
        _rtpAuth = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA1, rtpAuth);
        _rtcpAuth = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA1, rtcpAuth);
        foreach (var secret in new[] { rtpKey, rtpAuth, rtcpKey, rtcpAuth })
        {
            SrtpKeyDerivation.ZeroMemory(secret);
        }
    }

    /// <summary>
    /// Encrypts and tags the RTP packet in <paramref name="buffer"/>[0..<paramref name="length"/>) in place;
    /// the buffer needs <see cref="AuthTagLength"/> spare bytes after it.
    /// </summary>
    public bool TryProtectRtp(Span<byte> buffer, int length, out int protectedLength, out string error)
    {
        protectedLength = 0;
        if (!TryGetRtpHeaderLength(buffer, length, 0, out var headerLength, out error))
        {
            return false;
        }

        if (buffer.Length < length + AuthTagLength)
        {
            error = "no room for the authentication tag";
            return false;
        }

        var ssrc = BinaryPrimitives.ReadUInt32BigEndian(buffer[8..]);
        var seq = BinaryPrimitives.ReadUInt16BigEndian(buffer[2..]);
        lock (_sync)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!TryGetStream(ssrc, out var stream, out error))
            {
                return false;
            }

            var index = EstimateIndex(stream.Rtp, seq);
            if (index < 0)
            {
                error = "sequence number is before the first packet sent";
                return false;
            }

            stream.Rtp.Accept((ulong)index);
            ComputeIv(_rtpSalt, ssrc, (ulong)index);
            _rtpCipher.Transform(_iv, buffer[headerLength..length]);
            WriteRtpTag(buffer[..length], (uint)(index >> 16), buffer.Slice(length, AuthTagLength));
        }

        protectedLength = length + AuthTagLength;
        return true;
    }

    /// <summary>Authenticates, replay-checks and decrypts an SRTP packet in place.</summary>
    public bool TryUnprotectRtp(Span<byte> packet, out int length, out string error)
    {
        length = 0;
        if (!TryGetRtpHeaderLength(packet, packet.Length, AuthTagLength, out var headerLength, out error))
        {
            return false;
        }

        var ssrc = BinaryPrimitives.ReadUInt32BigEndian(packet[8..]);
        var seq = BinaryPrimitives.ReadUInt16BigEndian(packet[2..]);
        var body = packet[..^AuthTagLength];
        lock (_sync)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _streams.TryGetValue(ssrc, out var stream);
            var index = stream is null ? seq : EstimateIndex(stream.Rtp, seq);
            if (index < 0)
            {
                error = "packet index is older than the replay window";
                return false;
            }

            if (stream?.Rtp.Check((ulong)index) is { } replay)
            {
                error = replay;
                return false;
            }

            Span<byte> tag = _tag.AsSpan(0, AuthTagLength);
            WriteRtpTag(body, (uint)(index >> 16), tag);
            if (!CryptographicOperations.FixedTimeEquals(tag, packet[^AuthTagLength..]))
            {
                error = "SRTP authentication failed";
                return false;
            }

            if (stream is null && !TryGetStream(ssrc, out stream, out error))
            {
                return false;
            }

            stream.Rtp.Accept((ulong)index);
            ComputeIv(_rtpSalt, ssrc, (ulong)index);
            _rtpCipher.Transform(_iv, body[headerLength..]);
        }

        length = body.Length;
        error = string.Empty;
        return true;
    }

    /// <summary>
    /// Encrypts and tags a (compound) RTCP packet in place; the buffer needs <see cref="SrtcpTrailerLength"/>
    /// spare bytes after it.
    /// </summary>
    public bool TryProtectRtcp(Span<byte> buffer, int length, out int protectedLength, out string error)
    {
        protectedLength = 0;
        if (length < RtcpHeader || length > buffer.Length || (buffer[0] >> 6) != 2)
        {
            error = "not an RTCP packet";
            return false;
        }

        if (buffer.Length < length + SrtcpTrailerLength)
        {
            error = "no room for the SRTCP index and tag";
            return false;
        }

        var ssrc = BinaryPrimitives.ReadUInt32BigEndian(buffer[4..]);
        lock (_sync)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!TryGetStream(ssrc, out var stream, out error))
            {
                return false;
            }

            var index = stream.Rtcp.Initialized ? (stream.Rtcp.Highest + 1) & 0x7FFFFFFF : 0;
            stream.Rtcp.Accept(index);
            ComputeIv(_rtcpSalt, ssrc, index);
            _rtcpCipher.Transform(_iv, buffer[RtcpHeader..length]);
            BinaryPrimitives.WriteUInt32BigEndian(buffer[length..], 0x80000000u | (uint)index);
            _rtcpAuth.AppendData(buffer[..(length + 4)]);
            _rtcpAuth.GetHashAndReset(_tag);
            _tag.AsSpan(0, AuthTagLength).CopyTo(buffer[(length + 4)..]);
        }

        protectedLength = length + SrtcpTrailerLength;
        return true;
    }

    /// <summary>Authenticates, replay-checks and decrypts an SRTCP packet in place.</summary>
    public bool TryUnprotectRtcp(Span<byte> packet, out int length, out string error)
    {
        length = 0;
        if (packet.Length < RtcpHeader + SrtcpTrailerLength || (packet[0] >> 6) != 2)
        {
            error = "too short for SRTCP or not version 2";
            return false;
        }

        var ssrc = BinaryPrimitives.ReadUInt32BigEndian(packet[4..]);
        var word = BinaryPrimitives.ReadUInt32BigEndian(packet[^SrtcpTrailerLength..]);
        var encrypted = (word & 0x80000000u) != 0;
        ulong index = word & 0x7FFFFFFF;
        var body = packet[..^SrtcpTrailerLength];
        lock (_sync)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _streams.TryGetValue(ssrc, out var stream);
            if (stream?.Rtcp.Check(index) is { } replay)
            {
                error = replay;
                return false;
            }

            _rtcpAuth.AppendData(packet[..^AuthTagLength]);
            _rtcpAuth.GetHashAndReset(_tag);
            if (!CryptographicOperations.FixedTimeEquals(_tag.AsSpan(0, AuthTagLength), packet[^AuthTagLength..]))
            {
                error = "SRTCP authentication failed";
                return false;
            }

            if (stream is null && !TryGetStream(ssrc, out stream, out error))
            {
                return false;
            }

            stream.Rtcp.Accept(index);
            if (encrypted)
            {
                ComputeIv(_rtcpSalt, ssrc, index);
                _rtcpCipher.Transform(_iv, body[RtcpHeader..]);
            }
        }

        length = body.Length;
        error = string.Empty;
        return true;
    }

    public void Dispose()
    {
        lock (_sync)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            _rtpCipher.Dispose();
            _rtcpCipher.Dispose();
            _rtpAuth.Dispose();
            _rtcpAuth.Dispose();
        }
    }

    /// <summary>RTP header length: 12 + 4*CC, plus the extension when X is set (RFC 3550 §5.1, §5.3.1).</summary>
    internal static bool TryGetRtpHeaderLength(ReadOnlySpan<byte> packet, int length, int trailer, out int headerLength, out string error)
    {
        headerLength = 0;
        if (length > packet.Length || length < RtpFixedHeader + trailer || (packet[0] >> 6) != 2)
        {
            error = "not an RTP packet (too short or not version 2)";
            return false;
        }

        var h = RtpFixedHeader + (4 * (packet[0] & 0x0F));
        if ((packet[0] & 0x10) != 0)
        {
            if (length < h + 4 + trailer)
            {
                error = "RTP header extension is truncated";
                return false;
            }

            h += 4 + (4 * BinaryPrimitives.ReadUInt16BigEndian(packet[(h + 2)..]));
        }

        if (h > length - trailer)
        {
            error = "RTP header is longer than the packet";
            return false;
        }

        headerLength = h;
        error = string.Empty;
        return true;
    }

    /// <summary>RFC 3711 §3.3.1: guess ROC from the highest index seen; -1 when the guess falls before index 0.</summary>
    private static long EstimateIndex(SrtpReplayWindow window, ushort seq)
    {
        if (!window.Initialized)
        {
            return seq;
        }

        var roc = (long)(window.Highest >> 16);
        var last = (ushort)window.Highest;
        long v;
        if (last < 32768)
        {
            v = seq - last > 32768 ? roc - 1 : roc;
        }
        else
        {
            v = last - 32768 > seq ? roc + 1 : roc;
        }

        return v < 0 ? -1 : (v << 16) | seq;
    }

    private bool TryGetStream(uint ssrc, [NotNullWhen(true)] out Stream? stream, out string error)
    {
        if (!_streams.TryGetValue(ssrc, out stream))
        {
            if (_streams.Count >= MaxStreams)
            {
                error = "too many SSRCs in one SRTP session";
                return false;
            }

            stream = new Stream();
            _streams.Add(ssrc, stream);
        }

        error = string.Empty;
        return true;
    }

    private void ComputeIv(byte[] salt, uint ssrc, ulong index)
    {
        var iv = _iv.AsSpan();
        salt.CopyTo(iv);
        iv[14] = 0;
        iv[15] = 0;
        Span<byte> word = stackalloc byte[8];
        BinaryPrimitives.WriteUInt32BigEndian(word, ssrc);
        for (var i = 0; i < 4; i++)
        {
            iv[4 + i] ^= word[i];
        }

        BinaryPrimitives.WriteUInt64BigEndian(word, index << 16);
        for (var i = 0; i < 8; i++)
        {
            iv[8 + i] ^= word[i];
        }
    }

    private void WriteRtpTag(ReadOnlySpan<byte> authenticated, uint roc, Span<byte> tag)
    {
        BinaryPrimitives.WriteUInt32BigEndian(_roc, roc);
        _rtpAuth.AppendData(authenticated);
        _rtpAuth.AppendData(_roc);
        _rtpAuth.GetHashAndReset(_tag);
        _tag.AsSpan(0, AuthTagLength).CopyTo(tag);
    }

    private sealed class Stream
    {
        public SrtpReplayWindow Rtp { get; } = new();

        public SrtpReplayWindow Rtcp { get; } = new();
    }
}
