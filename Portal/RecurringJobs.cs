using Hangfire;
using Portal.Core.Devices;
using Portal.Core.Audit;
using Portal.Core.Installation;
using Portal.SignIn;

namespace Portal;

/// <summary>
/// Every recurring job in one list, read in one screen (STYLE.md §4). Ids are constants so a restart updates
/// the same entries instead of adding new ones; schedules are in the city's time zone.
/// </summary>
public static class RecurringJobs
{
    public const string WeeklyCompletionReport = "installation-weekly-report";

    public const string DeviceNonceCleanup = "device-nonce-cleanup";

    public const string UserSessionCleanup = "user-session-cleanup";

    public const string CameraAuditRetention = "camera-audit-retention";

    private static readonly TimeZoneInfo CityTime = TimeZoneInfo.CreateCustomTimeZone("China Standard Time", TimeSpan.FromHours(8), "China Standard Time", "CST");

    public static void Register(IRecurringJobManager jobs)
    {
        // Monday 07:00, before the bureau's weekly meeting: the city report and one per district, xlsx and PDF.
        jobs.AddOrUpdate<WeeklyCompletionReportJob>(WeeklyCompletionReport, x => x.RunAsync(CancellationToken.None), "0 7 * * 1",
            new RecurringJobOptions { TimeZone = CityTime });

        // Every 10 minutes: forget device API nonces older than the replay window (they are stale anyway).
        jobs.AddOrUpdate<DeviceNonceCleanupJob>(DeviceNonceCleanup, x => x.RunAsync(CancellationToken.None), "*/10 * * * *");

        // Issue #14. Hourly: forget ended sign-in sessions. Daily 03:30: camera audit rows past their retention.
        jobs.AddOrUpdate<UserSessionCleanupJob>(UserSessionCleanup, x => x.RunAsync(CancellationToken.None), "17 * * * *");
        jobs.AddOrUpdate<CameraAuditRetentionJob>(CameraAuditRetention, x => x.RunAsync(CancellationToken.None), "30 3 * * *",
            new RecurringJobOptions { TimeZone = CityTime });
    }
}
