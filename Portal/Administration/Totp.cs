using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Portal.Administration;

/// <summary>
/// RFC 6238 time-based one-time passwords as authenticator apps compute them (HMAC-SHA1, 30-second steps, six
/// digits), checked before a user exists: the first-run setup enrols the administrator's authenticator and proves
/// it works before the account is created. Identity checks the codes of existing users itself.
/// </summary>
public static class Totp
{
    private const string Base32Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

    /// <summary>True when <paramref name="code"/> is the code of the 30-second step of <paramref name="now"/> or a neighbour (clock drift).</summary>
    public static bool Verify(string base32Key, string? code, DateTimeOffset now)
    {
        var digits = code?.Replace(" ", string.Empty, StringComparison.Ordinal) ?? string.Empty;
        if (digits.Length != 6 || !digits.All(char.IsAsciiDigit) || FromBase32(base32Key) is not { Length: > 0 } key)
        {
            return false;
        }

        var step = now.ToUnixTimeSeconds() / 30;
        var matched = false;
        for (var offset = -1; offset <= 1; offset++)
        {
            // Every candidate is computed and compared in constant time, so timing tells nothing about which matched.
            matched |= CryptographicOperations.FixedTimeEquals(System.Text.Encoding.ASCII.GetBytes(Code(key, step + offset)), System.Text.Encoding.ASCII.GetBytes(digits));
        }

        return matched;
    }

    /// <summary>The six-digit code for one 30-second step (RFC 6238 §4, RFC 4226 §5.3 dynamic truncation).</summary>
    public static string Code(byte[] key, long step)
    {
        Span<byte> counter = stackalloc byte[8];
        BinaryPrimitives.WriteInt64BigEndian(counter, step);
#pragma warning disable CA5350 // RFC 6238 authenticator apps use HMAC-SHA1; the key, not the hash, is the secret here.
        var hash = HMACSHA1.HashData(key, counter);
#pragma warning restore CA5350
        var offset = hash[^1] & 0x0F;
        var value = (BinaryPrimitives.ReadInt32BigEndian(hash.AsSpan(offset)) & 0x7FFFFFFF) % 1_000_000;
        return value.ToString("D6", System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>RFC 4648 base32 as Identity writes authenticator keys (upper case, no padding); null when malformed.</summary>
    public static byte[]? FromBase32(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return null;
        }

        var bytes = new List<byte>(text.Length * 5 / 8);
        int buffer = 0, bits = 0;
        foreach (var c in text.TrimEnd('=').ToUpperInvariant())
        {
            var value = Base32Alphabet.IndexOf(c, StringComparison.Ordinal);
            if (value < 0)
            {
                return null;
            }

            buffer = (buffer << 5) | value;
            bits += 5;
            if (bits >= 8)
            {
                bytes.Add((byte)(buffer >> (bits - 8)));
                bits -= 8;
            }
        }

        return [.. bytes];
    }

    /// <summary>The otpauth:// URI authenticator apps read (Key Uri Format), for the account in <paramref name="userName"/>.</summary>
    public static string Uri(string userName, string base32Key) =>
        $"otpauth://totp/{System.Uri.EscapeDataString("SchoolSafetyPortal")}:{System.Uri.EscapeDataString(userName)}?secret={base32Key}&issuer=SchoolSafetyPortal&digits=6";
}
