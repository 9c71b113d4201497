namespace Portal.Core.Devices;

/// <summary>Hangfire job: forgets spent device API nonces once they are older than the replay window. Reentrant.</summary>
public sealed class DeviceNonceCleanupJob(DeviceRequestVerifier verifier)
{
    public Task RunAsync(CancellationToken ct) => verifier.PruneNoncesAsync(ct);
}
