using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Portal.Simulator.Terminals;

namespace Portal.Benchmarks.Harness;

/// <summary>
/// Hostile traffic for the device API (issue 14): unsigned requests and requests signed with a wrong key under a real
/// terminal's serial, in turn, pipelined over a few keep-alive HTTP/1.1 connections from one source address (bind a
/// second loopback address such as 127.0.0.2, so the real terminal on 127.0.0.1 is another source). Raw sockets and
/// plain pipelined HTTP/1.1 keep the sender cheap, so the flood measures the portal rather than the client. It sends at the
/// rate asked while <see cref="Sending"/> is true, and counts the answers by status.
/// </summary>
public sealed class DeviceApiFlood : IAsyncDisposable
{
    private const int MaxOutstandingPerConnection = 4096;

    private static readonly byte[] StatusLine = "HTTP/1.1 "u8.ToArray();

    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _connections = [];
    private readonly long[] _answersByStatus = new long[600];
    private long _sent;
    private long _skipped;
    private volatile bool _sending;

    private DeviceApiFlood()
    {
    }

    /// <summary>Requests written to the wire.</summary>
    public long Sent => Interlocked.Read(ref _sent);

    /// <summary>Requests not sent because a connection already had <see cref="MaxOutstandingPerConnection"/> unanswered.</summary>
    public long Skipped => Interlocked.Read(ref _skipped);

    /// <summary>How each connection ended while the flood ran: closed by the portal, or failed (diagnostics).</summary>
    public string Ends => string.Join(", ", _ends);

    private readonly System.Collections.Concurrent.ConcurrentBag<string> _ends = [];

    /// <summary>Answers received, of any status.</summary>
    public long Answered => _answersByStatus.Sum();

    /// <summary>While false the connections stay open and idle.</summary>
    public bool Sending
    {
        get => _sending;
        set => _sending = value;
    }

    public long AnswersWith(int status) => Interlocked.Read(ref _answersByStatus[status]);

    /// <summary>Connects <paramref name="connections"/> sockets from <paramref name="source"/> to the portal; sends nothing until <see cref="Sending"/>.</summary>
    public static async Task<DeviceApiFlood> StartAsync(IPEndPoint portal, IPAddress source, string spoofedSerial, int ratePerSecond, int connections = 8, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(portal);
        var flood = new DeviceApiFlood();
        for (var i = 0; i < connections; i++)
        {
            var socket = new Socket(portal.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            socket.Bind(new IPEndPoint(source, 0));
            await socket.ConnectAsync(portal, ct).ConfigureAwait(false);
            var outstanding = new Outstanding();
            flood._connections.Add(flood.SendAsync(socket, outstanding, spoofedSerial, i, (double)ratePerSecond / connections, portal));
            flood._connections.Add(flood.ReadAsync(socket, outstanding));
        }

        return flood;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await Task.WhenAll(_connections).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }

        _stop.Dispose();
    }

    private async Task SendAsync(Socket socket, Outstanding outstanding, string serial, int connection, double perSecond, IPEndPoint portal)
    {
        using var owner = socket;
        var host = portal.ToString();
        var clock = Stopwatch.StartNew();
        double due = 0;
        var last = clock.Elapsed;
        var sequence = 0L;
        var buffer = new MemoryStream();
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                await Task.Delay(5, _stop.Token).ConfigureAwait(false);
                var now = clock.Elapsed;
                due = _sending ? due + (now - last).TotalSeconds * perSecond : 0;
                last = now;
                var count = (int)due;
                if (count == 0)
                {
                    continue;
                }

                due -= count;
                buffer.SetLength(0);
                var written = 0;
                for (var i = 0; i < count; i++)
                {
                    if (Interlocked.Read(ref outstanding.Count) >= MaxOutstandingPerConnection)
                    {
                        Interlocked.Add(ref _skipped, count - i);
                        break;
                    }

                    Interlocked.Increment(ref outstanding.Count);
                    var request = ++sequence % 2 == 0 ? Unsigned(host) : BadlySigned(host, serial, connection, sequence);
                    buffer.Write(request);
                    written++;
                }

                if (written > 0)
                {
                    // Counted as sent before the send completes: the answers may be read first, and a count taken
                    // meanwhile must not show them all answered while these are on their way (the flood test failed so).
                    Interlocked.Add(ref _sent, written);
                    await socket.SendAsync(buffer.GetBuffer().AsMemory(0, (int)buffer.Length), SocketFlags.None, _stop.Token).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
    }

    /// <summary>Counts answers by finding each status line; the portal's answers here are small problem documents.</summary>
    private async Task ReadAsync(Socket socket, Outstanding outstanding)
    {
        var buffer = new byte[64 * 1024];
        var carry = 0;
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                var read = await socket.ReceiveAsync(buffer.AsMemory(carry), SocketFlags.None, _stop.Token).ConfigureAwait(false);
                if (read == 0)
                {
                    _ends.Add(FormattableString.Invariant($"closed by the portal with {Interlocked.Read(ref outstanding.Count)} unanswered"));
                    return;
                }

                var span = buffer.AsSpan(0, carry + read);
                var at = 0;
                int found;
                while ((found = span[at..].IndexOf(StatusLine)) >= 0 && at + found + StatusLine.Length + 3 <= span.Length)
                {
                    var code = span.Slice(at + found + StatusLine.Length, 3);
                    if (int.TryParse(code, NumberStyles.None, CultureInfo.InvariantCulture, out var status) && status < _answersByStatus.Length)
                    {
                        Interlocked.Increment(ref _answersByStatus[status]);
                        Interlocked.Decrement(ref outstanding.Count);
                    }

                    at += found + StatusLine.Length + 3;
                }

                // Keep the tail that might hold the start of a status line cut by this read.
                carry = Math.Min(span.Length - at, StatusLine.Length + 2);
                span[^carry..].CopyTo(buffer);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            if (!_stop.IsCancellationRequested)
            {
                _ends.Add($"{ex.GetType().Name} with {Interlocked.Read(ref outstanding.Count)} unanswered");
            }
        }
    }

    private static byte[] Unsigned(string host) => Encoding.ASCII.GetBytes(
        $"POST {SignedAlarmClient.AlarmPath} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{{}}");

    private static byte[] BadlySigned(string host, string serial, int connection, long sequence)
    {
        var timestamp = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var nonce = FormattableString.Invariant($"flood-{connection}-{sequence}");
        var signature = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
        return Encoding.ASCII.GetBytes(
            $"POST {SignedAlarmClient.AlarmPath} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: 2\r\n"
            + $"X-Device-Serial: {serial}\r\nX-Timestamp: {timestamp}\r\nX-Nonce: {nonce}\r\nX-Signature: {signature}\r\n\r\n{{}}");
    }

    private sealed class Outstanding
    {
        public long Count;
    }
}
