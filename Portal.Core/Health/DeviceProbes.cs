namespace Portal.Core.Health;

public enum ProbeVerdict
{
    /// <summary>Answered and works.</summary>
    Ok,

    /// <summary>Answered, but something is wrong (ONVIF down, credentials refused, no video, an error status).</summary>
    Degraded,

    /// <summary>No usable answer: unreachable, refused, time-out, broken off mid-message.</summary>
    Failed,

    /// <summary>This probe cannot judge the device (no address, no SIP user agent): the check relies on other signals.</summary>
    Unsupported,
}

public sealed record ProbeResult(ProbeVerdict Verdict, string Detail)
{
    public static readonly ProbeResult NotSupported = new(ProbeVerdict.Unsupported, "not probed");
}

/// <summary>Probes a gate camera (RTSP OPTIONS/DESCRIBE with its credentials, then ONVIF). Never throws for device trouble.</summary>
public interface ICameraProbe
{
    Task<ProbeResult> ProbeAsync(HealthTarget camera, TimeSpan timeout, CancellationToken ct);
}

/// <summary>
/// Probes an alarm terminal by SIP OPTIONS (RFC 3261 §11), for terminals without a fresh signal (registration or
/// heartbeat). The seam the SIP user agent implements; until one is wired, <see cref="NoSipOptionsProbe"/> says it
/// cannot judge, and terminals are judged by their signals alone.
/// </summary>
public interface ISipOptionsProbe
{
    /// <summary>False when no SIP user agent is running (the check then skips the probe).</summary>
    bool IsAvailable { get; }

    Task<ProbeResult> ProbeAsync(HealthTarget terminal, TimeSpan timeout, CancellationToken ct);
}

/// <summary>No SIP user agent: terminals are judged by their pushed signals only.</summary>
public sealed class NoSipOptionsProbe : ISipOptionsProbe
{
    public bool IsAvailable => false;

    public Task<ProbeResult> ProbeAsync(HealthTarget terminal, TimeSpan timeout, CancellationToken ct) => Task.FromResult(ProbeResult.NotSupported);
}
