using Portal.Core.Devices;

namespace Portal.Endpoints;

/// <summary>
/// The signed HTTP device API for alarm terminals that do not speak SIP: a door to <see cref="DeviceIntake"/>, which
/// decides. This class only turns HTTP into a <see cref="DeviceRequest"/> and the <see cref="DeviceAnswer"/> back into
/// a status and a problem document. The alarm is committed before the answer is sent.
/// </summary>
public static class DeviceApi
{
    public const int MaxBodyBytes = DeviceIntake.MaxBodyBytes;

    public static void MapDeviceApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/device/alarms", RaiseAsync)
            .AllowAnonymous()
            .DisableAntiforgery()
            .WithTags("Devices")
            .WithSummary("A terminal raises an alarm (headers X-Device-Serial, X-Timestamp, X-Nonce, X-Signature: HMAC-SHA256).");
    }

    private static async Task<IResult> RaiseAsync(HttpContext http, DeviceIntake intake, CancellationToken ct)
    {
        var (request, answer) = await ReadAsync(http, intake, ct);
        answer ??= await intake.RaiseAsync(request!, ct);
        return answer.Accepted
            ? Results.Json(new { alarmId = answer.AlarmId, joined = answer.Joined }, statusCode: answer.Joined ? StatusCodes.Status200OK : StatusCodes.Status201Created)
            : Problem(answer.Refusal);
    }

    /// <summary>The request as the intake takes it, or the answer to a body that is too large (read no further).</summary>
    private static async Task<(DeviceRequest? Request, DeviceAnswer? Refused)> ReadAsync(HttpContext http, DeviceIntake intake, CancellationToken ct)
    {
        var remote = http.Connection.RemoteIpAddress?.ToString();
        var body = http.Request.ContentLength is > MaxBodyBytes ? null : await ReadBodyAsync(http.Request, ct);
        if (body is null)
        {
            return (null, await intake.RefuseOversizedAsync(remote, http.Request.ContentLength, ct));
        }

        var headers = http.Request.Headers;
        return (new DeviceRequest(http.Request.Method, http.Request.Path, headers["X-Device-Serial"], headers["X-Timestamp"], headers["X-Nonce"], headers["X-Signature"], body, remote), null);
    }

    /// <summary>Reads at most <see cref="MaxBodyBytes"/>; null when the body is longer (chunked bodies carry no length).</summary>
    private static async Task<byte[]?> ReadBodyAsync(HttpRequest request, CancellationToken ct)
    {
        var buffer = new byte[MaxBodyBytes + 1];
        var total = 0;
        int read;
        while (total < buffer.Length && (read = await request.Body.ReadAsync(buffer.AsMemory(total), ct)) > 0)
        {
            total += read;
        }

        return total > MaxBodyBytes ? null : buffer[..total];
    }

    private static IResult Problem(DeviceRefusal refusal) => refusal switch
    {
        DeviceRefusal.Malformed => Problem(StatusCodes.Status400BadRequest, "MalformedSignature",
            "X-Device-Serial, X-Timestamp (Unix seconds), X-Nonce (8-64 of A-Z a-z 0-9 - _) and X-Signature (64 hex) are required."),
        DeviceRefusal.Unauthorized => Problem(StatusCodes.Status401Unauthorized, "Unauthorized",
            "Unknown device, disabled device, bad signature or a timestamp more than 5 minutes from the server's clock."),
        DeviceRefusal.Replay => Problem(StatusCodes.Status409Conflict, "Replay", "This nonce was used already."),
        DeviceRefusal.NotATerminal => Problem(StatusCodes.Status403Forbidden, "NotATerminal", "Only alarm terminals raise alarms."),
        DeviceRefusal.MalformedBody => Problem(StatusCodes.Status400BadRequest, "MalformedJson", "The body must be a JSON object (or empty)."),
        DeviceRefusal.BodyTooLarge => Problem(StatusCodes.Status413PayloadTooLarge, "BodyTooLarge", $"The body may hold at most {MaxBodyBytes} bytes."),
        DeviceRefusal.NoCentre => Problem(StatusCodes.Status503ServiceUnavailable, "NoCentre",
            "No 110 centre can receive alarms from this school yet; the administrators have been alerted."),
        _ => throw new ArgumentOutOfRangeException(nameof(refusal), refusal, null),
    };

    private static IResult Problem(int status, string code, string detail) =>
        Results.Problem(statusCode: status, title: code, detail: detail);
}
