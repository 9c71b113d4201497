using System.Collections.Concurrent;
using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Portal.Media.Sip;
using Portal.Media.Sip.Auth;
using Portal.Media.Sip.Calls;
using Portal.Media.Sip.Registrar;
using Portal.Media.Sip.Transport;

namespace Portal.Tests.Media.Sip;

/// <summary>A whole SIP element on 127.0.0.1 free ports (UDP and TCP): transaction layer, digest, throttle, registrar, UA.</summary>
/// <remarks>
/// The portal side in these tests; with <c>authenticateIncoming: false</c> it also plays a terminal that answers
/// the portal's call-backs. Accounts live in <see cref="Accounts"/> (the application's directory in the portal).
/// </remarks>
internal sealed class SipTestNode : IAsyncDisposable, ISipAccountDirectory
{
    private SipTestNode(SipOptions options, TimeProvider time, bool authenticateIncoming, IReadOnlyList<string> algorithms, SipAuthThrottleOptions? throttle, SipRegistrarOptions? registrar)
    {
        Time = time;
        Layer = new SipTransactionLayer(options, NullLoggerFactory.Instance, time);
        Udp = new SipUdpTransport(new IPEndPoint(IPAddress.Loopback, 0), NullLogger<SipUdpTransport>.Instance);
        Tcp = new SipStreamTransport(new IPEndPoint(IPAddress.Loopback, 0), new SipStreamTransportOptions(), NullLogger<SipStreamTransport>.Instance, time);
        Layer.AddTransport(Udp);
        Layer.AddTransport(Tcp);
        Digest = new SipDigestAuthenticator("portal.test", algorithms, TimeSpan.FromMinutes(5), time);
        Throttle = new SipAuthThrottle(throttle ?? new SipAuthThrottleOptions(), time);
        Authenticator = new SipAuthenticator(this, Digest, Throttle, NullLogger<SipAuthenticator>.Instance);
        Authenticator.Failed += f => Failures.Enqueue(f);
        Registrar = new SipRegistrar(registrar ?? new SipRegistrarOptions(), Authenticator, new SipBindingTable(), time, NullLogger<SipRegistrar>.Instance);
        Registrar.Changed += c => Changes.Enqueue(c);
        Agent = new SipUserAgent(Layer, new SipUserAgentOptions { RtpBindAddress = IPAddress.Loopback, RtpPortMin = 0, RtpPortMax = 0, AuthenticateIncoming = authenticateIncoming },
            authenticateIncoming ? Authenticator : null, Registrar, NullLogger<SipUserAgent>.Instance);
        Layer.Start();
    }

    public TimeProvider Time { get; }

    public SipTransactionLayer Layer { get; }

    public SipUdpTransport Udp { get; }

    public SipStreamTransport Tcp { get; }

    public SipDigestAuthenticator Digest { get; }

    public SipAuthThrottle Throttle { get; }

    public SipAuthenticator Authenticator { get; }

    public SipRegistrar Registrar { get; }

    public SipUserAgent Agent { get; }

    public ConcurrentDictionary<string, SipAccount> Accounts { get; } = new(StringComparer.Ordinal);

    public ConcurrentQueue<SipAuthFailure> Failures { get; } = new();

    public ConcurrentQueue<SipRegistrationChange> Changes { get; } = new();

    public SipEndPoint UdpEndPoint => new(SipTransportProtocol.Udp, Udp.LocalEndPoint);

    public SipEndPoint TcpEndPoint => new(SipTransportProtocol.Tcp, Tcp.LocalEndPoint);

    public static SipTestNode Start(
        TimeProvider? time = null,
        bool authenticateIncoming = true,
        SipOptions? options = null,
        IReadOnlyList<string>? algorithms = null,
        SipAuthThrottleOptions? throttle = null,
        SipRegistrarOptions? registrar = null) =>
        new(options ?? new SipOptions(), time ?? TimeProvider.System, authenticateIncoming, algorithms ?? ["SHA-256", "MD5"], throttle, registrar);

    public SipTestNode WithAccount(string username, string password, bool enabled = true, int deviceId = 1)
    {
        Accounts[username] = new SipAccount(username, password, enabled, deviceId);
        return this;
    }

    public ValueTask<SipAccount?> FindAsync(string username, CancellationToken cancellationToken) =>
        ValueTask.FromResult(Accounts.TryGetValue(username, out var account) ? account : null);

    public async ValueTask DisposeAsync()
    {
        await Agent.DisposeAsync();
        await Layer.DisposeAsync();
    }
}
