using System.Buffers;
using System.Net;
using System.Net.Http.Headers;
using System.Xml.Linq;

namespace Portal.Media.Onvif;

/// <summary>
/// The device health check's ONVIF call (issue #12): GetSystemDateAndTime, which needs no credentials, with a request
/// body built once for all cameras and an answer checked for what it must hold (an envelope with a UTCDateTime and no
/// fault) instead of parsed into a document: the check runs for every camera every minute. The answer is read with a
/// cap (<see cref="MaxResponseBytes"/>) however it is framed; the caller's HttpClient keeps connections alive.
/// <see cref="OnvifClient.GetSystemDateAndTimeAsync"/> is the full call, for a client that needs the device's time.
/// </summary>
public static class OnvifProbe
{
    /// <summary>The largest answer read; a GetSystemDateAndTime answer is about 1 KB.</summary>
    public const int MaxResponseBytes = 64 * 1024;

    private static readonly byte[] RequestBody = System.Text.Encoding.UTF8.GetBytes(
        OnvifSoap.CreateEnvelope(new XElement(OnvifSoap.Tds + "GetSystemDateAndTime"), null));

    /// <summary>
    /// Null when the device service answered GetSystemDateAndTime; otherwise why not. Only <paramref name="cancellationToken"/>
    /// ends it with an exception (the caller's time-out); a refused or broken connection is an answer.
    /// </summary>
    public static async Task<string?> GetSystemDateAndTimeAsync(HttpClient http, Uri deviceService, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(http);
        using var content = new ByteArrayContent(RequestBody);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/soap+xml") { CharSet = "utf-8" };
        using var post = new HttpRequestMessage(HttpMethod.Post, deviceService) { Content = content };
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(post, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException ex)
        {
            return $"GetSystemDateAndTime: device unreachable ({ex.Message}).";
        }

        using (response)
        {
            var status = (int)response.StatusCode;
            if (response.Content.Headers.ContentLength > MaxResponseBytes)
            {
                return "GetSystemDateAndTime: response too large.";
            }

            var buffer = ArrayPool<byte>.Shared.Rent(MaxResponseBytes + 1);
            try
            {
                var length = 0;
                try
                {
                    var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
                    await using (stream.ConfigureAwait(false))
                    {
                        int read;
                        while ((read = await stream.ReadAsync(buffer.AsMemory(length, MaxResponseBytes + 1 - length), cancellationToken).ConfigureAwait(false)) > 0)
                        {
                            length += read;
                            if (length > MaxResponseBytes)
                            {
                                return "GetSystemDateAndTime: response too large.";
                            }
                        }
                    }
                }
                catch (Exception ex) when (ex is IOException or HttpRequestException)
                {
                    return $"GetSystemDateAndTime: the answer broke off ({ex.Message}).";
                }

                var body = buffer.AsSpan(0, length);
                if (body.IndexOf("Fault"u8) >= 0)
                {
                    return $"GetSystemDateAndTime: device answered a fault (HTTP {status}).";
                }

                if (response.StatusCode == HttpStatusCode.Unauthorized)
                {
                    return "GetSystemDateAndTime: device refused the request (HTTP 401).";
                }

                return response.IsSuccessStatusCode && body.IndexOf("Envelope"u8) >= 0 && body.IndexOf("UTCDateTime"u8) >= 0
                    ? null
                    : $"GetSystemDateAndTime: unexpected answer (HTTP {status}).";
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }
}
