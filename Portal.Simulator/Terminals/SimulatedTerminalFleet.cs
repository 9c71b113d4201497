using System.Collections.Concurrent;
using System.Net;
using Microsoft.Extensions.Logging;
using Portal.Media.Sip;
using Portal.Media.Sip.Calls;
using Portal.Media.Sip.Transport;

namespace Portal.Simulator.Terminals;

/// <summary>
/// Simulated SIP alarm terminals sharing one SIP element on 127.0.0.1 (one UDP and one TCP port): each registers
/// with its own digest account, presses (INVITE to the alarm number), sends a tone and the gate clip, and answers
/// the portal's call-backs, which reach it by its Contact's user part.
/// </summary>
/// <remarks>
/// One element for hundreds of terminals keeps demo mode light; the portal sees one source address for all of
/// them, so registrations are paced (<see cref="RegisterAllAsync"/>) to stay under its per-source rate limit.
/// </remarks>
public sealed class SimulatedTerminalFleet : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, SimulatedSipTerminal> _terminals = new(StringComparer.Ordinal);

    private SimulatedTerminalFleet(SipTransactionLayer layer, SipUserAgent agent, SipEndPoint portal, string domain, ILoggerFactory loggerFactory, TimeProvider time)
    {
        Layer = layer;
        Agent = agent;
        Portal = portal;
        Domain = domain;
        LoggerFactory = loggerFactory;
        Time = time;
        agent.IncomingCall = OnCallBackAsync;
    }

    public SipTransactionLayer Layer { get; }

    public SipUserAgent Agent { get; }

    /// <summary>The portal's SIP address the terminals register with and call.</summary>
    public SipEndPoint Portal { get; }

    public string Domain { get; }

    public ILoggerFactory LoggerFactory { get; }

    public TimeProvider Time { get; }

    public IReadOnlyCollection<SimulatedSipTerminal> Terminals => _terminals.Values.ToList();

    /// <summary>Starts the fleet's SIP element on 127.0.0.1 free ports, talking to the portal at <paramref name="portal"/>.</summary>
    public static SimulatedTerminalFleet Start(SipEndPoint portal, ILoggerFactory loggerFactory, TimeProvider? time = null, string domain = "portal")
    {
        ArgumentNullException.ThrowIfNull(loggerFactory);
        time ??= TimeProvider.System;
        var layer = new SipTransactionLayer(new SipOptions { Product = "SimulatedAlarmTerminal/1.0", MaxRequestsPerSourcePerSecond = 0 }, loggerFactory, time);
        layer.AddTransport(new SipUdpTransport(new IPEndPoint(IPAddress.Loopback, 0), loggerFactory.CreateLogger<SipUdpTransport>()));
        layer.AddTransport(new SipStreamTransport(new IPEndPoint(IPAddress.Loopback, 0), new SipStreamTransportOptions(), loggerFactory.CreateLogger<SipStreamTransport>(), time));
        var agent = new SipUserAgent(layer, new SipUserAgentOptions { RtpBindAddress = IPAddress.Loopback, RtpPortMin = 0, RtpPortMax = 0, AuthenticateIncoming = false, SendsVideo = true },
            null, null, loggerFactory.CreateLogger<SipUserAgent>());
        layer.Start();
        return new SimulatedTerminalFleet(layer, agent, portal, domain, loggerFactory, time);
    }

    /// <summary>The terminal with this SIP account (created on first use).</summary>
    public SimulatedSipTerminal Get(string account, string password) => _terminals.GetOrAdd(account, a => new SimulatedSipTerminal(this, a, password));

    /// <summary>Registers every terminal, <paramref name="perSecond"/> at a time; returns how many got 200.</summary>
    public async Task<int> RegisterAllAsync(IEnumerable<SimulatedSipTerminal> terminals, int expires, double perSecond, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(terminals);
        var registered = 0;
        var tasks = new List<Task<SipResponse>>();
        var started = Time.GetTimestamp();
        var i = 0;
        foreach (var terminal in terminals)
        {
            var due = TimeSpan.FromSeconds(i++ / perSecond);
            var elapsed = Time.GetElapsedTime(started);
            if (due > elapsed)
            {
                await Task.Delay(due - elapsed, Time, ct).ConfigureAwait(false);
            }

            tasks.Add(terminal.RegisterAsync(expires, ct));
        }

        foreach (var task in tasks)
        {
            registered += (await task.ConfigureAwait(false)).StatusCode == SipStatus.Ok ? 1 : 0;
        }

        return registered;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var terminal in _terminals.Values)
        {
            await terminal.DisposeAsync().ConfigureAwait(false);
        }

        await Agent.DisposeAsync().ConfigureAwait(false);
        await Layer.DisposeAsync().ConfigureAwait(false);
    }

    private Task<SipCallDecision> OnCallBackAsync(SipCall call, CancellationToken ct)
    {
        if (!_terminals.TryGetValue(call.CalledUser, out var terminal))
        {
            return Task.FromResult(SipCallDecision.Refuse(SipStatus.NotFound));
        }

        terminal.Adopt(call);
        return Task.FromResult(SipCallDecision.AnswerNow);
    }
}
