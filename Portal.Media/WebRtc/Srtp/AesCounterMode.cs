using System.Buffers.Binary;
using System.Numerics;
using System.Security.Cryptography;

namespace Portal.Media.WebRtc.Srtp;

/// <summary>AES in counter mode as SRTP uses it (RFC 3711 §4.1.1): keystream block i = AES(key, IV + i).</summary>
/// <remarks>
/// .NET has no CTR mode, so counter blocks are built in a reused buffer and encrypted with one ECB call per
/// chunk; nothing is allocated per packet. The ECB encryptor is kept rather than calling <c>Aes.EncryptEcb</c>,
/// because that one-shot allocates about 64 bytes per call on .NET 10 (measured). Not thread-safe:
/// <see cref="SrtpContext"/> serialises access.
/// </remarks>
internal sealed class AesCounterMode : IDisposable
{
    public const int BlockSize = 16;

    private const int ChunkBlocks = 96; // 1,536 bytes: one MTU-sized packet in one ECB call.

    private readonly Aes _aes;
    private readonly ICryptoTransform _ecb;
    private readonly byte[] _counters = new byte[ChunkBlocks * BlockSize];
    private readonly byte[] _keystream = new byte[ChunkBlocks * BlockSize];

    public AesCounterMode(ReadOnlySpan<byte> key)
    {
        _aes = Aes.Create();
        _aes.Key = key.ToArray();
        _aes.Mode = CipherMode.ECB;
        _aes.Padding = PaddingMode.None;
        _ecb = _aes.CreateEncryptor();
    }

    /// <summary>XORs <paramref name="data"/> with the keystream that starts at counter block <paramref name="iv"/> + <paramref name="firstBlock"/>.</summary>
    public void Transform(ReadOnlySpan<byte> iv, Span<byte> data, ulong firstBlock = 0)
    {
        var high = BinaryPrimitives.ReadUInt64BigEndian(iv);
        var low = BinaryPrimitives.ReadUInt64BigEndian(iv[8..]);
        var block = firstBlock;
        var done = 0;
        while (done < data.Length)
        {
            var blocks = Math.Min(ChunkBlocks, (data.Length - done + BlockSize - 1) / BlockSize);
            for (var i = 0; i < blocks; i++)
            {
                // 128-bit big-endian addition IV + block (the carry matters: RFC 3711 B.2 crosses ...FDFEFF -> ...FDFF00).
                var l = low + block + (ulong)i;
                var h = high + (l < low ? 1UL : 0UL);
                BinaryPrimitives.WriteUInt64BigEndian(_counters.AsSpan(i * BlockSize), h);
                BinaryPrimitives.WriteUInt64BigEndian(_counters.AsSpan((i * BlockSize) + 8), l);
            }

            var bytes = blocks * BlockSize;
            _ecb.TransformBlock(_counters, 0, bytes, _keystream, 0);
            var length = Math.Min(bytes, data.Length - done);
            Xor(data.Slice(done, length), _keystream.AsSpan(0, length));
            done += length;
            block += (ulong)blocks;
        }
    }

    public void Dispose()
    {
        _ecb.Dispose();
        _aes.Dispose();
    }

    private static void Xor(Span<byte> data, ReadOnlySpan<byte> keystream)
    {
        var i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            for (; i <= data.Length - Vector<byte>.Count; i += Vector<byte>.Count)
            {
                (new Vector<byte>(data[i..]) ^ new Vector<byte>(keystream[i..])).CopyTo(data[i..]);
            }
        }

        for (; i < data.Length; i++)
        {
            data[i] ^= keystream[i];
        }
    }
}
