using System.Net;
using System.Net.Sockets;
using System.Text;
using Portal.Media.Rtsp;
using Xunit;

namespace Portal.Tests.Media.Rtsp;

/// <summary>
/// Issue #14: RTSP Basic auth puts the password on the wire in the clear, so a spoofed camera asking for Basic would
/// harvest it. The client answers Basic only for a device explicitly allowed it; Digest always.
/// </summary>
[Trait("Category", "Integration")]
public sealed class RtspAuthenticatorTests
{
    [Fact]
    public async Task OptionsAsync_CameraAsksForBasicOnly_PasswordNeverSent()
    {
        var (requests, error) = await OptionsAgainstBasicOnlyCameraAsync(allowBasic: false);

        Assert.IsType<RtspAuthenticationException>(error);
        Assert.DoesNotContain(requests, r => r.Contains("Authorization:", StringComparison.OrdinalIgnoreCase));
        Assert.DoesNotContain(requests, r => r.Contains(Convert.ToBase64String(Encoding.UTF8.GetBytes("admin:secret-pass")), StringComparison.Ordinal));
    }

    [Fact]
    public async Task OptionsAsync_BasicAllowedForThisDevice_AnswersBasic()
    {
        var (requests, error) = await OptionsAgainstBasicOnlyCameraAsync(allowBasic: true);

        Assert.Null(error);
        Assert.Contains(requests, r => r.Contains("Authorization: Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("admin:secret-pass")), StringComparison.Ordinal));
    }

    /// <summary>A "camera" that answers every request without credentials with a Basic-only 401, and 200 otherwise.</summary>
    private static async Task<(List<string> Requests, Exception? Error)> OptionsAgainstBasicOnlyCameraAsync(bool allowBasic)
    {
        var ct = TestContext.Current.CancellationToken;
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var requests = new List<string>();
        var server = Task.Run(
            async () =>
            {
                using var socket = await listener.AcceptTcpClientAsync(ct);
                var stream = socket.GetStream();
                var buffer = new byte[8192];
                for (var i = 0; i < 3; i++)
                {
                    var read = await stream.ReadAsync(buffer, ct);
                    if (read == 0)
                    {
                        return;
                    }

                    var request = Encoding.ASCII.GetString(buffer, 0, read);
                    lock (requests)
                    {
                        requests.Add(request);
                    }

                    var cseq = request.Split("\r\n").First(l => l.StartsWith("CSeq:", StringComparison.OrdinalIgnoreCase))[5..].Trim();
                    var answer = request.Contains("Authorization:", StringComparison.OrdinalIgnoreCase)
                        ? $"RTSP/1.0 200 OK\r\nCSeq: {cseq}\r\nPublic: OPTIONS, DESCRIBE\r\n\r\n"
                        : $"RTSP/1.0 401 Unauthorized\r\nCSeq: {cseq}\r\nWWW-Authenticate: Basic realm=\"cam\"\r\n\r\n";
                    await stream.WriteAsync(Encoding.ASCII.GetBytes(answer), ct);
                }
            },
            ct);
        await using var client = new RtspClient(new Uri($"rtsp://127.0.0.1:{port}/s"), new NetworkCredential("admin", "secret-pass"), allowBasicAuth: allowBasic) { RequestTimeout = TimeSpan.FromSeconds(10) };
        await client.ConnectAsync(ct);
        Exception? error = null;
        try
        {
            await client.OptionsAsync(ct);
        }
        catch (RtspException ex)
        {
            error = ex;
        }

        await client.DisposeAsync();
        listener.Stop();
        lock (requests)
        {
            return ([.. requests], error);
        }
    }
}
