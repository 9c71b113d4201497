using System.Text.Json;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Localization;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Portal.Core.Alarms;
using Portal.Core.Devices;
using Portal.Core.Notifications;
using Portal.Core.Security;
using Portal.Notifications;
using Portal.Tests.Core.Alarms;
using Portal.Tests.Data;
using Xunit;

namespace Portal.Tests.Portal.Notifications;

/// <summary>
/// Web Push end to end in the test process: the portal's sender encrypts for each subscription and signs with its VAPID
/// key; <see cref="PushEndpoint"/> checks the signature as a push service would and decrypts as the browser would.
/// </summary>
[Trait("Category", "Integration")]
public sealed class WebPushSenderTests : IAsyncLifetime
{
    private readonly SqliteDb _database = new();
    private readonly EphemeralDataProtectionProvider _protection = new();
    private readonly NotificationCenter _center = new(NullLogger<NotificationCenter>.Instance);
    private readonly HttpClientFactory _http = new();
    private PushEndpoint _endpoint = null!;
    private PushSubscriptionRepository _subscriptions = null!;
    private VapidKeyStore _keys = null!;
    private WebPushSender _sender = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _endpoint = await PushEndpoint.StartAsync();
        _subscriptions = new PushSubscriptionRepository(_database.Db, _protection);
        _keys = new VapidKeyStore(_database.Db, _protection, TimeProvider.System);
        var localizers = new ResourceManagerStringLocalizerFactory(Options.Create(new LocalizationOptions { ResourcesPath = "Resources" }), NullLoggerFactory.Instance);
        _sender = new WebPushSender(_subscriptions, _keys, _center, _http, localizers,
            Options.Create(new PortalOptions { WebPushSubject = "mailto:ops@example.org" }), NullLogger<WebPushSender>.Instance);
        await _sender.StartAsync(Ct);
    }

    private async Task<string> SubscribeAsync(string id, UserScope scope, string culture)
    {
        var (endpoint, p256dh, auth) = _endpoint.Subscribe(id);
        await _subscriptions.SaveAsync(scope, endpoint, p256dh, auth, culture, TimeProvider.System.GetUtcNow().UtcDateTime, Ct);
        return endpoint;
    }

    private static Notification Offline(int schoolId, int districtId, DeviceKind kind) => new()
    {
        Id = 1,
        Kind = NotificationKind.DeviceOffline,
        Audience = NotificationAudience.Principal | NotificationAudience.Bureau | NotificationAudience.Admin
            | (kind == DeviceKind.AlarmTerminal ? NotificationAudience.Police : NotificationAudience.None),
        DistrictId = districtId,
        SchoolId = schoolId,
        DeviceId = 9,
        SchoolName = "青岛市市南区海山小学",
        DeviceKind = kind,
        SerialNumber = "CAM00000007",
        CreatedUtc = TimeProvider.System.GetUtcNow().UtcDateTime,
    };

    private async Task WaitForAsync(Func<bool> condition)
    {
        for (var i = 0; i < 400 && !condition(); i++)
        {
            await Task.Delay(25, Ct);
        }

        Assert.True(condition(), $"received {_endpoint.Received.Count}, rejected: {string.Join("; ", _endpoint.Rejected)}");
    }

    [Fact]
    public async Task HealthNotice_PrincipalAndBureauInScope_ReceiveEncryptedSignedPushInTheirLanguage()
    {
        await SubscribeAsync("principal", new UserScope(1, "p", Roles.Principal, 1, 10), "zh-CN");
        await SubscribeAsync("bureau-city", new UserScope(2, "b", Roles.Bureau, null, null), "en");
        await SubscribeAsync("bureau-other", new UserScope(3, "b2", Roles.Bureau, 2, null), "zh-CN");
        await SubscribeAsync("principal-other", new UserScope(4, "p2", Roles.Principal, 1, 11), "zh-CN");
        await SubscribeAsync("police", new UserScope(5, "op", Roles.DistrictOperator, 1, null), "zh-CN");

        _center.Publish([Offline(10, 1, DeviceKind.GateCamera)]);
        await WaitForAsync(() => _endpoint.Received.Count >= 2);
        _center.Publish([Offline(10, 1, DeviceKind.AlarmTerminal) with { Id = 2 }]); // a later push, to be sure nothing else is in flight
        await WaitForAsync(() => _endpoint.Received.Count >= 4);

        Assert.Empty(_endpoint.Rejected);
        Assert.Equal(["bureau-city", "bureau-city", "principal", "principal"], _endpoint.Received.Select(r => r.Subscription).Order(StringComparer.Ordinal));
        var zh = JsonDocument.Parse(_endpoint.For("principal")[0].Json).RootElement;
        var en = JsonDocument.Parse(_endpoint.For("bureau-city")[0].Json).RootElement;
        Assert.Equal("青岛市市南区海山小学", zh.GetProperty("title").GetString());
        Assert.Equal("青岛市市南区海山小学的校门球机离线（CAM00000007）", zh.GetProperty("body").GetString());
        Assert.Contains("is offline (CAM00000007)", en.GetProperty("body").GetString(), StringComparison.Ordinal);
        Assert.Equal("/health/schools/10", zh.GetProperty("url").GetString());
        Assert.Equal("health-9", zh.GetProperty("tag").GetString());

        var push = _endpoint.For("principal")[0];
        Assert.Equal("mailto:ops@example.org", push.Subject);
        Assert.Equal((await _keys.GetAsync(Ct)).PublicKey, push.VapidKey);
        Assert.InRange(push.Expires, TimeProvider.System.GetUtcNow(), TimeProvider.System.GetUtcNow().AddHours(24)); // RFC 8292 §2: at most 24 hours
        Assert.Equal(12 * 3600, push.Ttl);
    }

    [Fact]
    public async Task Push_GoneSubscription_IsRemoved()
    {
        var scope = new UserScope(1, "p", Roles.Principal, 1, 10);
        await SubscribeAsync("gone-1", scope, "zh-CN");
        Assert.Equal(1, await _subscriptions.CountAsync(scope, Ct));

        _center.Publish([Offline(10, 1, DeviceKind.GateCamera)]);
        await WaitForAsync(() => _sender.Removed == 1);

        Assert.Equal(0, await _subscriptions.CountAsync(scope, Ct));
    }

    [Fact]
    public async Task VapidKeys_SecondStore_ReadsTheSameKeyAndKeepsThePrivateKeyProtected()
    {
        var first = await _keys.GetAsync(Ct);
        var second = await new VapidKeyStore(_database.Db, _protection, TimeProvider.System).GetAsync(Ct);

        Assert.Equal(first, second);
        await using var connection = _database.Db.Open();
        var stored = await Dapper.SqlMapper.ExecuteScalarAsync<string>(connection, "SELECT PrivateKeyProtected FROM WebPushKey WHERE Id = 1");
        Assert.DoesNotContain(first.PrivateKey, stored, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NewAlarm_PoliceSubscriptionsInScope_ReceiveUrgentPush()
    {
        await using var city = new AlarmTestCity();
        var (school, terminal) = await city.SchoolInDistrictAsync("370202");
        var other = (await city.Districts.GetAllAsync()).Single(d => d.Code == "370203");
        var subscriptions = new PushSubscriptionRepository(city.Database.Db, _protection);
        var localizers = new ResourceManagerStringLocalizerFactory(Options.Create(new LocalizationOptions { ResourcesPath = "Resources" }), NullLoggerFactory.Instance);
        var sender = new WebPushSender(subscriptions, new VapidKeyStore(city.Database.Db, _protection, TimeProvider.System), _center, _http, localizers,
            Options.Create(new PortalOptions()), NullLogger<WebPushSender>.Instance);
        await sender.StartAsync(Ct);
        using var forwarder = new AlarmPushForwarder(city.Notifier, sender);
        await forwarder.StartAsync(Ct);
        foreach (var (id, scope) in new[]
        {
            ("shinan", new UserScope(1, "a", Roles.DistrictOperator, school.DistrictId, null)),
            ("city", new UserScope(2, "c", Roles.CityOperator, null, null)),
            ("shibei", new UserScope(3, "b", Roles.DistrictOperator, other.Id, null)),
            ("principal", new UserScope(4, "p", Roles.Principal, school.DistrictId, school.Id)),
        })
        {
            var (endpoint, p256dh, auth) = _endpoint.Subscribe(id);
            await subscriptions.SaveAsync(scope, endpoint, p256dh, auth, "zh-CN", TimeProvider.System.GetUtcNow().UtcDateTime, Ct);
        }

        var receipt = await city.Intake.SubmitAsync(new AlarmSignal(school.Id, school.DistrictId, terminal.Id, AlarmSource.DeviceApi, false, false, null), Ct);
        await WaitForAsync(() => _endpoint.Received.Count >= 2);

        Assert.Empty(_endpoint.Rejected);
        Assert.Equal(["city", "shinan"], _endpoint.Received.Select(r => r.Subscription).Order(StringComparer.Ordinal));
        var push = _endpoint.For("shinan")[0];
        Assert.Equal("high", push.Urgency);
        var json = JsonDocument.Parse(push.Json).RootElement;
        Assert.Equal("新报警：" + school.Name, json.GetProperty("title").GetString());
        Assert.Equal($"/alarms/{receipt.AlarmId}", json.GetProperty("url").GetString());
        await forwarder.StopAsync(Ct);
        await sender.StopAsync(Ct);
        sender.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        await _sender.StopAsync(CancellationToken.None);
        _sender.Dispose();
        await _endpoint.DisposeAsync();
        _http.Dispose();
        _database.Dispose();
    }

    private sealed class HttpClientFactory : IHttpMessageHandlerFactory, IDisposable
    {
        private readonly HttpClientHandler _handler = new();

        public HttpMessageHandler CreateHandler(string name) => _handler;

        public void Dispose() => _handler.Dispose();
    }
}
