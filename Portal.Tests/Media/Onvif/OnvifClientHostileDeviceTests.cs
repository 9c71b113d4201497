using System.Net;
using System.Net.Sockets;
using System.Text;
using Portal.Media.Onvif;
using Xunit;

namespace Portal.Tests.Media.Onvif;

/// <summary>
/// Issue #14: an ONVIF device (or something posing as one) that answers without Content-Length, chunked or until the
/// connection closes, must not make the client read without end: it is cut off at the cap with a clear error.
/// </summary>
[Trait("Category", "Integration")]
public sealed class OnvifClientHostileDeviceTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task GetSystemDateAndTime_EndlessBodyWithoutContentLength_RefusedAtTheCap(bool chunked)
    {
        var ct = TestContext.Current.CancellationToken;
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        long written = 0;
        var device = Task.Run(
            async () =>
            {
                using var socket = await listener.AcceptTcpClientAsync(ct);
                var stream = socket.GetStream();
                _ = await stream.ReadAsync(new byte[8192], ct);
                var head = chunked
                    ? "HTTP/1.1 200 OK\r\nContent-Type: application/soap+xml\r\nTransfer-Encoding: chunked\r\n\r\n"
                    : "HTTP/1.1 200 OK\r\nContent-Type: application/soap+xml\r\nConnection: close\r\n\r\n";
                await stream.WriteAsync(Encoding.ASCII.GetBytes(head), ct);
                var block = Encoding.ASCII.GetBytes(new string('x', 64 * 1024));
                var frame = chunked ? Encoding.ASCII.GetBytes($"{block.Length:X}\r\n").Concat(block).Concat("\r\n"u8.ToArray()).ToArray() : block;
                try
                {
                    while (Interlocked.Read(ref written) < 64L * 1024 * 1024)
                    {
                        await stream.WriteAsync(frame, ct);
                        Interlocked.Add(ref written, block.Length);
                    }
                }
                catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException)
                {
                    // the client hung up: what we want
                }
            },
            ct);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
        var client = new OnvifClient(http, new Uri($"http://127.0.0.1:{port}/onvif/device_service"), "admin", "pw");

        var error = await Assert.ThrowsAsync<OnvifException>(() => client.GetSystemDateAndTimeAsync(ct));

        Assert.Contains("too large", error.Message, StringComparison.Ordinal);
        await device;
        Assert.True(Interlocked.Read(ref written) < 48L * 1024 * 1024, $"{Interlocked.Read(ref written)} bytes were sent before the client stopped reading");
        listener.Stop();
    }
}
