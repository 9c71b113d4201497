using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Threading.Channels;
using Lib.Net.Http.WebPush;
using Lib.Net.Http.WebPush.Authentication;
using Microsoft.Extensions.Localization;
using Microsoft.Extensions.Options;
using Portal.Core.Notifications;

namespace Portal.Notifications;

/// <summary>What the service worker shows: title, body, the page a click opens, and a tag (a newer push with the same tag replaces the older).</summary>
public sealed record PushPayload(string Title, string Body, string Url, string Tag);

/// <summary>
/// Web Push (RFC 8030) to the browsers that subscribed, so a closed tab still hears of an offline device or a new
/// alarm: payloads encrypted for each subscription (RFC 8291, aes128gcm) and signed with the portal's VAPID key
/// (RFC 8292), both by <c>Lib.Net.Http.WebPush</c>. A subscription the push service calls gone (404/410) is deleted.
/// Health notifications go to principals and the bureau (as <see cref="NotificationCenter"/> publishes them); new
/// alarms to police consoles (<see cref="AlarmPushForwarder"/>). Sending is off the caller's path, in order.
/// </summary>
public sealed class WebPushSender(
    PushSubscriptionRepository subscriptions,
    VapidKeyStore keys,
    NotificationCenter center,
    IHttpMessageHandlerFactory httpHandlers,
    IStringLocalizerFactory localizers,
    IOptions<PortalOptions> options,
    ILogger<WebPushSender> logger) : BackgroundService
{
    public const string HttpClientName = "webpush";

    /// <summary>Health pushes reach these roles; the police see offline terminals on their console instead.</summary>
    private const NotificationAudience HealthPushAudience = NotificationAudience.Principal | NotificationAudience.Bureau;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private readonly Channel<Request> _queue = Channel.CreateBounded<Request>(new BoundedChannelOptions(10_000)
    {
        SingleReader = true,
        FullMode = BoundedChannelFullMode.DropOldest,
    });

    /// <summary>Pushes sent, and subscriptions removed as gone; for tests and diagnostics.</summary>
    public int Sent => Volatile.Read(ref _sent);

    public int Removed => Volatile.Read(ref _removed);

    private readonly IStringLocalizer _localizer = localizers.Create(typeof(SharedResource));
    private int _sent;
    private int _removed;
    private IDisposable? _centerSubscription;

    /// <summary>Queues a push to every subscription <paramref name="audience"/> covers; <paramref name="payload"/> is made in each subscriber's language.</summary>
    public void Enqueue(PushAudience audience, Func<IStringLocalizer, PushPayload> payload, PushMessageUrgency urgency, TimeSpan timeToLive) =>
        _queue.Writer.TryWrite(new Request(audience, payload, urgency, timeToLive));

    /// <summary>The push for a health notification, in the reader's language.</summary>
    public static PushPayload HealthPayload(IStringLocalizer L, Notification n)
    {
        ArgumentNullException.ThrowIfNull(L);
        ArgumentNullException.ThrowIfNull(n);
        var device = n.DeviceKind is { } kind ? L["DeviceKind_" + kind].Value : string.Empty;
        return new PushPayload(
            n.SchoolName,
            string.Format(CultureInfo.CurrentCulture, L["Notice_" + n.Kind].Value, n.SchoolName, device, n.SerialNumber),
            n.Link,
            $"health-{n.DeviceId}");
    }

    /// <summary>
    /// Subscribes to the notification centre before the loop starts: since .NET 10 a <see cref="BackgroundService"/> runs
    /// all of <see cref="ExecuteAsync"/> on the thread pool, so a subscription made there could miss a notice published
    /// meanwhile (a fresh-clone run lost one that way).
    /// </summary>
    public override Task StartAsync(CancellationToken cancellationToken)
    {
        _centerSubscription ??= center.SubscribeAll(n =>
        {
            var audience = n.Audience & HealthPushAudience;
            if (audience != NotificationAudience.None)
            {
                Enqueue(new PushAudience(audience, n.DistrictId, n.SchoolId), L => HealthPayload(L, n), PushMessageUrgency.Normal, TimeSpan.FromHours(12));
            }

            return Task.CompletedTask;
        });
        return base.StartAsync(cancellationToken);
    }

    /// <inheritdoc />
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        Interlocked.Exchange(ref _centerSubscription, null)?.Dispose();
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public override void Dispose()
    {
        Interlocked.Exchange(ref _centerSubscription, null)?.Dispose();
        base.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await SendQueuedAsync(stoppingToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping (also when the host's start failed and it disposes its services): not a failure.
        }
    }

    private async Task SendQueuedAsync(CancellationToken stoppingToken)
    {
        while (await _queue.Reader.WaitToReadAsync(stoppingToken).ConfigureAwait(false))
        {
            while (_queue.Reader.TryRead(out var request))
            {
                try
                {
                    await SendAsync(request, stoppingToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OperationCanceledException and not OutOfMemoryException)
                {
                    logger.LogWarning(ex, "Web Push could not be sent");
                }
            }
        }
    }

    private async Task SendAsync(Request request, CancellationToken ct)
    {
        var targets = await subscriptions.GetAudienceAsync(request.Audience, ct).ConfigureAwait(false);
        if (targets.Count == 0)
        {
            return;
        }

        var vapid = await keys.GetAsync(ct).ConfigureAwait(false);
        using var authentication = new VapidAuthentication(vapid.PublicKey, vapid.PrivateKey) { Subject = options.Value.WebPushSubject };
        // The pooled handler from the factory, behind ours; neither is disposed here (the factory owns its handlers).
        using var http = new HttpClient(new VapidAudience(authentication) { InnerHandler = httpHandlers.CreateHandler(HttpClientName) }, disposeHandler: false)
        {
            Timeout = TimeSpan.FromSeconds(10),
        };
        var client = new PushServiceClient(http) { DefaultAuthentication = authentication, DefaultAuthenticationScheme = VapidAuthenticationScheme.Vapid, AutoRetryAfter = false };
        var culture = CultureInfo.CurrentUICulture;
        try
        {
            foreach (var target in targets)
            {
                CultureInfo.CurrentCulture = CultureInfo.CurrentUICulture = Culture(target.Culture);
                var json = JsonSerializer.Serialize(request.Payload(_localizer), Json);
                var subscription = new PushSubscription { Endpoint = target.Endpoint };
                subscription.SetKey(PushEncryptionKeyName.P256DH, target.P256dh);
                subscription.SetKey(PushEncryptionKeyName.Auth, target.Auth);
                var message = new PushMessage(json) { Urgency = request.Urgency, TimeToLive = (int)request.TimeToLive.TotalSeconds };
                try
                {
                    await client.RequestPushMessageDeliveryAsync(subscription, message, ct).ConfigureAwait(false);
                    Interlocked.Increment(ref _sent);
                }
                catch (PushServiceClientException ex) when (ex.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.Gone)
                {
                    await subscriptions.DeleteByIdAsync(target.Id, ct).ConfigureAwait(false);
                    Interlocked.Increment(ref _removed);
                }
                catch (Exception ex) when (ex is PushServiceClientException or HttpRequestException or TaskCanceledException)
                {
                    // One browser's push service failing must not stop the others; the next notice tries again.
                    logger.LogInformation("Web Push to subscription {Id} failed: {Reason}", target.Id, ex.Message);
                }
            }
        }
        finally
        {
            CultureInfo.CurrentCulture = CultureInfo.CurrentUICulture = culture;
        }
    }

    private static CultureInfo Culture(string name) =>
        name.StartsWith("en", StringComparison.OrdinalIgnoreCase) ? CultureInfo.GetCultureInfo("en") : CultureInfo.GetCultureInfo("zh-CN");

    /// <summary>
    /// RFC 8292 §2: the JWT's "aud" is the push resource's origin, port included when it is not the scheme's default.
    /// The library leaves the port out (harmless for the real push services on 443); an endpoint on another port gets a
    /// token for its exact origin here.
    /// </summary>
    private sealed class VapidAudience(VapidAuthentication vapid) : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request.RequestUri is { IsDefaultPort: false } uri)
            {
                request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue(
                    "vapid", vapid.GetVapidSchemeAuthenticationHeaderValueParameter(uri.GetLeftPart(UriPartial.Authority)));
            }

            return base.SendAsync(request, cancellationToken);
        }
    }

    private sealed record Request(PushAudience Audience, Func<IStringLocalizer, PushPayload> Payload, PushMessageUrgency Urgency, TimeSpan TimeToLive);
}
