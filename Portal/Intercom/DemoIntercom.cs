using Microsoft.Extensions.Options;
using Portal.Core.Demo;
using Portal.Core.Devices;
using Portal.Core.Security;
using Portal.Simulator.Terminals;

namespace Portal.Intercom;

/// <summary>
/// Demo mode's talking terminals: simulated SIP terminals (real SIP and RTP on 127.0.0.1) register the first demo
/// schools' accounts at start, and an administrator's "press over SIP" on a school page makes that school's terminal
/// call the alarm number, with a tone and the gate clip for the operator to hear and see.
/// </summary>
public sealed class DemoIntercom(IOptions<PortalOptions> options, IntercomService intercom, DeviceService devices,
    ILoggerFactory loggerFactory, TimeProvider time) : IHostedService, IAsyncDisposable
{
    private const int Expires = 600;

    private readonly ILogger<DemoIntercom> _logger = loggerFactory.CreateLogger<DemoIntercom>();
    private readonly CancellationTokenSource _stopping = new();
    private SimulatedTerminalFleet? _fleet;
    private Task _loop = Task.CompletedTask;

    /// <summary>The simulated terminals (null outside demo mode); for diagnostics and tests.</summary>
    public SimulatedTerminalFleet? Fleet => _fleet;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (options.Value.DemoMode && intercom.UdpEndPoint is { } portal)
        {
            _fleet = SimulatedTerminalFleet.Start(portal, loggerFactory, time);
            _loop = KeepRegisteredAsync(_stopping.Token);
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => DisposeAsync().AsTask();

    /// <summary>Makes the school's demo terminal press over SIP (administrators only). False when it has no demo terminal.</summary>
    public async Task<bool> PressAsync(UserScope scope, int deviceId, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(scope);
        scope.Require(Roles.Admin);
        var device = await devices.GetAsync(scope, deviceId, ct).ConfigureAwait(false);
        if (_fleet is null || device is not { Kind: DeviceKind.AlarmTerminal, SipAccount: { } account })
        {
            return false;
        }

        var terminal = _fleet.Get(account, DemoCity.DemoSipPassword(account));
        if ((await terminal.RegisterAsync(Expires, ct).ConfigureAwait(false)).StatusCode != Media.Sip.SipStatus.Ok)
        {
            return false;
        }

        _ = RingAsync(terminal);
        return true;
    }

    public async ValueTask DisposeAsync()
    {
        if (_stopping.IsCancellationRequested)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
        if (_fleet is not null)
        {
            await _fleet.DisposeAsync().ConfigureAwait(false);
        }

        _stopping.Dispose();
    }

    private async Task RingAsync(SimulatedSipTerminal terminal)
    {
        try
        {
            var result = await terminal.PressAsync(intercom.AlarmNumber, _stopping.Token).ConfigureAwait(false);
            _logger.LogInformation("Demo terminal {Account} pressed: {Status} {Reason}", terminal.Account, result.Status, result.Reason);
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Registers the first demo terminals (paced: they share one address) and refreshes them before they lapse.</summary>
    private async Task KeepRegisteredAsync(CancellationToken ct)
    {
        try
        {
            // The first schools of the demo city in the registry's order (district, school code): 3370000000 onward.
            var count = Math.Clamp(options.Value.Sip.DemoTerminals, 0, Core.Data.PageRequest.MaxTake);
            var page = count == 0 ? null
                : await devices.GetPageAsync(UserScope.System, new DeviceQuery(Kind: DeviceKind.AlarmTerminal), new Core.Data.PageRequest(0, count), ct).ConfigureAwait(false);
            var terminals = (page?.Items ?? []).Where(d => d.SipAccount is not null)
                .Select(d => _fleet!.Get(d.SipAccount!, DemoCity.DemoSipPassword(d.SipAccount!))).ToList();
            while (!ct.IsCancellationRequested)
            {
                var registered = await _fleet!.RegisterAllAsync(terminals, Expires, perSecond: 20, ct).ConfigureAwait(false);
                _logger.LogInformation("Demo terminals registered: {Registered} of {Count}", registered, terminals.Count);
                await Task.Delay(TimeSpan.FromSeconds(Expires / 2), time, ct).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception ex) when (ex is System.Data.Common.DbException or InvalidOperationException)
        {
            _logger.LogError(ex, "Demo terminals could not register");
        }
    }
}
