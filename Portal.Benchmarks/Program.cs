namespace Portal.Benchmarks;

/// <summary>One scenario per command; each prints its own figures. Add a case per new scenario.</summary>
public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        switch (args.FirstOrDefault())
        {
            case "import":
                return await ImportBenchmark.RunAsync().ConfigureAwait(false);
            case "alarms":
                return await AlarmBenchmark.RunAsync(args[1..]).ConfigureAwait(false);
            case "media":
                return await MediaBenchmark.RunAsync(args[1..]).ConfigureAwait(false);
            case "sip": // SIP intercom (issue 11)
                return await SipBenchmark.RunAsync(args[1..]).ConfigureAwait(false);
            case "report":
                return await ReportBenchmark.RunAsync(args.ElementAtOrDefault(1)).ConfigureAwait(false);
            default:
                Console.WriteLine("usage: Portal.Benchmarks <scenario>");
                Console.WriteLine("  import   registry import: 4,000 schools as CSV and XLSX into SQLite, then again");
                Console.WriteLine("  alarms [consoles=10] [rate=50] [seconds=10] [burst=1000]   device request -> console DOM latency, and a burst");
                Console.WriteLine("  " + MediaBenchmark.Usage + "   gate camera first frame in Chromium, 100 viewers of 4 Mbps, allocations per packet");
                Console.WriteLine("  " + SipBenchmark.Usage + "   digest registration storm (portal and Kamailio), press INVITE -> 180 latency");
                Console.WriteLine("  report [keep-folder]   city completion report for 4,000 schools, xlsx and PDF");
                return 1;
        }
    }
}
