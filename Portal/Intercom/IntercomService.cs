using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using Microsoft.Extensions.Options;
using Portal.Core.Alarms;
using Portal.Core.Devices;
using Portal.Core.Security;
using Portal.Core.Threading;
using Portal.Media.Sip;
using Portal.Media.Sip.Auth;
using Portal.Media.Sip.Calls;
using Portal.Media.Sip.Registrar;
using Portal.Media.Sip.Transport;
using Portal.Services;

namespace Portal.Intercom;

/// <summary>
/// The SIP intercom (issue 11): terminals register and call the alarm number here, and operators answer, talk and
/// call back from the browser. This class only translates: accounts and alarms go through Core's one device entry
/// point (<see cref="DeviceIntake"/>), the protocol is Portal.Media's, the browser leg is the gate camera's WebRTC endpoint.
/// </summary>
/// <remarks>
/// <code>
/// REGISTER --digest against DeviceIntake.GetSipCredentialAsync--> binding; freshness to DeviceIntake.SipRegisteredAsync (queued)
/// INVITE 110 --100, digest (407)--> DeviceIntake.RaiseFromSipAsync (alarm committed) --> 180 --> rings until the operator
///            who answered the alarm connects from the pop-up --> 200 --> media bridged to the browser
/// </code>
/// Credentials are cached by <see cref="DeviceIntake.GetSipCredentialAsync"/> until a credential changes (a registration
/// storm reads each account once; a revoked password is refused on the next REGISTER); SIP
/// refusals are counted per minute, source and reason with the device API's refusals (DeviceRefusalCounter, no I/O on
/// the SIP path and no row per refusal: issue 14), never with a password.
/// </remarks>
public sealed partial class IntercomService(
    IOptions<PortalOptions> options,
    DeviceIntake intake,
    DeviceService devices,
    AlarmService alarms,
    AlarmNotifier notifier,
    DeviceRefusalCounter refusals,
    GateCameraService cameras,
    ILoggerFactory loggerFactory,
    TimeProvider time) : IHostedService, IAsyncDisposable, ISipAccountDirectory
{
    private readonly ILogger<IntercomService> _logger = loggerFactory.CreateLogger<IntercomService>();
    private readonly DeviceSipAccountDirectory _accounts = new(intake);
    private readonly ConcurrentDictionary<int, IntercomCall> _calls = new();
    private readonly ConcurrentDictionary<int, long> _lastFreshness = new();
    private readonly Channel<int> _registered = Channel.CreateBounded<int>(new BoundedChannelOptions(20_000) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _subscribersLock = new();
    private Action<IntercomView>[] _subscribers = [];
    private SipTransactionLayer? _layer;
    private SipRegistrar? _registrar;
    private SipUserAgent? _agent;
    private IDisposable? _alarmSubscription;
    private Task _background = Task.CompletedTask;

    private SipSettings Settings => options.Value.Sip;

    /// <summary>True once SIP listens (false when disabled or its port was taken).</summary>
    public bool IsRunning => _agent is not null;

    /// <summary>The SIP UDP endpoint (for demo terminals and tests); null when not running.</summary>
    public SipEndPoint? UdpEndPoint => _layer?.FindTransport(SipTransportProtocol.Udp) is { } udp
        ? new SipEndPoint(SipTransportProtocol.Udp, LocalTarget(udp.LocalEndPoint)) : null;

    public SipEndPoint? TcpEndPoint => _layer?.FindTransport(SipTransportProtocol.Tcp) is { } tcp
        ? new SipEndPoint(SipTransportProtocol.Tcp, LocalTarget(tcp.LocalEndPoint)) : null;

    public string AlarmNumber => Settings.AlarmNumber;

    /// <summary>Bindings of the registrar (for diagnostics and the call-back button).</summary>
    internal SipBindingTable? Bindings => _registrar?.Bindings;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (!Settings.Enabled)
        {
            _logger.LogInformation("SIP intercom disabled (Portal:Sip:Enabled=false)");
            return Task.CompletedTask;
        }

        var bind = IPAddress.TryParse(Settings.BindAddress, out var address) ? address : IPAddress.Any;
        var port = Settings.Port == 0 ? FreePort(bind) : Settings.Port;
        var advertised = IPAddress.TryParse(Settings.AdvertisedAddress, out var announced) ? announced : null;
        var layer = new SipTransactionLayer(
            new SipOptions
            {
                AdvertisedAddress = advertised,
                MaxRequestsPerSourcePerSecond = Settings.MaxRequestsPerSourcePerSecond,
                SourceBurst = Settings.SourceBurst,
            },
            loggerFactory,
            time);
        try
        {
            var udpLogger = loggerFactory.CreateLogger<SipUdpTransport>();
            layer.AddTransport(new SipUdpTransport(new IPEndPoint(bind, port), udpLogger) { ReceiveThreadStarted = () => OsThreadPriority.ApplyAlarmPath(udpLogger) });
            layer.AddTransport(new SipStreamTransport(new IPEndPoint(bind, port), new SipStreamTransportOptions(), loggerFactory.CreateLogger<SipStreamTransport>(), time));
            var algorithms = Settings.DigestAlgorithms.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var digest = new SipDigestAuthenticator(Settings.Realm, algorithms, TimeSpan.FromMinutes(5), time);
            var throttle = new SipAuthThrottle(new SipAuthThrottleOptions { MaxFailuresPerSource = Settings.MaxFailuresPerSource, MaxFailuresPerAccount = Settings.MaxFailuresPerAccount }, time);
            var authenticator = new SipAuthenticator(this, digest, throttle, loggerFactory.CreateLogger<SipAuthenticator>());
            authenticator.Failed += failure => refusals.Count(failure.Source.ToString(), "Sip" + failure.Reason);
            _registrar = new SipRegistrar(new SipRegistrarOptions { MinExpires = Settings.MinExpires, MaxExpires = Settings.MaxExpires }, authenticator, new SipBindingTable(), time, loggerFactory.CreateLogger<SipRegistrar>());
            _registrar.Changed += OnRegistrationChanged;
            _agent = new SipUserAgent(layer,
                new SipUserAgentOptions
                {
                    RtpBindAddress = bind,
                    RtpAdvertisedAddress = advertised,
                    RtpPortMin = Settings.RtpPortMin,
                    RtpPortMax = Settings.RtpPortMax,
                    MaxRingTime = TimeSpan.FromSeconds(Settings.MaxRingSeconds),
                },
                authenticator,
                _registrar,
                loggerFactory.CreateLogger<SipUserAgent>())
            {
                IncomingCall = OnIncomingCallAsync,
            };

            layer.Start();
            _layer = layer;
        }
        catch (Exception ex) when (ex is SocketException or ArgumentException)
        {
            _logger.LogError(ex, "SIP intercom could not start on {Address}:{Port}; terminals cannot register or call", bind, Settings.Port);
            _agent = null;
            _registrar = null;
            layer.DisposeAsync().AsTask().GetAwaiter().GetResult();
            return Task.CompletedTask;
        }

        _alarmSubscription = notifier.Subscribe(UserScope.System, OnAlarmChangedAsync);
        _background = Task.WhenAll(WriteFreshnessAsync(_stopping.Token), SweepAsync(_stopping.Token));
        _logger.LogInformation("SIP intercom on UDP/TCP {EndPoint}, alarm number {Number}", UdpEndPoint, Settings.AlarmNumber);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => DisposeAsync().AsTask();

    public async ValueTask DisposeAsync()
    {
        if (_stopping.IsCancellationRequested)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        _alarmSubscription?.Dispose();
        foreach (var call in _calls.Values)
        {
            await EndAsync(call, hangUp: true).ConfigureAwait(false);
        }

        if (_agent is not null)
        {
            await _agent.DisposeAsync().ConfigureAwait(false);
        }

        if (_layer is not null)
        {
            await _layer.DisposeAsync().ConfigureAwait(false);
        }

        await _background.ConfigureAwait(false);
        _stopping.Dispose();
    }

    /// <summary>The terminal's SIP account as the registrar checks it: from the device registry (DeviceIntake caches it until it changes).</summary>
    public ValueTask<SipAccount?> FindAsync(string username, CancellationToken cancellationToken) => _accounts.FindAsync(username, cancellationToken);

    /// <summary>Delivers every change of a terminal's intercom to <paramref name="onChange"/> until disposed (consoles filter by their own scope).</summary>
    public IDisposable Subscribe(Action<IntercomView> onChange)
    {
        lock (_subscribersLock)
        {
            _subscribers = [.. _subscribers, onChange];
        }

        return new Unsubscriber(this, onChange);
    }

    /// <summary>The press: authenticated by the user agent (407); the alarm is committed before anything else is promised.</summary>
    private async Task<SipCallDecision> OnIncomingCallAsync(SipCall call, CancellationToken ct)
    {
        if (!string.Equals(call.CalledUser, Settings.AlarmNumber, StringComparison.Ordinal))
        {
            return SipCallDecision.Refuse(SipStatus.NotFound);
        }

        var deviceId = call.Account!.DeviceId;
        DeviceAnswer answer;
        try
        {
            answer = await intake.RaiseFromSipAsync(deviceId, call.RemoteAddress.Address.ToString(), CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is System.Data.Common.DbException or InvalidOperationException)
        {
            _logger.LogError(ex, "Alarm from SIP terminal {DeviceId} could not be committed", deviceId);
            return SipCallDecision.Refuse(SipStatus.ServerInternalError);
        }

        if (!answer.Accepted)
        {
            return SipCallDecision.Refuse(answer.Refusal == DeviceRefusal.NoCentre ? SipStatus.ServiceUnavailable : SipStatus.Forbidden);
        }

        var intercom = new IntercomCall(deviceId, answer.AlarmId, IntercomPhase.Ringing, time.GetUtcNow()) { Sip = call };
        if (!_calls.TryAdd(deviceId, intercom))
        {
            // The terminal pressed again while its call is still up: the press joined the alarm; the line is busy.
            return SipCallDecision.Refuse(SipStatus.BusyHere);
        }

        _ = call.Ended.ContinueWith(_ => EndAsync(intercom, hangUp: false), CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
        _logger.LogInformation("Terminal {DeviceId} calls for alarm {AlarmId} (joined: {Joined})", deviceId, answer.AlarmId, answer.Joined);
        Publish(intercom);
        return SipCallDecision.Ring;
    }

    /// <summary>
    /// The health check's question (issue 12): does the terminal registered as <paramref name="account"/> answer an
    /// OPTIONS over its registration's flow? Not registered, or no answer within <paramref name="timeout"/>: failed.
    /// </summary>
    public async Task<Portal.Core.Health.ProbeResult> ProbeTerminalAsync(string account, TimeSpan timeout, CancellationToken ct)
    {
        if (_agent is not { } agent || _registrar is not { } registrar)
        {
            return Portal.Core.Health.ProbeResult.NotSupported;
        }

        var bindings = registrar.Bindings.Get(account, time.GetUtcNow());
        if (bindings.Count == 0)
        {
            return new(Portal.Core.Health.ProbeVerdict.Failed, "not registered");
        }

        var binding = bindings[^1];
        var answer = await agent.PingAsync(binding.Contact, binding.Flow, timeout, ct).ConfigureAwait(false);
        return answer is null
            ? new(Portal.Core.Health.ProbeVerdict.Failed, "no answer to SIP OPTIONS")
            : new(Portal.Core.Health.ProbeVerdict.Ok, "SIP OPTIONS " + answer.StatusCode.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>
    /// Registration freshness: at most one sighting per device per 5 s, written by DevicePresence in batches. Told on the
    /// SIP receive thread: recorded there from the credential cache's row (in memory, no thread hop); only a device whose
    /// row is not cached goes to the queue that reads it.
    /// </summary>
    private void OnRegistrationChanged(SipRegistrationChange change)
    {
        if (change.Bindings.Count == 0)
        {
            return;
        }

        var deviceId = change.DeviceId;
        var now = time.GetTimestamp();
        if (_lastFreshness.TryGetValue(deviceId, out var last) && time.GetElapsedTime(last, now) < DevicePresence.FlushInterval)
        {
            return;
        }

        _lastFreshness[deviceId] = now;
        if (!intake.TrySipRegistered(deviceId))
        {
            _registered.Writer.TryWrite(deviceId);
        }
    }

    /// <summary>The registrations whose device row was not cached: read and recorded here, off the receive thread.</summary>
    private async Task WriteFreshnessAsync(CancellationToken ct)
    {
        try
        {
            await foreach (var deviceId in _registered.Reader.ReadAllAsync(ct).ConfigureAwait(false))
            {
                try
                {
                    await intake.SipRegisteredAsync(deviceId, ct).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is System.Data.Common.DbException or InvalidOperationException)
                {
                    _logger.LogWarning(ex, "Registration of terminal {DeviceId} not recorded", deviceId);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task SweepAsync(CancellationToken ct)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(15), time);
        try
        {
            while (await timer.WaitForNextTickAsync(ct).ConfigureAwait(false))
            {
                _registrar?.RemoveExpired();
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>An alarm closed while its terminal still rings: the call ends too (603); the talk is over with the alarm.</summary>
    private async Task OnAlarmChangedAsync(AlarmChange change)
    {
        if (change.Kind == AlarmEventKind.Closed && change.Alarm.DeviceId is { } deviceId
            && _calls.TryGetValue(deviceId, out var call) && call.AlarmId == change.Alarm.Id && call.Phase == IntercomPhase.Ringing)
        {
            await EndAsync(call, hangUp: true).ConfigureAwait(false);
        }
    }

    private void Publish(IntercomCall call) => Publish(call.View());

    private void Publish(IntercomView view)
    {
        foreach (var subscriber in Volatile.Read(ref _subscribers))
        {
            try
            {
                subscriber(view);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                _logger.LogError(ex, "Intercom subscriber failed");
            }
        }
    }

    /// <summary>A port free for both UDP and TCP (Port = 0 in tests): SIP serves both on one number.</summary>
    private static int FreePort(IPAddress bind)
    {
        for (var attempt = 0; ; attempt++)
        {
            using var udp = new Socket(bind.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
            udp.Bind(new IPEndPoint(bind, 0));
            var port = ((IPEndPoint)udp.LocalEndPoint!).Port;
            using var tcp = new Socket(bind.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                tcp.Bind(new IPEndPoint(bind, port));
                return port;
            }
            catch (SocketException) when (attempt < 20)
            {
            }
        }
    }

    private static IPEndPoint LocalTarget(IPEndPoint bound) =>
        bound.Address.Equals(IPAddress.Any) || bound.Address.Equals(IPAddress.IPv6Any) ? new IPEndPoint(IPAddress.Loopback, bound.Port) : bound;

    private sealed class Unsubscriber(IntercomService owner, Action<IntercomView> onChange) : IDisposable
    {
        public void Dispose()
        {
            lock (owner._subscribersLock)
            {
                owner._subscribers = [.. owner._subscribers.Where(s => s != onChange)];
            }
        }
    }
}
