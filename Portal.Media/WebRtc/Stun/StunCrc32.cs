namespace Portal.Media.WebRtc.Stun;

/// <summary>CRC-32 as in ISO 3309 / ITU-T V.42 (reflected polynomial 0xEDB88320), which FINGERPRINT uses (RFC 8489 §14.7).</summary>
/// <remarks>System.IO.Hashing has one, but it is a separate package; 20 lines do not justify a dependency.</remarks>
internal static class StunCrc32
{
    private static readonly uint[] Table = BuildTable();

    public static uint Compute(ReadOnlySpan<byte> data)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in data)
        {
            crc = Table[(crc ^ b) & 0xFF] ^ (crc >> 8);
        }

        return ~crc;
    }

    private static uint[] BuildTable()
    {
        var table = new uint[256];
        for (var n = 0u; n < 256; n++)
        {
            var c = n;
            for (var k = 0; k < 8; k++)
            {
                c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            }

            table[n] = c;
        }

        return table;
    }
}
