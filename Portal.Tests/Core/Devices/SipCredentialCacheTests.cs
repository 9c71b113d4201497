using System.Net;
using Dapper;
using Microsoft.Extensions.Logging.Abstractions;
using Portal.Core.Audit;
using Portal.Core.Demo;
using Portal.Core.Devices;
using Portal.Core.Security;
using Portal.Intercom;
using Portal.Media.Sip;
using Portal.Media.Sip.Auth;
using Portal.Media.Sip.Calls;
using Portal.Media.Sip.Registrar;
using Portal.Media.Sip.Transport;
using Portal.Tests.Core.Alarms;
using Xunit;

namespace Portal.Tests.Core.Devices;

/// <summary>
/// Issue 11: the registrar's account lookups are cached (a registration storm reads and decrypts each account once), and
/// every credential change made through the portal drops them at once: a revoked or replaced SIP password, a disabled
/// terminal, an account moved by an edit is refused on the very next REGISTER. Real SQLite, real SIP over UDP on 127.0.0.1.
/// </summary>
[Trait("Category", "Integration")]
public sealed class SipCredentialCacheTests : IAsyncLifetime
{
    private static readonly Actor Admin = new(new UserScope(1, "admin", Roles.Admin, null, null), "192.0.2.5");

    private AlarmTestCity _city = default!;
    private DeviceCredentialService _credentials = default!;
    private SipTransactionLayer _portal = default!;
    private SipTransactionLayer _terminal = default!;
    private SipUserAgent _agent = default!;
    private SipEndPoint _registrar = default!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync()
    {
        _city = new AlarmTestCity();
        _credentials = new DeviceCredentialService(_city.Devices, _city.Secrets, new AuditRepository(_city.Database.Db, _city.Time), DeviceCredentialOptions.Default, _city.Time);

        // The portal's side as IntercomService wires it: digest against the device registry through DeviceIntake.
        _portal = new SipTransactionLayer(new SipOptions(), NullLoggerFactory.Instance, _city.Time);
        var udp = new SipUdpTransport(new IPEndPoint(IPAddress.Loopback, 0), NullLogger<SipUdpTransport>.Instance);
        _portal.AddTransport(udp);
        var authenticator = new SipAuthenticator(new DeviceSipAccountDirectory(_city.DeviceIntake), new SipDigestAuthenticator("portal", ["SHA-256", "MD5"], TimeSpan.FromMinutes(5), _city.Time),
            new SipAuthThrottle(new SipAuthThrottleOptions(), _city.Time), NullLogger<SipAuthenticator>.Instance);
        var registrar = new SipRegistrar(new SipRegistrarOptions(), authenticator, new SipBindingTable(), _city.Time, NullLogger<SipRegistrar>.Instance);
        _agent = new SipUserAgent(_portal, new SipUserAgentOptions { RtpBindAddress = IPAddress.Loopback, RtpPortMin = 0, RtpPortMax = 0 }, authenticator, registrar, NullLogger<SipUserAgent>.Instance);
        _portal.Start();
        _registrar = new SipEndPoint(SipTransportProtocol.Udp, udp.LocalEndPoint);

        _terminal = new SipTransactionLayer(new SipOptions(), NullLoggerFactory.Instance, _city.Time);
        _terminal.AddTransport(new SipUdpTransport(new IPEndPoint(IPAddress.Loopback, 0), NullLogger<SipUdpTransport>.Instance));
        _terminal.Start();
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        await _terminal.DisposeAsync();
        await _agent.DisposeAsync();
        await _portal.DisposeAsync();
        await _city.DisposeAsync();
    }

    private async Task<int> RegisterAsync(string account, string password) =>
        (await new SipRegistrationClient(_terminal, _registrar, "portal", account, password).RegisterAsync(600, Ct)).StatusCode;

    [Fact]
    public async Task Register_AfterTheSipPasswordIsReplacedOrRevoked_TheOldOneIsRefusedOnTheNextRegister()
    {
        var (_, terminal) = await _city.SchoolInDistrictAsync("370202");
        var account = terminal.SipAccount!;
        var demo = DemoCity.DemoSipPassword(account);
        Assert.Equal(SipStatus.Ok, await RegisterAsync(account, demo)); // cached from here on

        var issued = (await _credentials.IssueSipPasswordAsync(Admin, terminal.Id, Ct)).Secret!;
        Assert.Equal(SipStatus.Forbidden, await RegisterAsync(account, demo));
        Assert.Equal(SipStatus.Ok, await RegisterAsync(account, issued));

        Assert.True((await _credentials.RevokeSipPasswordAsync(Admin, terminal.Id, Ct)).Succeeded);
        Assert.Equal(SipStatus.Forbidden, await RegisterAsync(account, issued));
        Assert.Equal(SipStatus.Forbidden, await RegisterAsync(account, demo));
    }

    [Fact]
    public async Task Register_AfterTheAdministratorDisablesTheTerminalOrMovesItsAccount_IsRefusedOnTheNextRegister()
    {
        var (_, terminal) = await _city.SchoolInDistrictAsync("370203");
        var (_, other) = await _city.SchoolInDistrictAsync("370203", 1);
        var account = terminal.SipAccount!;
        Assert.Equal(SipStatus.Ok, await RegisterAsync(account, DemoCity.DemoSipPassword(account)));
        Assert.Equal(SipStatus.Ok, await RegisterAsync(other.SipAccount!, DemoCity.DemoSipPassword(other.SipAccount!)));

        await _city.Devices.UpdateAsync(terminal with { Enabled = false }, Ct);
        Assert.Equal(SipStatus.Forbidden, await RegisterAsync(account, DemoCity.DemoSipPassword(account)));
        await _city.Devices.UpdateAsync(terminal with { Enabled = true }, Ct);
        Assert.Equal(SipStatus.Ok, await RegisterAsync(account, DemoCity.DemoSipPassword(account)));

        // The other terminal's account is given a new name: the old name is unknown at once, the new one is its.
        await _city.Devices.UpdateAsync(other with { SipAccount = "renamed-00001" }, Ct);
        Assert.Equal(SipStatus.Forbidden, await RegisterAsync(other.SipAccount!, DemoCity.DemoSipPassword(other.SipAccount!)));
        Assert.Equal(SipStatus.Ok, await RegisterAsync("renamed-00001", DemoCity.DemoSipPassword(other.SipAccount!)));
    }

    [Fact]
    public async Task GetSipCredentialAsync_IsReadOncePerAccount_AndAChangeByAnotherInstanceIsSeenWithinTheCacheAge()
    {
        var (_, terminal) = await _city.SchoolInDistrictAsync("370211");
        var account = terminal.SipAccount!;
        var first = await _city.DeviceIntake.GetSipCredentialAsync(account, Ct);
        Assert.True(first!.Enabled);

        // Written behind this process's back (as another portal instance would): the cache answers until its age runs out.
        await using (var connection = _city.Database.Db.Open())
        {
            await connection.ExecuteAsync("UPDATE Device SET Enabled = 0 WHERE Id = @Id", new { terminal.Id });
        }

        Assert.Same(first, await _city.DeviceIntake.GetSipCredentialAsync(account, Ct));
        _city.Time.Advance(DeviceIntake.SipCredentialCacheAge);
        Assert.False((await _city.DeviceIntake.GetSipCredentialAsync(account, Ct))!.Enabled);
    }

    [Fact]
    public async Task GetSipCredentialAsync_UnknownAccount_IsFoundOnceADeviceTakesIt()
    {
        var (_, terminal) = await _city.SchoolInDistrictAsync("370212");
        Assert.Null(await _city.DeviceIntake.GetSipCredentialAsync("terminal-77777", Ct));

        await _city.Devices.UpdateAsync(terminal with { SipAccount = "terminal-77777" }, Ct);

        Assert.Equal(terminal.Id, (await _city.DeviceIntake.GetSipCredentialAsync("terminal-77777", Ct))!.DeviceId);
    }

    [Fact]
    public async Task SipRegisteredAsync_CachedAccount_RecordsTheSightingInMemory()
    {
        var (_, terminal) = await _city.SchoolInDistrictAsync("370213");
        Assert.NotNull(await _city.DeviceIntake.GetSipCredentialAsync(terminal.SipAccount!, Ct));
        Assert.Null(_city.Presence.GetLastSeenUtc(terminal.Id));

        await _city.DeviceIntake.SipRegisteredAsync(terminal.Id, Ct);

        Assert.Equal(_city.Time.GetUtcNow().UtcDateTime, _city.Presence.GetLastSeenUtc(terminal.Id));
    }
}
