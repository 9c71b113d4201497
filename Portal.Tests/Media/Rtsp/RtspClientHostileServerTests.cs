using System.Net;
using System.Net.Sockets;
using System.Text;
using Portal.Media.Rtsp;
using Xunit;

namespace Portal.Tests.Media.Rtsp;

/// <summary>The client against a server that answers nonsense: it must fail cleanly and quickly, never hang.</summary>
[Trait("Category", "Integration")]
public sealed class RtspClientHostileServerTests
{
    private static async Task<Exception> OptionsAgainstAsync(byte[] answer, bool close)
    {
        var ct = TestContext.Current.CancellationToken;
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var server = Task.Run(
            async () =>
            {
                using var socket = await listener.AcceptTcpClientAsync(ct);
                var stream = socket.GetStream();
                _ = await stream.ReadAsync(new byte[4096], ct); // one request is enough to answer
                await stream.WriteAsync(answer, ct);
                if (!close)
                {
                    await Task.Delay(5000, ct);
                }
            },
            ct);
        await using var client = new RtspClient(new Uri($"rtsp://127.0.0.1:{port}/s")) { RequestTimeout = TimeSpan.FromSeconds(1) };
        await client.ConnectAsync(ct);

        var ex = await Assert.ThrowsAnyAsync<RtspException>(() => client.OptionsAsync(ct));
        await client.DisposeAsync();
        listener.Stop();
        return ex;
    }

    [Theory]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", true)]
    [InlineData("RTSP/1.0 200 OK\r\nContent-Length: 99999999999\r\n\r\n", true)]
    [InlineData("RTSP/1.0 200 OK\r\nBroken header line\r\n\r\n", true)]
    [InlineData("RTSP/1.0 200 OK\r\nCSeq: 1\r\nContent-Length: 100\r\n\r\nshort", true)]
    [InlineData("\0\0\0\0garbage", false)]
    [InlineData("RTSP/1.0 200 OK\r\nCSeq: 999\r\n\r\n", false)]
    public async Task OptionsAsync_NonsenseAnswer_ThrowsRtspExceptionQuickly(string answer, bool close)
    {
        var ex = await OptionsAgainstAsync(Encoding.UTF8.GetBytes(answer), close);

        Assert.NotNull(ex.Message);
    }

    [Fact]
    public async Task OptionsAsync_EndlessHeader_ThrowsRtspException()
    {
        var answer = Encoding.ASCII.GetBytes("RTSP/1.0 200 OK\r\nX: " + new string('a', 100_000));

        await OptionsAgainstAsync(answer, close: false);
    }
}
