using System.Globalization;

namespace Portal.Tests.Media;

/// <summary>
/// Seeded mutation fuzzing for the media parsers: bounded by default so CI stays fast, and
/// PORTAL_FUZZ_ITERATIONS raises the count (e.g. 100000) for a long local run. The seed is fixed so a
/// failure reproduces; the failing iteration is in the assertion message.
/// </summary>
internal static class MediaFuzz
{
    public const int DefaultIterations = 20_000;

    public static int Iterations =>
        int.TryParse(Environment.GetEnvironmentVariable("PORTAL_FUZZ_ITERATIONS"), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0
            ? n
            : DefaultIterations;

    /// <summary>Yields mutated copies of the seeds: bit flips, byte overwrites, truncation, insertion, splicing and pure noise.</summary>
    public static IEnumerable<byte[]> Inputs(int seed, IReadOnlyList<byte[]> seeds, int? iterations = null)
    {
        var random = new Random(seed);
        var count = iterations ?? Iterations;
        for (var i = 0; i < count; i++)
        {
            var source = seeds[random.Next(seeds.Count)];
            yield return Mutate(random, source, seeds);
        }
    }

    private static byte[] Mutate(Random random, byte[] source, IReadOnlyList<byte[]> seeds)
    {
        var data = new List<byte>(source);
        var rounds = 1 + random.Next(4);
        for (var r = 0; r < rounds; r++)
        {
            switch (random.Next(7))
            {
                case 0 when data.Count > 0:
                    var bit = random.Next(data.Count);
                    data[bit] ^= (byte)(1 << random.Next(8));
                    break;
                case 1 when data.Count > 0:
                    data[random.Next(data.Count)] = (byte)random.Next(256);
                    break;
                case 2 when data.Count > 0:
                    data.RemoveRange(random.Next(data.Count), 1);
                    data = data.Take(random.Next(data.Count + 1)).ToList();
                    break;
                case 3:
                    var insert = new byte[random.Next(1, 16)];
                    random.NextBytes(insert);
                    data.InsertRange(random.Next(data.Count + 1), insert);
                    break;
                case 4:
                    var other = seeds[random.Next(seeds.Count)];
                    var start = random.Next(other.Length + 1);
                    data.InsertRange(random.Next(data.Count + 1), other.Skip(start).Take(random.Next(64)));
                    break;
                case 5:
                    // Interesting values: length fields at their extremes.
                    if (data.Count > 0)
                    {
                        data[random.Next(data.Count)] = random.Next(3) switch { 0 => 0x00, 1 => 0xFF, _ => 0x7F };
                    }

                    break;
                default:
                    var noise = new byte[random.Next(0, 64)];
                    random.NextBytes(noise);
                    return noise;
            }
        }

        return data.ToArray();
    }
}
