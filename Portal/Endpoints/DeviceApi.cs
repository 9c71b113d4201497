using System.ComponentModel;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using Portal.Core.Devices;

namespace Portal.Endpoints;

/// <summary>What a terminal may send with an alarm (every field optional; the signature covers the raw bytes).</summary>
public sealed record DeviceAlarmBody([property: Description("What happened, e.g. \"alarm\".")] string? Event);

/// <summary>What a device may report with a heartbeat (every field optional; informational).</summary>
public sealed record DeviceHeartbeatBody(
    [property: Description("Firmware version.")] string? Firmware,
    [property: Description("Seconds since the device started.")] long? UptimeSeconds);

public sealed record DeviceAlarmAnswer(
    [property: Description("The alarm's id.")] int AlarmId,
    [property: Description("True when the press joined the terminal's alarm that is still open.")] bool Joined);

public sealed record DeviceHeartbeatAnswer(
    [property: Description("The server's clock, Unix seconds (a device may correct its own by it).")] long ServerTime,
    [property: Description("Seconds until the next heartbeat is due.")] int IntervalSeconds);

/// <summary>
/// The signed HTTP device API for alarm terminals that do not speak SIP: a door to <see cref="DeviceIntake"/>, which
/// decides. This class only turns HTTP into a <see cref="DeviceRequest"/> and the <see cref="DeviceAnswer"/> back into
/// a status and a problem document. The alarm is committed before the answer is sent.
/// </summary>
public static class DeviceApi
{
    public const int MaxBodyBytes = DeviceIntake.MaxBodyBytes;

    /// <summary>The ASP.NET Core rate limiting policy of the device endpoints: a token bucket per source address.</summary>
    public const string RateLimitPolicy = "device";

    public static void MapDeviceApi(this IEndpointRouteBuilder app)
    {
        app.MapPost(AlarmsPath, RaiseAsync)
            .WithSummary("A terminal raises an alarm.")
            .WithDescription("Committed before the answer. 201 for a new alarm, 200 when the terminal's alarm is still open (the press joins it). " + SigningRules)
            .Accepts<DeviceAlarmBody>("application/json")
            .Produces<DeviceAlarmAnswer>(StatusCodes.Status201Created)
            .Produces<DeviceAlarmAnswer>(StatusCodes.Status200OK)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable)
            .AsDeviceEndpoint();

        app.MapPost(HeartbeatPath, HeartbeatAsync)
            .WithSummary("A device says it is alive (about every 60 s).")
            .WithDescription("Records the device's freshness for the health checks; nothing else. X-Timestamp must be newer than the device's "
                + "last accepted heartbeat (409 otherwise), so a replayed heartbeat cannot make a dead device look alive. " + SigningRules)
            .Accepts<DeviceHeartbeatBody>("application/json")
            .Produces<DeviceHeartbeatAnswer>(StatusCodes.Status200OK)
            .AsDeviceEndpoint();
    }

    public const string AlarmsPath = "/api/device/alarms";

    public const string HeartbeatPath = "/api/device/heartbeat";

    private const string SigningRules =
        "Signed with the device's own key: X-Signature = lower-case hex HMAC-SHA256(key, METHOD \\n PATH \\n X-Timestamp \\n X-Nonce \\n "
        + "hex(SHA-256(body))). The body is empty or a JSON object of at most 16 KB. Unknown device, disabled device, bad signature and a "
        + "stale timestamp all answer the same 401. Too many requests from one address or one device: 429 with Retry-After.";

    /// <summary>What both device endpoints share: anonymous (the signature is the credential), the signing headers, the refusals.</summary>
    private static RouteHandlerBuilder AsDeviceEndpoint(this RouteHandlerBuilder endpoint) => endpoint
        .AllowAnonymous()
        .DisableAntiforgery()
        .WithTags("Devices")
        .ProducesProblem(StatusCodes.Status400BadRequest)
        .ProducesProblem(StatusCodes.Status401Unauthorized)
        .ProducesProblem(StatusCodes.Status409Conflict)
        .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
        .ProducesProblem(StatusCodes.Status429TooManyRequests)
        .RequireRateLimiting(RateLimitPolicy)
        .AddOpenApiOperationTransformer(AddSigningHeadersAsync);

    /// <summary>
    /// The per-address limit (issue 14): a token bucket per source address, checked by ASP.NET Core's rate limiting
    /// middleware before the body is read or the database touched. IPv6 addresses share their /64, which one host
    /// usually owns whole. Requests refused here are counted like every other refusal.
    /// </summary>
    public static void AddDeviceRateLimiting(this IServiceCollection services, DeviceRateLimitOptions limits)
    {
        ArgumentNullException.ThrowIfNull(limits);
        services.AddRateLimiter(o =>
        {
            o.AddPolicy(RateLimitPolicy, http => RateLimitPartition.GetTokenBucketLimiter(AddressKey(http.Connection.RemoteIpAddress), _ => new TokenBucketRateLimiterOptions
            {
                TokenLimit = limits.PerAddressBurst,
                TokensPerPeriod = limits.PerAddressPerSecond,
                ReplenishmentPeriod = limits.Period,
                QueueLimit = 0,
                AutoReplenishment = true,
            }));
            o.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            o.OnRejected = (context, ct) =>
            {
                // The flood's path: a few microseconds each (count, headers, a body serialized once), so thousands a
                // second cost the portal little; the problem document is the same one Problem() writes.
                var http = context.HttpContext;
                http.RequestServices.GetRequiredService<DeviceIntake>().CountAddressLimited(http.Connection.RemoteIpAddress?.ToString());
                var retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : limits.Period;
                http.Response.Headers.RetryAfter = RetryAfterSeconds(retryAfter);
                http.Response.ContentType = "application/problem+json";
                http.Response.ContentLength = TooManyRequestsBody.Length;
                return http.Response.Body.WriteAsync(TooManyRequestsBody.AsMemory(), ct);
            };
        });
    }

    private const string TooManyRequestsDetail = "Too many requests from this address or this device; wait as Retry-After says.";

    private static readonly byte[] TooManyRequestsBody = System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(new Microsoft.AspNetCore.Mvc.ProblemDetails
    {
        Type = "https://tools.ietf.org/html/rfc6585#section-4",
        Title = "TooManyRequests",
        Status = StatusCodes.Status429TooManyRequests,
        Detail = TooManyRequestsDetail,
    });

    private static string RetryAfterSeconds(TimeSpan retryAfter) => Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);

    private static string AddressKey(IPAddress? address)
    {
        if (address is null)
        {
            return "unknown";
        }

        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return address.ToString();
        }

        var bytes = address.GetAddressBytes();
        Array.Clear(bytes, 8, 8);
        return new IPAddress(bytes) + "/64";
    }

    private static Task AddSigningHeadersAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken ct)
    {
        operation.Parameters ??= [];
        foreach (var (name, description, pattern) in SigningHeaders)
        {
            operation.Parameters.Add(new OpenApiParameter
            {
                Name = name,
                In = ParameterLocation.Header,
                Required = true,
                Description = description,
                Schema = new OpenApiSchema { Type = JsonSchemaType.String, Pattern = pattern },
            });
        }

        return Task.CompletedTask;
    }

    private static readonly (string Name, string Description, string Pattern)[] SigningHeaders =
    [
        ("X-Device-Serial", "The device's serial number, as in the registry.", "^.{1,64}$"),
        ("X-Timestamp", "Unix seconds; refused when more than 5 minutes from the server's clock.", "^[0-9]{1,19}$"),
        ("X-Nonce", "8-64 of A-Z a-z 0-9 - _, never reused by this device.", "^[A-Za-z0-9_-]{8,64}$"),
        ("X-Signature", "Lower-case hex HMAC-SHA256 of the string to sign with the device's key.", "^[0-9a-fA-F]{64}$"),
    ];

    private static async Task<IResult> RaiseAsync(HttpContext http, DeviceIntake intake, Microsoft.Extensions.Options.IOptions<PortalOptions> options, CancellationToken ct)
    {
        Portal.Core.Diagnostics.RequestStamps.Current?.Handler = Portal.Core.Diagnostics.RequestStamps.Now();
        var (request, answer) = await ReadAsync(http, intake, ct);
        Portal.Core.Diagnostics.RequestStamps.Current?.BodyRead = Portal.Core.Diagnostics.RequestStamps.Now();
        answer ??= await intake.RaiseAsync(request!, options.Value.DeviceAnswerInline, ct);
        return answer.Accepted
            ? Results.Json(new DeviceAlarmAnswer(answer.AlarmId, answer.Joined), statusCode: answer.Joined ? StatusCodes.Status200OK : StatusCodes.Status201Created)
            : Problem(answer);
    }

    private static async Task<IResult> HeartbeatAsync(HttpContext http, DeviceIntake intake, TimeProvider time, CancellationToken ct)
    {
        var (request, answer) = await ReadAsync(http, intake, ct);
        answer ??= await intake.HeartbeatAsync(request!, ct);
        return answer.Accepted
            ? Results.Json(new DeviceHeartbeatAnswer(time.GetUtcNow().ToUnixTimeSeconds(), (int)DeviceIntake.HeartbeatInterval.TotalSeconds))
            : Problem(answer);
    }

    /// <summary>
    /// The request as the intake takes it; or, without reading the body any further, the answer to a device that has
    /// used up its allowance or to a body that is too large.
    /// </summary>
    private static async Task<(DeviceRequest? Request, DeviceAnswer? Refused)> ReadAsync(HttpContext http, DeviceIntake intake, CancellationToken ct)
    {
        var remote = http.Connection.RemoteIpAddress?.ToString();
        var headers = http.Request.Headers;
        if (intake.Throttled(headers["X-Device-Serial"], remote) is { } throttled)
        {
            return (null, throttled);
        }

        var body = http.Request.ContentLength is > MaxBodyBytes ? null : await ReadBodyAsync(http.Request, ct);
        if (body is null)
        {
            return (null, intake.RefuseOversized(remote));
        }

        return (new DeviceRequest(http.Request.Method, http.Request.Path, headers["X-Device-Serial"], headers["X-Timestamp"], headers["X-Nonce"], headers["X-Signature"], body, remote), null);
    }

    /// <summary>
    /// Reads at most <see cref="MaxBodyBytes"/>; null when the body is longer (chunked bodies carry no length). The read
    /// goes through a pooled buffer and only the body itself is copied out: a new 16 KB buffer per press was about 3 % of
    /// the portal's allocations in the alarm benchmark's steady phase, and every garbage collection pauses the alarm path.
    /// </summary>
    private static async Task<byte[]?> ReadBodyAsync(HttpRequest request, CancellationToken ct)
    {
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(MaxBodyBytes + 1);
        try
        {
            var total = 0;
            int read;
            while (total <= MaxBodyBytes && (read = await request.Body.ReadAsync(buffer.AsMemory(total, MaxBodyBytes + 1 - total), ct)) > 0)
            {
                total += read;
            }

            return total > MaxBodyBytes ? null : buffer.AsSpan(0, total).ToArray();
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static IResult Problem(DeviceAnswer answer) => answer.Refusal == DeviceRefusal.RateLimited
        ? new RetryAfterResult(answer.RetryAfter, Problem(StatusCodes.Status429TooManyRequests, "TooManyRequests", TooManyRequestsDetail))
        : Problem(answer.Refusal);

    private static IResult Problem(DeviceRefusal refusal) => refusal switch
    {
        DeviceRefusal.Malformed => Problem(StatusCodes.Status400BadRequest, "MalformedSignature",
            "X-Device-Serial, X-Timestamp (Unix seconds), X-Nonce (8-64 of A-Z a-z 0-9 - _) and X-Signature (64 hex) are required."),
        DeviceRefusal.Unauthorized => Problem(StatusCodes.Status401Unauthorized, "Unauthorized",
            "Unknown device, disabled device, bad signature or a timestamp more than 5 minutes from the server's clock."),
        DeviceRefusal.Replay => Problem(StatusCodes.Status409Conflict, "Replay", "This nonce was used already (or, for a heartbeat, X-Timestamp is not newer than the last one)."),
        DeviceRefusal.NotATerminal => Problem(StatusCodes.Status403Forbidden, "NotATerminal", "Only alarm terminals raise alarms."),
        DeviceRefusal.MalformedBody => Problem(StatusCodes.Status400BadRequest, "MalformedJson", "The body must be a JSON object (or empty)."),
        DeviceRefusal.BodyTooLarge => Problem(StatusCodes.Status413PayloadTooLarge, "BodyTooLarge", $"The body may hold at most {MaxBodyBytes} bytes."),
        DeviceRefusal.NoCentre => Problem(StatusCodes.Status503ServiceUnavailable, "NoCentre",
            "No 110 centre can receive alarms from this school yet; the administrators have been alerted."),
        _ => throw new ArgumentOutOfRangeException(nameof(refusal), refusal, null),
    };

    private static IResult Problem(int status, string code, string detail) =>
        Results.Problem(statusCode: status, title: code, detail: detail);

    /// <summary>A problem document with a Retry-After header (whole seconds, at least one).</summary>
    private sealed class RetryAfterResult(TimeSpan retryAfter, IResult problem) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.Headers.RetryAfter = RetryAfterSeconds(retryAfter);
            return problem.ExecuteAsync(httpContext);
        }
    }
}
