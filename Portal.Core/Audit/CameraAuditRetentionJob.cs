namespace Portal.Core.Audit;

/// <summary>Hangfire job: deletes camera audit rows older than the retention (README, "Camera audit"). Reentrant.</summary>
public sealed class CameraAuditRetentionJob(CameraAuditRepository audit, CameraAuditSettings settings, TimeProvider time)
{
    public Task<int> RunAsync(CancellationToken ct) => audit.DeleteOlderThanAsync(time.GetUtcNow().UtcDateTime - settings.Retention, ct);
}
