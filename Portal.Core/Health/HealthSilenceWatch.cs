using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Portal.Core.Health;

/// <summary>
/// Runs <see cref="HealthMonitor.CheckSilenceAsync"/> every <see cref="HealthOptions.SilenceCheckSeconds"/> (5 s), apart
/// from the per-minute cycle: a terminal judged by its heartbeats is offline within that tick of its deadline (last
/// signal + 170 s), also when its deadline falls between two cycles, during a long one, or in a minute whose job run
/// Hangfire dropped because the previous cycle still held the lock.
/// </summary>
public sealed class HealthSilenceWatch(HealthMonitor monitor, IOptions<HealthOptions> options, TimeProvider time, ILogger<HealthSilenceWatch> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.Enabled)
        {
            return;
        }

        using var timer = new PeriodicTimer(options.Value.SilenceCheck, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                try
                {
                    await monitor.CheckSilenceAsync(stoppingToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is System.Data.Common.DbException or InvalidOperationException)
                {
                    // The next tick tries again; the terminal is still silent then.
                    logger.LogError(ex, "Could not check terminals' silence");
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
