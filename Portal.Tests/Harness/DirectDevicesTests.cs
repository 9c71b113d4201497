using System.Net;
using System.Net.Sockets;
using System.Text;
using Xunit;

namespace Portal.Tests.Harness;

/// <summary>
/// The alarm benchmark's device threads (DirectDevices) against a server on 127.0.0.1 that sends canned answers:
/// they send the request whole, read answers by Content-Length and chunked on one kept connection, and refuse a broken
/// answer with a clear error, then go on with a new connection.
/// </summary>
public sealed class DirectDevicesTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Answers_ByLengthAndChunked_OnOneKeptConnection_RequestSentWhole()
    {
        await using var server = new CannedServer(
            closeAfterFirst: false,
            "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nServer-Timing: total;dur=1.5\r\nContent-Length: 13\r\n\r\n{\"alarmId\":7}",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{\"a\"\r\n3\r\n:1}\r\n0\r\n\r\n");
        using var devices = new DirectDevices(server.Url, threads: 1);

        var first = await devices.PostAsync("/api/device/alarms", [("X-Device-Serial", "ATS00000001")], "{\"event\":\"alarm\"}"u8.ToArray()).WaitAsync(Limit);
        var second = await devices.PostAsync("/alarm", [], "{}"u8.ToArray()).WaitAsync(Limit);

        Assert.Equal(HttpStatusCode.Created, first.Status);
        Assert.Equal("{\"alarmId\":7}", first.Body);
        Assert.Equal("total;dur=1.5", first.ServerTiming);
        Assert.True(first.Elapsed > TimeSpan.Zero);
        Assert.Equal(HttpStatusCode.OK, second.Status);
        Assert.Equal("{\"a\":1}", second.Body);
        Assert.Null(second.ServerTiming);
        Assert.Equal(1, server.Connections);
        Assert.Equal(2, server.Requests.Count);
        Assert.StartsWith("POST /api/device/alarms HTTP/1.1\r\n", server.Requests[0], StringComparison.Ordinal);
        Assert.Contains("\r\nX-Device-Serial: ATS00000001\r\n", server.Requests[0], StringComparison.Ordinal);
        Assert.EndsWith("\r\n\r\n{\"event\":\"alarm\"}", server.Requests[0], StringComparison.Ordinal);
        Assert.Equal(0, devices.QueuedForThread);
    }

    [Theory]
    [InlineData("garbage\r\n\r\n", typeof(InvalidDataException))]
    [InlineData("HTTP/1.1 abc OK\r\n\r\n", typeof(InvalidDataException))]
    [InlineData("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", typeof(InvalidDataException))]
    [InlineData("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-5\r\n", typeof(InvalidDataException))]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 99999999\r\n\r\n", typeof(InvalidDataException))]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", typeof(IOException))]
    public async Task BrokenAnswer_Refused_ThenANewConnectionServes(string broken, Type error)
    {
        await using var server = new CannedServer(closeAfterFirst: true, broken, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        using var devices = new DirectDevices(server.Url, threads: 1);

        var refused = await Record.ExceptionAsync(() => devices.PostAsync("/alarm", [], "{}"u8.ToArray()).WaitAsync(Limit));
        var after = await devices.PostAsync("/alarm", [], "{}"u8.ToArray()).WaitAsync(Limit);

        Assert.IsType(error, refused);
        Assert.Equal("ok", after.Body);
        Assert.Equal(2, server.Connections);
    }

    [Fact]
    public async Task EndlessHead_Refused_NotHung()
    {
        await using var server = new CannedServer(closeAfterFirst: true, "HTTP/1.1 200 OK\r\n" + string.Concat(Enumerable.Repeat("X-Padding: " + new string('a', 100) + "\r\n", 400)));
        using var devices = new DirectDevices(server.Url, threads: 1);

        var refused = await Record.ExceptionAsync(() => devices.PostAsync("/alarm", [], "{}"u8.ToArray()).WaitAsync(Limit));

        Assert.IsType<InvalidDataException>(refused);
    }

    /// <summary>
    /// Answers the n-th request (over all connections) with the n-th canned answer (the last one for every request
    /// after); with <c>closeAfterFirst</c>, closes the connection after the first answer (a broken answer leaves the
    /// client nothing more to read on it).
    /// </summary>
    private sealed class CannedServer : IAsyncDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly string[] _answers;
        private readonly bool _closeAfterFirst;
        private readonly Task _loop;
        private readonly CancellationTokenSource _stop = new();
        private int _connections;

        public CannedServer(bool closeAfterFirst, params string[] answers)
        {
            _closeAfterFirst = closeAfterFirst;
            _answers = answers;
            _listener.Start();
            Url = new Uri("http://127.0.0.1:" + ((IPEndPoint)_listener.LocalEndpoint).Port);
            _loop = Task.Run(LoopAsync);
        }

        public Uri Url { get; }

        public int Connections => Volatile.Read(ref _connections);

        public List<string> Requests { get; } = [];

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            _listener.Stop();
            await Record.ExceptionAsync(() => _loop);
            _stop.Dispose();
        }

        private async Task LoopAsync()
        {
            while (!_stop.IsCancellationRequested)
            {
                using var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                Interlocked.Increment(ref _connections);
                var stream = client.GetStream();
                var buffer = new byte[64 * 1024];
                var filled = 0;
                while (true)
                {
                    // One request: the head, then Content-Length bytes of body.
                    int headEnd;
                    while ((headEnd = buffer.AsSpan(0, filled).IndexOf("\r\n\r\n"u8)) < 0)
                    {
                        var n = await stream.ReadAsync(buffer.AsMemory(filled), _stop.Token);
                        if (n == 0)
                        {
                            goto NextConnection;
                        }

                        filled += n;
                    }

                    var head = Encoding.ASCII.GetString(buffer, 0, headEnd);
                    var length = int.Parse(head.Split("\r\n").First(l => l.StartsWith("Content-Length:", StringComparison.Ordinal))["Content-Length:".Length..].Trim(), System.Globalization.CultureInfo.InvariantCulture);
                    while (filled < headEnd + 4 + length)
                    {
                        filled += await stream.ReadAsync(buffer.AsMemory(filled), _stop.Token);
                    }

                    Requests.Add(Encoding.UTF8.GetString(buffer, 0, headEnd + 4 + length));
                    filled = 0;
                    var answer = _answers[Math.Min(Requests.Count, _answers.Length) - 1];
                    await stream.WriteAsync(Encoding.UTF8.GetBytes(answer), _stop.Token);
                    if (_closeAfterFirst && Requests.Count == 1)
                    {
                        goto NextConnection;
                    }
                }

            NextConnection:;
            }
        }

    }
}
