using Hangfire;
using Portal.Core.Audit;
using Portal.Core.Devices;
using Portal.Core.Health;
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

    public const string DeviceRefusalRetention = "device-refusal-retention";

    public const string SecurityLogRetention = "security-log-retention";

    private static readonly TimeZoneInfo CityTime = TimeZoneInfo.CreateCustomTimeZone("China Standard Time", TimeSpan.FromHours(8), "China Standard Time", "CST");

    public const string DeviceHealthCheck = "device-health-check";

    public const string HealthRetention = "device-health-retention";

    public static void Register(IRecurringJobManager jobs, HealthOptions health)
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

        // Issue #14, device door. Daily at night: refusal counts past 30 days, SecurityLog rows past 180 days.
        jobs.AddOrUpdate<DeviceRefusalRetentionJob>(DeviceRefusalRetention, x => x.RunAsync(CancellationToken.None), "20 3 * * *",
            new RecurringJobOptions { TimeZone = CityTime });
        jobs.AddOrUpdate<Portal.Core.Security.SecurityLogRetentionJob>(SecurityLogRetention, x => x.RunAsync(CancellationToken.None), "25 3 * * *",
            new RecurringJobOptions { TimeZone = CityTime });

        // Device health (issue 12): every minute one job checks every device (Portal:Health); nightly, old history goes.
        jobs.AddOrUpdate<DeviceHealthCheckJob>(DeviceHealthCheck, x => x.RunAsync(CancellationToken.None), health.Cron);
        jobs.AddOrUpdate<HealthRetentionJob>(HealthRetention, x => x.RunAsync(CancellationToken.None), "30 3 * * *",
            new RecurringJobOptions { TimeZone = CityTime });
    }
}
