using System.Diagnostics;
using System.Globalization;
using System.Net;

namespace Portal.Simulator.Terminals;

/// <summary>
/// <c>heartbeat --url http://127.0.0.1:5080 --serial ATS00000000 [--terminals N] [--interval 60] [--beats B] [--key K]</c>:
/// N demo terminals (ATSnnnnnnnn counting up from the serial) each send a signed heartbeat every interval, spread evenly
/// over it as real terminals started at random times would, B times each (0, the default: until Ctrl-C). Demo keys
/// are "demo-api-key-" + serial unless --key is given. Prints a line per interval: sent, accepted, refused, slowest answer.
/// </summary>
public static class HeartbeatCommand
{
    public const string Usage = "heartbeat --url URL --serial ATS00000000 [--terminals N] [--interval SECONDS] [--beats B] [--key KEY]";

    public static async Task<int> RunAsync(string[] args, CancellationToken ct)
    {
        var options = AlarmCommand.Parse(args);
        var url = options.GetValueOrDefault("url") ?? throw new ArgumentException("--url is required.");
        var first = options.GetValueOrDefault("serial") ?? throw new ArgumentException("--serial is required.");
        var terminals = int.Parse(options.GetValueOrDefault("terminals") ?? "1", CultureInfo.InvariantCulture);
        var interval = TimeSpan.FromSeconds(double.Parse(options.GetValueOrDefault("interval") ?? "60", CultureInfo.InvariantCulture));
        var beats = int.Parse(options.GetValueOrDefault("beats") ?? "0", CultureInfo.InvariantCulture);
        if (terminals < 1 || interval <= TimeSpan.Zero || beats < 0 || first.Length < 4
            || !long.TryParse(first[3..], NumberStyles.None, CultureInfo.InvariantCulture, out var start))
        {
            throw new ArgumentException("--terminals and --interval must be positive, --beats not negative; --serial looks like ATS00000000.");
        }

        using var http = new HttpClient { BaseAddress = new Uri(url), Timeout = TimeSpan.FromSeconds(30) };
        var clients = Enumerable.Range(0, terminals).Select(i =>
        {
            var serial = first[..3] + (start + i).ToString(new string('0', first.Length - 3), CultureInfo.InvariantCulture);
            return new SignedAlarmClient(http, serial, options.GetValueOrDefault("key") ?? "demo-api-key-" + serial);
        }).ToList();

        var clock = Stopwatch.StartNew();
        var failed = 0;
        try
        {
            for (var round = 0; beats == 0 || round < beats; round++)
            {
                var sends = new List<Task<AlarmPressResult>>(terminals);
                for (var i = 0; i < terminals && !ct.IsCancellationRequested; i++)
                {
                    var due = interval * round + interval * i / terminals;
                    if (due > clock.Elapsed)
                    {
                        await Task.Delay(due - clock.Elapsed, ct).ConfigureAwait(false);
                    }

                    sends.Add(clients[i].HeartbeatAsync(ct: ct));
                }

                var results = await Task.WhenAll(sends).ConfigureAwait(false);
                var accepted = results.Count(r => r.Status == HttpStatusCode.OK);
                failed += results.Length - accepted;
                var slowest = results.Length == 0 ? 0 : results.Max(r => r.Elapsed.TotalMilliseconds);
                Console.WriteLine(FormattableString.Invariant(
                    $"{clock.Elapsed.TotalSeconds,8:0.0} s  round {round + 1}: sent {results.Length}, accepted {accepted}, refused {results.Length - accepted}, slowest {slowest:0.0} ms"));
                foreach (var refused in results.Where(r => r.Status != HttpStatusCode.OK).Take(3))
                {
                    Console.WriteLine($"  {(int)refused.Status}: {refused.Body}");
                }

                if (ct.IsCancellationRequested)
                {
                    break;
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // Ctrl-C: stop quietly.
        }

        return failed == 0 ? 0 : 3;
    }
}
