using Hangfire;

namespace Portal.Core.Health;

/// <summary>
/// The recurring health check (Portal/RecurringJobs.cs): one Hangfire job per minute that runs one cycle over every
/// device (or, for an interval shorter than a minute, that many cycles one interval apart), never one job per device. Reentrant: a retry runs a fresh cycle, and the state it compares with is
/// in the database. Two instances never overlap (the lock lives in Hangfire's storage).
/// </summary>
public sealed class DeviceHealthCheckJob(HealthMonitor monitor, TimeProvider time)
{
    [DisableConcurrentExecution(timeoutInSeconds: 5)]
    [AutomaticRetry(Attempts = 0, OnAttemptsExceeded = AttemptsExceededAction.Delete)]
    public async Task RunAsync(CancellationToken ct)
    {
        if (!monitor.Options.Enabled)
        {
            return;
        }

        var options = monitor.Options;
        var start = time.GetTimestamp();
        for (var i = 0; i < options.CyclesPerRun; i++)
        {
            var wait = (options.Interval * i) - time.GetElapsedTime(start);
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, time, ct).ConfigureAwait(false);
            }

            await monitor.RunCycleAsync(ct).ConfigureAwait(false);
        }
    }
}
