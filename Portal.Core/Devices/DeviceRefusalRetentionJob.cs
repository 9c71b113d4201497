namespace Portal.Core.Devices;

/// <summary>Hangfire job: forgets refusal counts older than <see cref="DeviceRefusalCounter.Retention"/>. Reentrant.</summary>
public sealed class DeviceRefusalRetentionJob(DeviceRefusalCounter counter)
{
    public Task RunAsync(CancellationToken ct) => counter.PruneAsync(ct);
}
