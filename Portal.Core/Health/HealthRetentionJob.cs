using Microsoft.Extensions.Options;
using Portal.Core.Notifications;

namespace Portal.Core.Health;

/// <summary>Daily: deletes health transitions, check runs and notifications older than <see cref="HealthOptions.RetentionDays"/>.</summary>
public sealed class HealthRetentionJob(HealthRepository health, NotificationRepository notifications, IOptions<HealthOptions> options, TimeProvider time)
{
    public async Task RunAsync(CancellationToken ct)
    {
        var before = time.GetUtcNow().UtcDateTime - TimeSpan.FromDays(Math.Max(1, options.Value.RetentionDays));
        await health.DeleteOlderThanAsync(before, ct).ConfigureAwait(false);
        await notifications.DeleteOlderThanAsync(before, ct).ConfigureAwait(false);
    }
}
