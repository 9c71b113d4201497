using System.Globalization;
using System.Net;
using Portal.Benchmarks.Harness;
using Portal.Core.Demo;

namespace Portal.Benchmarks;

/// <summary>
/// <c>flood [rate=5000] [blocks=60] [presses=10] [press-rate=10]</c>: a real portal process (demo mode, its own data
/// folder, a free port on 127.0.0.1); terminal ATS00000003 presses at press-rate per second from 127.0.0.1 while, in
/// every other block of presses, a flood of unsigned and badly signed requests (half under that terminal's serial) comes
/// from 127.0.0.2 at the given rate (issue 14). Prints the terminal's answer times quiet and flooded, the portal's other
/// answers while flooded, the flood's achieved rate and answers, the portal's CPU per 1,000 flood requests, and how many
/// rows the security tables grew by. Exits 2 when a press was refused or lost, a probe failed, or the p99 of the
/// flooded presses is more than twice the quiet one. Bounded: blocks × presses / press-rate seconds, plus at most 40 s.
/// </summary>
internal static class FloodBenchmark
{
    public const string Usage = "flood [rate=5000] [blocks=60] [presses=10] [press-rate=10]";

    private const string Serial = "ATS00000003";

    public static async Task<int> RunAsync(string[] args)
    {
        var rate = Arg(args, 0, 5000);
        var blocks = Arg(args, 1, 60);
        var presses = Arg(args, 2, 10);
        var pressRate = Arg(args, 3, 10);
        await using var portal = await PortalProcess.StartAsync(new PortalProcessOptions { DemoSchoolCount = 20, LogLevel = "Warning", EchoErrors = true }).ConfigureAwait(false);
        Console.WriteLine(FormattableString.Invariant(
            $"portal up at {portal.BaseUrl}; {blocks} blocks of {presses} presses at {pressRate}/s from 127.0.0.1, every other block flooded at {rate}/s from 127.0.0.2"));
        var before = await FloodCounts.ReadAsync(portal.Db).ConfigureAwait(false);
        var figures = await DeviceFloodScenario.RunAsync(new Uri(portal.BaseUrl), Serial, DemoCity.DemoApiKeyPrefix + Serial, IPAddress.Parse("127.0.0.2"),
            rate, blocks, presses, pressRate, () => { portal.Process!.Refresh(); return portal.Process.TotalProcessorTime; }).ConfigureAwait(false);
        foreach (var line in figures.Lines())
        {
            Console.WriteLine(line);
        }

        var after = await FloodCounts.WaitCountedAsync(portal.Db, before, figures.FloodAnsweredWithWarmUp, TimeSpan.FromSeconds(30)).ConfigureAwait(false);
        var signals = await FloodCounts.SignalsAsync(portal.Db, Serial).ConfigureAwait(false);
        Console.WriteLine(FormattableString.Invariant(
            $"security tables grew by: SecurityLog {after.SecurityLog - before.SecurityLog} rows, DeviceRefusalCount {after.CountRows - before.CountRows} rows holding {after.Counted - before.Counted} refusals (flood answered: {figures.FloodAnsweredWithWarmUp})"));
        Console.WriteLine(FormattableString.Invariant($"presses recorded on the terminal's alarms: {signals} of {figures.PressesSent}"));
        var ratio = DeviceFloodFigures.P(figures.FloodMs, 0.99) / DeviceFloodFigures.P(figures.QuietMs, 0.99);
        return figures.PressesRefused.Count == 0 && signals == figures.PressesSent && figures.ProbesFailed.Count == 0 && ratio <= 2 ? 0 : 2;
    }

    private static int Arg(string[] args, int index, int fallback) =>
        args.Length > index ? int.Parse(args[index], CultureInfo.InvariantCulture) : fallback;
}
