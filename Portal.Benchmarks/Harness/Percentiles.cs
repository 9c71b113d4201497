namespace Portal.Benchmarks.Harness;

/// <summary>Percentiles as the benchmarks print them.</summary>
public static class Percentiles
{
    /// <summary>Nearest-rank percentile of a sorted list (NaN when empty).</summary>
    public static double Of(IReadOnlyList<double> sorted, double p)
    {
        ArgumentNullException.ThrowIfNull(sorted);
        return sorted.Count == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Count) - 1, 0, sorted.Count - 1)];
    }
}
