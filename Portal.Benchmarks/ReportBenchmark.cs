using System.Diagnostics;
using Microsoft.AspNetCore.DataProtection;
using Portal.Core.Data;
using Portal.Core.Demo;
using Portal.Core.Devices;
using Portal.Core.Installation;
using Portal.Core.Security;

namespace Portal.Benchmarks;

/// <summary>
/// The city completion report at city scale: 4,000 schools (demo programme), built as xlsx and as PDF from
/// the same snapshot the dashboards use. Each is built several times; the figures are the first (cold) run
/// and the median of the warm ones. Pass a folder to keep the last files.
/// </summary>
internal static class ReportBenchmark
{
    private const int Schools = 4000;
    private const int Runs = 5;

    public static async Task<int> RunAsync(string? keepFolder)
    {
        var folder = Directory.CreateTempSubdirectory("portal-report-bench-");
        try
        {
            var db = new Db(Db.SqliteConnectionString(Path.Combine(folder.FullName, "portal.db")), SqlDialect.Sqlite);
            DbMigrator.Migrate(db);
            var seed = Stopwatch.StartNew();
            await new DemoCity(db, new DeviceSecrets(new EphemeralDataProtectionProvider()), TimeProvider.System).SeedAsync(Schools).ConfigureAwait(false);
            Console.WriteLine($"report: seeded {Schools:N0} schools with their programme in {seed.Elapsed.TotalSeconds:0.0} s");

            var queries = new ProgrammeQueries(db, TimeProvider.System);
            var reports = new CompletionReportService(db, queries, new InstallationFiles(folder.FullName), TimeProvider.System);
            var snapshotTimes = new List<double>();
            for (var i = 0; i < Runs; i++)
            {
                var watch = Stopwatch.StartNew();
                var snapshot = await queries.GetSnapshotAsync(UserScope.System).ConfigureAwait(false);
                snapshotTimes.Add(watch.Elapsed.TotalMilliseconds);
                if (i == 0)
                {
                    Console.WriteLine($"report: snapshot {snapshot.Total.Schools:N0} schools, {snapshot.Total.Done:N0} done, {snapshot.Unfinished.Count():N0} unfinished, {snapshot.Total.Overdue:N0} overdue");
                }
            }

            Console.WriteLine($"report: snapshot query   first {snapshotTimes[0],7:0} ms   median {Median(snapshotTimes),7:0} ms");
            var failed = false;
            foreach (var format in Enum.GetValues<ReportFormat>())
            {
                var times = new List<double>();
                long size = 0;
                var path = Path.Combine(keepFolder ?? folder.FullName, "city-report." + format.ToString().ToLowerInvariant());
                for (var i = 0; i < Runs; i++)
                {
                    var watch = Stopwatch.StartNew();
                    await using (var file = File.Create(path))
                    {
                        await reports.WriteAsync(UserScope.System, null, format, file).ConfigureAwait(false);
                    }

                    times.Add(watch.Elapsed.TotalMilliseconds);
                    size = new FileInfo(path).Length;
                }

                var ok = times[0] < 3000 && Median(times) < 3000;
                failed |= !ok;
                Console.WriteLine($"report: city {format,-4}        first {times[0],7:0} ms   median {Median(times),7:0} ms   {size / 1024,6:N0} KiB   {(ok ? "under 3 s" : "OVER 3 s")}");
            }

            return failed ? 1 : 0;
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            folder.Delete(recursive: true);
        }
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Skip(1).Order().ToList();
        return sorted.Count == 0 ? values[0] : sorted[sorted.Count / 2];
    }
}
