using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Portal.SignIn;

/// <summary>
/// RFC 6238 time-based one-time passwords as authenticator apps compute them (HMAC-SHA1, 30 s steps, 6 digits),
/// with keys in RFC 4648 base32. Identity verifies the codes of a stored key itself; this is for a key that is not
/// stored yet (a reset shows the new key and switches only once a code from it is entered) and for the demo keys.
/// </summary>
public static class Totp
{
    private const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

    /// <summary>A new random key of 160 bits (the size RFC 4226 recommends), base32.</summary>
    public static string NewKey() => ToBase32(RandomNumberGenerator.GetBytes(20));

    /// <summary>The code for the 30 s step that contains <paramref name="at"/>.</summary>
    public static string Compute(string base32Key, DateTimeOffset at) => Compute(FromBase32(base32Key), at.ToUnixTimeSeconds() / 30);

    /// <summary>True when <paramref name="code"/> is the code of the current step or one step either side (clock drift).</summary>
    public static bool Verify(string base32Key, string? code, DateTimeOffset now) => MatchStep(base32Key, code, now) is not null;

    /// <summary>
    /// The time step (Unix seconds / 30) whose code <paramref name="code"/> is, looking at the current step and one
    /// either side (clock drift); null when it is none of them. Every candidate is compared, in constant time.
    /// </summary>
    public static long? MatchStep(string base32Key, string? code, DateTimeOffset now)
    {
        var digits = (code ?? string.Empty).Replace(" ", string.Empty, StringComparison.Ordinal).Replace("-", string.Empty, StringComparison.Ordinal);
        if (digits.Length != 6)
        {
            return null;
        }

        var key = FromBase32(base32Key);
        var step = now.ToUnixTimeSeconds() / 30;
        long? match = null;
        for (var i = -1; i <= 1; i++)
        {
            if (CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Compute(key, step + i)), Encoding.ASCII.GetBytes(digits)))
            {
                match ??= step + i;
            }
        }

        return match;
    }

    public static string ToBase32(ReadOnlySpan<byte> bytes)
    {
        var text = new StringBuilder((bytes.Length * 8 + 4) / 5);
        int buffer = 0, bits = 0;
        foreach (var b in bytes)
        {
            buffer = (buffer << 8) | b;
            bits += 8;
            while (bits >= 5)
            {
                text.Append(Alphabet[(buffer >> (bits - 5)) & 31]);
                bits -= 5;
            }
        }

        if (bits > 0)
        {
            text.Append(Alphabet[(buffer << (5 - bits)) & 31]);
        }

        return text.ToString();
    }

    public static byte[] FromBase32(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var bytes = new List<byte>(text.Length * 5 / 8);
        int buffer = 0, bits = 0;
        foreach (var c in text)
        {
            if (c is ' ' or '=' or '-')
            {
                continue;
            }

            var value = Alphabet.IndexOf(char.ToUpperInvariant(c), StringComparison.Ordinal);
            if (value < 0)
            {
                throw new FormatException("Not a base32 key.");
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

    private static string Compute(byte[] key, long step)
    {
        Span<byte> counter = stackalloc byte[8];
        BinaryPrimitives.WriteInt64BigEndian(counter, step);
#pragma warning disable CA5350 // RFC 6238 as every authenticator app implements it is HMAC-SHA1.
        Span<byte> hash = stackalloc byte[HMACSHA1.HashSizeInBytes];
        HMACSHA1.HashData(key, counter, hash);
#pragma warning restore CA5350
        var offset = hash[^1] & 0x0F;
        var code = (BinaryPrimitives.ReadInt32BigEndian(hash[offset..]) & 0x7FFFFFFF) % 1_000_000;
        return code.ToString("D6", CultureInfo.InvariantCulture);
    }
}
