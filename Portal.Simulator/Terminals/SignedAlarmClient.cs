using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;

namespace Portal.Simulator.Terminals;

/// <summary>
/// The answer to one alarm press (or heartbeat): the HTTP status and the body the portal sent back; and its
/// Server-Timing header when the portal was asked for one (diagnostics, Portal:DeviceServerTiming).
/// </summary>
public sealed record AlarmPressResult(HttpStatusCode Status, string Body, TimeSpan Elapsed, string? ServerTiming = null);

/// <summary>
/// A simulated alarm terminal on the signed HTTP device API (alarm presses and heartbeats): it signs
/// <c>METHOD \n PATH \n TIMESTAMP \n NONCE \n hex(SHA-256(body))</c> with its own key (HMAC-SHA256), as a
/// real terminal's firmware does. Written apart from the portal's verifier on purpose: tests prove the two agree.
/// </summary>
public sealed class SignedAlarmClient(HttpClient http, string serial, string key, TimeProvider? time = null)
{
    public const string AlarmPath = "/api/device/alarms";

    public const string HeartbeatPath = "/api/device/heartbeat";

    private readonly TimeProvider _time = time ?? TimeProvider.System;

    /// <summary>Presses the button once. <paramref name="timestampOffset"/> and <paramref name="nonce"/> let tests misbehave.</summary>
    public Task<AlarmPressResult> PressAsync(string body = "{\"event\":\"alarm\"}", TimeSpan timestampOffset = default, string? nonce = null, CancellationToken ct = default) =>
        SendAsync(AlarmPath, body, timestampOffset, nonce, ct);

    /// <summary>Says the terminal is alive (a real terminal does so about every 60 s); 200 when accepted.</summary>
    public Task<AlarmPressResult> HeartbeatAsync(string body = "{\"firmware\":\"sim-1.0\"}", TimeSpan timestampOffset = default, string? nonce = null, CancellationToken ct = default) =>
        SendAsync(HeartbeatPath, body, timestampOffset, nonce, ct);

    private async Task<AlarmPressResult> SendAsync(string path, string body, TimeSpan timestampOffset, string? nonce, CancellationToken ct)
    {
        var bytes = Encoding.UTF8.GetBytes(body);
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new ByteArrayContent(bytes) };
        request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        foreach (var (name, value) in SignedHeaders(serial, key, path, bytes, _time.GetUtcNow() + timestampOffset, nonce))
        {
            request.Headers.Add(name, value);
        }

        var started = _time.GetTimestamp();
        using var response = await http.SendAsync(request, ct).ConfigureAwait(false);
        var text = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
        var elapsed = _time.GetElapsedTime(started);
        var timing = response.Headers.TryGetValues("Server-Timing", out var values) ? string.Join(", ", values) : null;
        return new AlarmPressResult(response.StatusCode, text, elapsed, timing);
    }

    /// <summary>
    /// The headers that sign a POST of <paramref name="body"/> to <paramref name="path"/> by the terminal
    /// <paramref name="serial"/> at <paramref name="now"/>: serial, timestamp, nonce (a fresh random one unless given), signature.
    /// </summary>
    public static (string Name, string Value)[] SignedHeaders(string serial, string key, string path, byte[] body, DateTimeOffset now, string? nonce = null)
    {
        var timestamp = now.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        nonce ??= Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12));
        return [("X-Device-Serial", serial), ("X-Timestamp", timestamp), ("X-Nonce", nonce), ("X-Signature", Sign(key, "POST", path, timestamp, nonce, body))];
    }

    public static string Sign(string key, string method, string path, string timestamp, string nonce, byte[] body)
    {
        var toSign = $"{method}\n{path}\n{timestamp}\n{nonce}\n{Convert.ToHexStringLower(SHA256.HashData(body))}";
        return Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(key), Encoding.UTF8.GetBytes(toSign)));
    }
}
