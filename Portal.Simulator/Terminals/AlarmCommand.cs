using System.Diagnostics;
using System.Globalization;
using System.Net;

namespace Portal.Simulator.Terminals;

/// <summary>
/// <c>alarm --url http://127.0.0.1:5080 --serial ATS00000000 [--key K] [--count N] [--rate R]</c>: presses the
/// button of a demo terminal once, or N times at R per second across terminals ATSnnnnnnnn counting up
/// from the given serial. Demo keys are "demo-api-key-" + serial unless --key is given.
/// </summary>
public static class AlarmCommand
{
    public const string Usage = "alarm --url URL --serial ATS00000000 [--key KEY] [--count N] [--rate PER_SECOND]";

    public static async Task<int> RunAsync(string[] args, CancellationToken ct)
    {
        var options = Parse(args);
        var url = options.GetValueOrDefault("url") ?? throw new ArgumentException("--url is required.");
        var first = options.GetValueOrDefault("serial") ?? throw new ArgumentException("--serial is required.");
        var count = int.Parse(options.GetValueOrDefault("count") ?? "1", CultureInfo.InvariantCulture);
        var rate = double.Parse(options.GetValueOrDefault("rate") ?? "10", CultureInfo.InvariantCulture);
        if (count < 1 || rate <= 0 || first.Length < 4 || !long.TryParse(first[3..], NumberStyles.None, CultureInfo.InvariantCulture, out var start))
        {
            throw new ArgumentException("--count and --rate must be positive; --serial looks like ATS00000000.");
        }

        using var http = new HttpClient { BaseAddress = new Uri(url), Timeout = TimeSpan.FromSeconds(30) };
        var tasks = new List<Task<AlarmPressResult>>(count);
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < count; i++)
        {
            var serial = first[..3] + (start + i).ToString(new string('0', first.Length - 3), CultureInfo.InvariantCulture);
            var key = options.GetValueOrDefault("key") ?? "demo-api-key-" + serial;
            var due = TimeSpan.FromSeconds(i / rate);
            if (due > clock.Elapsed)
            {
                await Task.Delay(due - clock.Elapsed, ct).ConfigureAwait(false);
            }

            tasks.Add(new SignedAlarmClient(http, serial, key).PressAsync(ct: ct));
        }

        var results = await Task.WhenAll(tasks).ConfigureAwait(false);
        var accepted = results.Count(r => r.Status is HttpStatusCode.Created or HttpStatusCode.OK);
        var times = results.Select(r => r.Elapsed.TotalMilliseconds).Order().ToArray();
        double P(double p) => times[Math.Clamp((int)Math.Ceiling(p * times.Length) - 1, 0, times.Length - 1)];
        Console.WriteLine(FormattableString.Invariant($"sent {count} in {clock.Elapsed.TotalSeconds:0.00} s: accepted {accepted}, refused {count - accepted}"));
        Console.WriteLine(FormattableString.Invariant($"answer time: p50 {P(0.5):0.0} ms, p95 {P(0.95):0.0} ms, p99 {P(0.99):0.0} ms, max {times[^1]:0.0} ms"));
        foreach (var refused in results.Where(r => r.Status is not (HttpStatusCode.Created or HttpStatusCode.OK)).Take(5))
        {
            Console.WriteLine($"  {(int)refused.Status}: {refused.Body}");
        }

        return accepted == count ? 0 : 3;
    }

    internal static Dictionary<string, string> Parse(string[] args)
    {
        var result = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < args.Length; i++)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length)
            {
                throw new ArgumentException($"Unexpected argument {args[i]}.");
            }

            result[args[i][2..]] = args[++i];
        }

        return result;
    }
}
