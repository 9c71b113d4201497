using System.Net;
using System.Net.Sockets;
using System.Text;
using Portal.Media.Onvif;
using Portal.Simulator.Cameras;
using Xunit;

namespace Portal.Tests.Media.Onvif;

/// <summary>
/// The health check's cheap GetSystemDateAndTime (issue #12): a real camera's answer passes; a fault, an error status,
/// garbage and a body past the cap (however framed) each give a reason, never an exception or an endless read.
/// </summary>
[Trait("Category", "Integration")]
public sealed class OnvifProbeTests
{
    [Fact]
    public async Task GetSystemDateAndTime_SimulatedCamera_Answers()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var camera = await SimulatedCamera.StartAsync(new SimulatedCameraOptions { Username = "admin", Password = "pw" }, cancellationToken: ct);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };

        // Twice on one client: the second goes over the kept-alive connection.
        Assert.Null(await OnvifProbe.GetSystemDateAndTimeAsync(http, camera.Onvif.DeviceServiceUri, ct));
        Assert.Null(await OnvifProbe.GetSystemDateAndTimeAsync(http, camera.Onvif.DeviceServiceUri, ct));
    }

    [Theory]
    [InlineData("fault", "fault")]
    [InlineData("error", "unexpected answer (HTTP 500)")]
    [InlineData("garbage", "unexpected answer (HTTP 200)")]
    [InlineData("chunked", "too large")]
    [InlineData("close", "too large")]
    [InlineData("length", "too large")]
    public async Task GetSystemDateAndTime_HostileAnswer_Reason(string answer, string expected)
    {
        var ct = TestContext.Current.CancellationToken;
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var device = Task.Run(async () => await AnswerAsync(listener, answer, ct), ct);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };

        var reason = await OnvifProbe.GetSystemDateAndTimeAsync(http, new Uri($"http://127.0.0.1:{port}/onvif/device_service"), ct);

        Assert.NotNull(reason);
        Assert.Contains(expected, reason, StringComparison.Ordinal);
        await device;
        listener.Stop();
    }

    private static async Task AnswerAsync(TcpListener listener, string answer, CancellationToken ct)
    {
        using var socket = await listener.AcceptTcpClientAsync(ct);
        var stream = socket.GetStream();
        _ = await stream.ReadAsync(new byte[8192], ct);
        static byte[] Whole(string status, string body) =>
            Encoding.ASCII.GetBytes($"HTTP/1.1 {status}\r\nContent-Type: application/soap+xml\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n{body}");
        try
        {
            switch (answer)
            {
                case "fault":
                    await stream.WriteAsync(Whole("400 Bad Request", "<s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\"><s:Body><s:Fault><s:Code><s:Value>s:Sender</s:Value></s:Code></s:Fault></s:Body></s:Envelope>"), ct);
                    break;
                case "error":
                    await stream.WriteAsync(Whole("500 Internal Server Error", "oops"), ct);
                    break;
                case "garbage":
                    await stream.WriteAsync(Whole("200 OK", "\u0001\u0002 not xml at all"), ct);
                    break;
                case "length":
                    await stream.WriteAsync(Encoding.ASCII.GetBytes("HTTP/1.1 200 OK\r\nContent-Length: 104857600\r\n\r\n"), ct);
                    break;
                default:
                    var chunked = answer == "chunked";
                    await stream.WriteAsync(Encoding.ASCII.GetBytes(chunked
                        ? "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                        : "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n"), ct);
                    var block = Encoding.ASCII.GetBytes(new string('x', 16 * 1024));
                    var frame = chunked ? [.. Encoding.ASCII.GetBytes($"{block.Length:X}\r\n"), .. block, .. "\r\n"u8] : block;
                    for (var sent = 0L; sent < 64L * 1024 * 1024; sent += block.Length)
                    {
                        await stream.WriteAsync(frame, ct); // the probe hangs up at its cap long before this ends
                    }

                    break;
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException)
        {
            // the probe hung up: what a cap does
        }
    }
}
