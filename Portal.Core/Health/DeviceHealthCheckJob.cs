using Hangfire;

namespace Portal.Core.Health;

/// <summary>
/// The recurring health check (Portal/RecurringJobs.cs): one Hangfire job per interval that runs one cycle over
/// every device, never one job per device. Reentrant: a retry runs a fresh cycle, and the state it compares with is
/// in the database. Two instances never overlap (the lock lives in Hangfire's storage).
/// </summary>
public sealed class DeviceHealthCheckJob(HealthMonitor monitor)
{
    [DisableConcurrentExecution(timeoutInSeconds: 5)]
    [AutomaticRetry(Attempts = 0, OnAttemptsExceeded = AttemptsExceededAction.Delete)]
    public async Task RunAsync(CancellationToken ct)
    {
        if (!monitor.Options.Enabled)
        {
            return;
        }

        await monitor.RunCycleAsync(ct).ConfigureAwait(false);
    }
}
