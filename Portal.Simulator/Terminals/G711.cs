namespace Portal.Simulator.Terminals;

/// <summary>G.711 (ITU-T G.711) μ-law and A-law encoding of 16-bit samples, for the simulated terminal's tone.</summary>
/// <remarks>
/// μ-law: bias 0x84, clip at 32635, segment = position of the top bit, 4 mantissa bits, all bits inverted.
/// A-law: segment and mantissa from the magnitude (no bias), sign bit set for positive, even bits inverted (XOR 0x55).
/// </remarks>
public static class G711
{
    public static byte EncodeMuLaw(short sample)
    {
        const int Bias = 0x84;
        const int Clip = 32635;
        var sign = sample < 0 ? 0x80 : 0;
        var magnitude = Math.Min(Math.Abs((int)sample), Clip) + Bias;
        var exponent = 7;
        for (var mask = 0x4000; (magnitude & mask) == 0 && exponent > 0; mask >>= 1)
        {
            exponent--;
        }

        var mantissa = (magnitude >> (exponent + 3)) & 0x0F;
        return (byte)~(sign | (exponent << 4) | mantissa);
    }

    public static byte EncodeALaw(short sample)
    {
        var sign = sample >= 0 ? 0x80 : 0;
        var magnitude = Math.Min(Math.Abs((int)sample), 32767) >> 3;
        int encoded;
        if (magnitude < 32)
        {
            encoded = magnitude >> 1;
        }
        else
        {
            var exponent = 1;
            for (var m = magnitude >> 5; m > 1 && exponent < 7; m >>= 1)
            {
                exponent++;
            }

            encoded = (exponent << 4) | ((magnitude >> exponent) & 0x0F);
        }

        return (byte)((sign | encoded) ^ 0x55);
    }

    /// <summary>One 20 ms packet (160 samples at 8 kHz) of a sine tone, looping seamlessly when 8000 is a multiple of the frequency.</summary>
    public static byte[][] Tone(int frequency, bool aLaw, int packets = 50)
    {
        var result = new byte[packets][];
        for (var p = 0; p < packets; p++)
        {
            result[p] = new byte[160];
            for (var i = 0; i < 160; i++)
            {
                var t = ((p * 160) + i) / 8000.0;
                var sample = (short)(Math.Sin(2 * Math.PI * frequency * t) * 8000);
                result[p][i] = aLaw ? EncodeALaw(sample) : EncodeMuLaw(sample);
            }
        }

        return result;
    }
}
