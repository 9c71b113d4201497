using System.Text.Json;
using Portal.Core.Alarms;
using Portal.Core.Devices;
using Portal.Core.Schools;

namespace Portal.Endpoints;

/// <summary>
/// The signed HTTP device API for alarm terminals that do not speak SIP. The alarm is committed before
/// the answer is sent; every refusal is a clear 4xx with a reason and a security log entry.
/// </summary>
public static class DeviceApi
{
    public const int MaxBodyBytes = 16 * 1024;

    public static void MapDeviceApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/device/alarms", RaiseAsync)
            .AllowAnonymous()
            .DisableAntiforgery()
            .WithTags("Devices")
            .WithSummary("A terminal raises an alarm (headers X-Device-Serial, X-Timestamp, X-Nonce, X-Signature: HMAC-SHA256).");
    }

    private static async Task<IResult> RaiseAsync(HttpContext http, DeviceRequestVerifier verifier, SchoolRepository schools, AlarmIntake intake,
        Portal.Core.Installation.InstallationService installation, CancellationToken ct)
    {
        var remote = http.Connection.RemoteIpAddress?.ToString();
        if (http.Request.ContentLength is > MaxBodyBytes)
        {
            await verifier.LogAsync(remote, null, "BodyTooLarge", http.Request.ContentLength?.ToString(System.Globalization.CultureInfo.InvariantCulture), ct);
            return Problem(StatusCodes.Status413PayloadTooLarge, "BodyTooLarge", $"The body may hold at most {MaxBodyBytes} bytes.");
        }

        var body = await ReadBodyAsync(http.Request, ct);
        if (body is null)
        {
            await verifier.LogAsync(remote, null, "BodyTooLarge", null, ct);
            return Problem(StatusCodes.Status413PayloadTooLarge, "BodyTooLarge", $"The body may hold at most {MaxBodyBytes} bytes.");
        }

        var headers = http.Request.Headers;
        var (device, failure) = await verifier.VerifySignatureAsync(new DeviceRequest(
            http.Request.Method, http.Request.Path, headers["X-Device-Serial"], headers["X-Timestamp"], headers["X-Nonce"], headers["X-Signature"], body, remote), ct);
        if (device is null)
        {
            return failure switch
            {
                DeviceAuthFailure.Malformed => Problem(StatusCodes.Status400BadRequest, "MalformedSignature", "X-Device-Serial, X-Timestamp (Unix seconds), X-Nonce (8-64 of A-Z a-z 0-9 - _) and X-Signature (64 hex) are required."),
                DeviceAuthFailure.Disabled => Problem(StatusCodes.Status403Forbidden, "DeviceDisabled", "This device is disabled."),
                DeviceAuthFailure.Stale => Problem(StatusCodes.Status401Unauthorized, "StaleTimestamp", "The timestamp is more than 5 minutes from the server's clock."),
                DeviceAuthFailure.Replay => Problem(StatusCodes.Status409Conflict, "Replay", "This nonce was used already."),
                _ => Problem(StatusCodes.Status401Unauthorized, "Unauthorized", "Unknown device or bad signature."),
            };
        }

        if (device.Kind != DeviceKind.AlarmTerminal)
        {
            await verifier.LogAsync(remote, device.Id, "NotATerminal", null, ct);
            return Problem(StatusCodes.Status403Forbidden, "NotATerminal", "Only alarm terminals raise alarms.");
        }

        if (body.Length > 0 && !IsJsonObject(body))
        {
            await verifier.LogAsync(remote, device.Id, "MalformedJson", null, ct);
            return Problem(StatusCodes.Status400BadRequest, "MalformedJson", "The body must be a JSON object (or empty).");
        }

        var school = await schools.GetByIdAsync(device.SchoolId, ct);
        if (school is null)
        {
            return Problem(StatusCodes.Status409Conflict, "NoSchool", "The device is not assigned to a school.");
        }

        var receipt = await intake.SubmitAsync(new AlarmSignal(school.Id, school.DistrictId, device.Id, AlarmSource.DeviceApi, false, false, remote,
            Nonce: headers["X-Nonce"].ToString()), ct);
        if (receipt.Replay)
        {
            await verifier.LogReplayAsync(remote, device.Id, ct);
            return Problem(StatusCodes.Status409Conflict, "Replay", "This nonce was used already.");
        }

        // A correctly signed request proves the terminal is on the platform. Recorded once (it is a write
        // beside the alarm intake's), and after the answer is sent, so the device never waits for it.
        if (device.InstallState < DeviceInstallState.Connected)
        {
            http.Response.OnCompleted(() => installation.MarkDeviceSeenAsync(device.Id, CancellationToken.None));
        }
        return Results.Json(new { alarmId = receipt.AlarmId, joined = receipt.Joined }, statusCode: receipt.Joined ? StatusCodes.Status200OK : StatusCodes.Status201Created);
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

    private static bool IsJsonObject(byte[] body)
    {
        try
        {
            using var doc = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = 8 });
            return doc.RootElement.ValueKind == JsonValueKind.Object;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static IResult Problem(int status, string code, string detail) =>
        Results.Problem(statusCode: status, title: code, detail: detail);
}
