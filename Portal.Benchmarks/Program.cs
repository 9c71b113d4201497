namespace Portal.Benchmarks;

/// <summary>One scenario per command; each prints its own figures. Add a case per new scenario.</summary>
public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        // A portal setting in the environment that cannot be read is refused before any scenario starts anything.
        _ = Harness.PortalProcess.ExtraEnvironment(out var refused);
        if (refused is not null)
        {
            Console.Error.WriteLine(refused);
            return 1;
        }

        switch (args.FirstOrDefault())
        {
            case "import":
                return await ImportBenchmark.RunAsync().ConfigureAwait(false);
            case "alarms":
                return await AlarmBenchmark.RunAsync(args[1..]).ConfigureAwait(false);
            case "media":
                return await MediaBenchmark.RunAsync(args[1..]).ConfigureAwait(false);
            case "flood":
                return await FloodBenchmark.RunAsync(args[1..]).ConfigureAwait(false);
            case "health":
                return await HealthBenchmark.RunAsync(args[1..]).ConfigureAwait(false);
            case "sip": // SIP intercom (issue 11)
                return await SipBenchmark.RunAsync(args[1..]).ConfigureAwait(false);
            case "sipcalls": // SIP intercom calls with audio both ways (issue 11)
                return await SipCallsBenchmark.RunAsync(args[1..]).ConfigureAwait(false);
            case "report":
                return await ReportBenchmark.RunAsync(args.ElementAtOrDefault(1)).ConfigureAwait(false);
            default:
                Console.WriteLine("usage: Portal.Benchmarks <scenario>");
                Console.WriteLine("  import   registry import: 4,000 schools as CSV and XLSX into SQLite, then again");
                Console.WriteLine("  " + AlarmBenchmark.Usage + "   device request -> answer and -> console DOM, a burst; --floor: the bare floor first, and the ratios");
                Console.WriteLine("  " + MediaBenchmark.Usage + "   gate camera first frame in Chromium, 100 viewers of 4 Mbps, allocations per packet");
                Console.WriteLine("  " + HealthBenchmark.Usage + "   device health: one check cycle over a simulated city, 1 % outages, detection time");
                Console.WriteLine("  " + SipBenchmark.Usage + "   digest registration storm (portal and Kamailio), press INVITE -> 180 latency");
                Console.WriteLine("  " + SipCallsBenchmark.Usage + "   simultaneous alarm calls, G.711 both ways through the intercom bridge: CPU and memory per call, one-way delay");
                Console.WriteLine("  report [keep-folder]   city completion report for 4,000 schools, xlsx and PDF");
                Console.WriteLine("  " + FloodBenchmark.Usage + "   a terminal's answer times while unsigned and badly signed requests flood the device API");
                return 1;
        }
    }
}
