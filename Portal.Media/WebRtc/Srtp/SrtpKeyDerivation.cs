using System.Security.Cryptography;

namespace Portal.Media.WebRtc.Srtp;

/// <summary>SRTP session key derivation, RFC 3711 §4.3, with key derivation rate 0 (the only rate DTLS-SRTP uses).</summary>
/// <remarks>
/// <code>
/// key_id = label || (index DIV kdr)          7 bytes; with kdr = 0 the index part is 0
/// x      = key_id XOR master_salt            key_id right-aligned against the 14-byte salt
/// out    = AES-CM(master_key, IV = x * 2^16) truncated to the wanted length
/// </code>
/// </remarks>
public static class SrtpKeyDerivation
{
    public const int MasterKeyLength = 16;
    public const int MasterSaltLength = 14;
    public const int SessionKeyLength = 16;
    public const int SessionSaltLength = 14;
    public const int SessionAuthKeyLength = 20;

    public const byte RtpEncryptionLabel = 0x00;
    public const byte RtpAuthenticationLabel = 0x01;
    public const byte RtpSaltLabel = 0x02;
    public const byte RtcpEncryptionLabel = 0x03;
    public const byte RtcpAuthenticationLabel = 0x04;
    public const byte RtcpSaltLabel = 0x05;

    /// <summary>Derives <paramref name="output"/>.Length bytes for <paramref name="label"/>.</summary>
    public static void Derive(ReadOnlySpan<byte> masterKey, ReadOnlySpan<byte> masterSalt, byte label, Span<byte> output)
    {
        if (masterKey.Length != MasterKeyLength || masterSalt.Length != MasterSaltLength)
        {
            throw new ArgumentException("AES_CM_128 needs a 16-byte master key and a 14-byte master salt.");
        }

        Span<byte> iv = stackalloc byte[AesCounterMode.BlockSize];
        masterSalt.CopyTo(iv);
        iv[7] ^= label;
        output.Clear();
        using var cipher = new AesCounterMode(masterKey);
        cipher.Transform(iv, output);
    }

    internal static byte[] Derive(ReadOnlySpan<byte> masterKey, ReadOnlySpan<byte> masterSalt, byte label, int length)
    {
        var output = new byte[length];
        Derive(masterKey, masterSalt, label, output);
        return output;
    }

    internal static void ZeroMemory(byte[] secret) => CryptographicOperations.ZeroMemory(secret);
}
