using Portal.Core.Health;

namespace Portal.Intercom;

/// <summary>
/// The health checks' SIP OPTIONS probe (issue 12) on the intercom's user agent: a terminal without a fresh signal is
/// asked over its registration's flow. Without a running SIP stack the check relies on the terminals' signals alone.
/// </summary>
public sealed class SipOptionsProbe(IntercomService intercom) : ISipOptionsProbe
{
    public bool IsAvailable => intercom.IsRunning;

    public Task<ProbeResult> ProbeAsync(HealthTarget terminal, TimeSpan timeout, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(terminal);
        return string.IsNullOrEmpty(terminal.SipAccount)
            ? Task.FromResult(ProbeResult.NotSupported)
            : intercom.ProbeTerminalAsync(terminal.SipAccount, timeout, ct);
    }
}
