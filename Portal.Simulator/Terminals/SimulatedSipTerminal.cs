using Portal.Media.Sip;
using Portal.Media.Sip.Calls;
using Portal.Media.Sip.Registrar;

namespace Portal.Simulator.Terminals;

/// <summary>
/// One simulated alarm terminal of a <see cref="SimulatedTerminalFleet"/>: its registration, its press (a call to
/// the alarm number that rings until an operator answers), and the media of its current call.
/// </summary>
public sealed class SimulatedSipTerminal : IAsyncDisposable
{
    private readonly SimulatedTerminalFleet _fleet;
    private readonly string _password;
    private readonly SipRegistrationClient _registration;
    private readonly Lock _sync = new();
    private TerminalMedia? _media;

    internal SimulatedSipTerminal(SimulatedTerminalFleet fleet, string account, string password)
    {
        _fleet = fleet;
        Account = account;
        _password = password;
        _registration = new SipRegistrationClient(fleet.Layer, fleet.Portal, fleet.Domain, account, password);
    }

    /// <summary>Raised when a call (a press answered by an operator, or a call-back) starts carrying media.</summary>
    public event Action<SimulatedSipTerminal, SipCall>? CallStarted;

    public string Account { get; }

    /// <summary>The current or last call.</summary>
    public SipCall? Call { get; private set; }

    /// <summary>The media of the current or last call: what was sent and received.</summary>
    public TerminalMedia? Media => _media;

    public Task<SipResponse> RegisterAsync(int expires, CancellationToken ct = default) => _registration.RegisterAsync(expires, ct);

    /// <summary>
    /// Presses the button: calls <paramref name="number"/> with digest credentials and rings until an operator answers
    /// (the result then holds the call, with media flowing) or the portal refuses, or <paramref name="ct"/> hangs up.
    /// </summary>
    public async Task<SipCallResult> PressAsync(string number = "110", CancellationToken ct = default)
    {
        var uri = new SipUri(_fleet.Portal.Address.Address.ToString(), number, _fleet.Portal.Address.Port);
        if (_fleet.Portal.Protocol == Portal.Media.Sip.Transport.SipTransportProtocol.Tcp)
        {
            uri.Parameters.Set("transport", "tcp");
        }

        var result = await _fleet.Agent.CallAsync(uri, _fleet.Portal, (Account, _password), onRinging: null, sendVideo: true, cancellationToken: ct).ConfigureAwait(false);
        if (result.Call is { } call)
        {
            Adopt(call);
        }

        return result;
    }

    /// <summary>Hangs up the current call, if any.</summary>
    public async Task HangUpAsync()
    {
        if (Call is { State: not SipCallState.Ended } call)
        {
            await call.HangUpAsync().ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await HangUpAsync().ConfigureAwait(false);
        if (_media is not null)
        {
            await _media.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Takes a call (ours, or the portal's call-back) and starts its media once it is up.</summary>
    internal void Adopt(SipCall call)
    {
        lock (_sync)
        {
            Call = call;
        }

        if (call.State == SipCallState.Active)
        {
            StartMedia(call);
            return;
        }

        call.StateChanged += c =>
        {
            if (c.State == SipCallState.Active)
            {
                StartMedia(c);
            }
        };
    }

    private void StartMedia(SipCall call)
    {
        TerminalMedia media;
        lock (_sync)
        {
            // Once per call (Adopt and the Active state may both start it). The check is on the media's own call: the
            // previous call's media must never stand in for a new one (a second call, e.g. the operator's call-back
            // after a press, neither sent the terminal's tone nor counted the operator's voice).
            if (!ReferenceEquals(Call, call) || _media is { Started: true } current && ReferenceEquals(current.Call, call))
            {
                return;
            }

            media = new TerminalMedia(call, _fleet.Time);
            _media = media;
        }

        media.Start();
        _ = call.Ended.ContinueWith(_ => media.DisposeAsync().AsTask(), TaskScheduler.Default);
        CallStarted?.Invoke(this, call);
    }
}
