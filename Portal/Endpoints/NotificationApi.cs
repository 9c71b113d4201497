using Microsoft.AspNetCore.WebUtilities;
using Portal.Core.Data;
using Portal.Core.Notifications;
using Portal.Services;

namespace Portal.Endpoints;

/// <summary>The notification centre and Web Push subscriptions, for the signed-in user only (their role and scope).</summary>
public static class NotificationApi
{
    /// <summary>A browser's PushSubscription.toJSON(), plus the page's language for the texts it will be sent.</summary>
    public sealed record PushSubscriptionBody(string? Endpoint, PushKeys? Keys, string? Culture);

    public sealed record PushKeys(string? P256dh, string? Auth);

    public sealed record EndpointBody(string? Endpoint);

    public static void MapNotificationApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/notifications").RequireAuthorization(Extensions.ApiPolicy).WithTags("Notifications");

        api.MapGet("/", async (HttpContext http, NotificationRepository notifications, TimeProvider time, bool? unread, int? skip, int? take, CancellationToken ct) =>
            http.User.ToScope() is { } scope
                ? Results.Ok(await notifications.GetPageAsync(scope, new PageRequest(skip ?? 0, take ?? 50), unread ?? false, time.GetUtcNow().UtcDateTime, ct))
                : Results.Forbid())
            .WithSummary("The caller's notifications (their role and scope), newest first.");

        api.MapGet("/unread-count", async (HttpContext http, NotificationRepository notifications, TimeProvider time, CancellationToken ct) =>
            http.User.ToScope() is { } scope
                ? Results.Ok(new { count = await notifications.CountUnreadAsync(scope, time.GetUtcNow().UtcDateTime, ct) })
                : Results.Forbid());

        api.MapPost("/{id:long}/read", async (HttpContext http, NotificationRepository notifications, TimeProvider time, long id, CancellationToken ct) =>
            http.User.ToScope() is { } scope
                ? await notifications.MarkReadAsync(scope, id, time.GetUtcNow().UtcDateTime, ct) ? Results.NoContent() : Results.NotFound()
                : Results.Forbid());

        api.MapPost("/read-all", async (HttpContext http, NotificationRepository notifications, TimeProvider time, CancellationToken ct) =>
            http.User.ToScope() is { } scope
                ? Results.Ok(new { marked = await notifications.MarkAllReadAsync(scope, time.GetUtcNow().UtcDateTime, ct) })
                : Results.Forbid());

        var push = app.MapGroup("/api/push").RequireAuthorization(Extensions.ApiPolicy).WithTags("Notifications");

        push.MapGet("/key", async (VapidKeyStore keys, CancellationToken ct) => Results.Ok(new { publicKey = (await keys.GetAsync(ct)).PublicKey }))
            .WithSummary("The portal's VAPID public key (RFC 8292), the applicationServerKey for PushManager.subscribe.");

        push.MapPost("/subscriptions", async (HttpContext http, PushSubscriptionRepository subscriptions, TimeProvider time, PushSubscriptionBody body, CancellationToken ct) =>
        {
            if (http.User.ToScope() is not { } scope)
            {
                return Results.Forbid();
            }

            if (Validate(body) is { } problem)
            {
                return Results.ValidationProblem(new Dictionary<string, string[]> { ["subscription"] = [problem] });
            }

            var culture = body.Culture?.StartsWith("en", StringComparison.OrdinalIgnoreCase) == true ? "en" : "zh-CN";
            await subscriptions.SaveAsync(scope, body.Endpoint!, body.Keys!.P256dh!, body.Keys.Auth!, culture, time.GetUtcNow().UtcDateTime, ct);
            return Results.NoContent();
        }).WithSummary("Stores this browser's push subscription for the caller.");

        push.MapPost("/subscriptions/delete", async (HttpContext http, PushSubscriptionRepository subscriptions, EndpointBody body, CancellationToken ct) =>
            http.User.ToScope() is not { } scope ? Results.Forbid()
            : string.IsNullOrEmpty(body.Endpoint) ? Results.BadRequest()
            : await subscriptions.DeleteAsync(scope, body.Endpoint, ct) ? Results.NoContent() : Results.NotFound())
            .WithSummary("Removes the caller's subscription for this browser.");
    }

    /// <summary>
    /// Null when the subscription is usable: an https endpoint (http only on loopback, for tests) of sane length, a P-256
    /// public key as an uncompressed point (65 bytes) and a 16-byte auth secret (RFC 8291 §3.2), both base64url.
    /// </summary>
    internal static string? Validate(PushSubscriptionBody? body)
    {
        if (body?.Endpoint is not { Length: > 0 and <= 1024 } endpoint || !Uri.TryCreate(endpoint, UriKind.Absolute, out var uri)
            || !(uri.Scheme == Uri.UriSchemeHttps || (uri.Scheme == Uri.UriSchemeHttp && uri.IsLoopback)))
        {
            return "endpoint must be an https URL";
        }

        return Decodes(body.Keys?.P256dh, 65, 0x04) && Decodes(body.Keys?.Auth, 16, null) ? null : "keys.p256dh and keys.auth are invalid";
    }

    private static bool Decodes(string? value, int length, byte? first)
    {
        if (string.IsNullOrEmpty(value) || value.Length > 200)
        {
            return false;
        }

        try
        {
            var bytes = WebEncoders.Base64UrlDecode(value);
            return bytes.Length == length && (first is null || bytes[0] == first);
        }
        catch (FormatException)
        {
            return false;
        }
    }
}
