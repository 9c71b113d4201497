using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Portal.Benchmarks.Harness;

/// <summary>
/// One device request's answer as the device saw it: status, body, the time from its send to the last byte of the body,
/// and the <see cref="Stopwatch"/> timestamp of the send.
/// </summary>
public sealed record DeviceReply(HttpStatusCode Status, string Body, TimeSpan Elapsed, string? ServerTiming, long SentAt = 0);

/// <summary>
/// Devices that send each request from a thread of their own, on a blocking keep-alive socket, and time it from the
/// send to the last byte of the answer. A terminal is a machine of its own: the time its request takes is the network's
/// and the portal's. The benchmark's devices share the portal's two cores, and through <see cref="HttpClient"/> an
/// answer reaches the timer only after two thread hand-overs in this process (the socket engine's epoll thread, then the
/// thread pool), each a wait for a core when the consoles' Chromium is busy: on those cores, up to several milliseconds
/// at p99 that were counted in the portal's answer time. Here the thread blocked in <c>recv</c> is the one the kernel
/// wakes. Requests are handed to the first free thread; one that finds none waits for it (counted in
/// <see cref="QueuedForThread"/>, and that wait is not in its time, so the count must stay 0 for the times to be whole).
/// </summary>
public sealed class DirectDevices : IDisposable
{
    private const int MaxHead = 16 * 1024;

    private readonly BlockingCollection<Job> _jobs = new();
    private readonly Thread[] _threads;
    private readonly IPEndPoint _endpoint;
    private readonly string _host;
    private readonly int _nice;
    private int _niceRefused;
    private int _idle;
    private int _queued;

    /// <param name="baseUrl">The portal.</param>
    /// <param name="nice">
    /// The device threads' nice level (0 leaves them alone): a terminal is a machine of its own, so its wait for a core
    /// on the server's cores is not the portal's time (AlarmBenchmark.DefaultDeviceNice).
    /// </param>
    /// <param name="threads">How many devices may wait for an answer at once.</param>
    public DirectDevices(Uri baseUrl, int nice = 0, int threads = 32)
    {
        ArgumentNullException.ThrowIfNull(baseUrl);
        _endpoint = new IPEndPoint(IPAddress.Parse(baseUrl.Host), baseUrl.Port);
        _host = baseUrl.Authority;
        _nice = nice;
        _idle = threads;
        _threads = new Thread[threads];
        for (var i = 0; i < threads; i++)
        {
            _threads[i] = new Thread(Run) { IsBackground = true, Name = "Device " + i.ToString(CultureInfo.InvariantCulture) };
            _threads[i].Start();
        }
    }

    /// <summary>Device threads whose nice level the system refused (they run at the process's own).</summary>
    public int NiceRefused => Volatile.Read(ref _niceRefused);

    /// <summary>Requests that found every thread busy and waited for one (their wait is not in their time).</summary>
    public int QueuedForThread => Volatile.Read(ref _queued);

    /// <summary>POSTs <paramref name="body"/> to <paramref name="path"/> with <paramref name="headers"/> from a free device thread.</summary>
    public Task<DeviceReply> PostAsync(string path, IEnumerable<(string Name, string Value)> headers, byte[] body, string contentType = "application/json")
    {
        ArgumentNullException.ThrowIfNull(headers);
        ArgumentNullException.ThrowIfNull(body);
        var head = new StringBuilder();
        head.Append(CultureInfo.InvariantCulture, $"POST {path} HTTP/1.1\r\nHost: {_host}\r\nContent-Type: {contentType}\r\nContent-Length: {body.Length}\r\n");
        foreach (var (name, value) in headers)
        {
            head.Append(name).Append(": ").Append(value).Append("\r\n");
        }

        head.Append("\r\n");
        var request = new byte[Encoding.ASCII.GetByteCount(head.ToString()) + body.Length];
        var at = Encoding.ASCII.GetBytes(head.ToString(), request);
        body.CopyTo(request, at);
        var job = new Job(request, new TaskCompletionSource<DeviceReply>(TaskCreationOptions.RunContinuationsAsynchronously));
        if (Interlocked.Decrement(ref _idle) < 0)
        {
            Interlocked.Increment(ref _queued);
        }

        _jobs.Add(job);
        return job.Done.Task;
    }

    public void Dispose()
    {
        _jobs.CompleteAdding();
        foreach (var thread in _threads)
        {
            thread.Join(TimeSpan.FromSeconds(5));
        }

        _jobs.Dispose();
    }

    private void Run()
    {
        if (_nice != 0 && !Portal.Core.Threading.OsThreadPriority.TrySetCurrentThreadNice(_nice, out _))
        {
            Interlocked.Increment(ref _niceRefused);
        }

        Socket? socket = null;
        var buffer = new byte[64 * 1024];
        foreach (var job in _jobs.GetConsumingEnumerable())
        {
            try
            {
                if (socket is null)
                {
                    // Bounded: a portal that stops answering fails the request after a minute, it does not hang the run.
                    socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true, ReceiveTimeout = 60_000, SendTimeout = 60_000 };
                    socket.Connect(_endpoint);
                }

                var started = Stopwatch.GetTimestamp();
                socket.Send(job.Request);
                var (answer, keepAlive) = Read(socket, buffer);
                var elapsed = Stopwatch.GetElapsedTime(started);
                if (!keepAlive)
                {
                    socket.Dispose();
                    socket = null;
                }

                job.Done.SetResult(answer with { Elapsed = elapsed, SentAt = started });
            }
            catch (Exception ex) when (ex is SocketException or IOException or InvalidDataException)
            {
                socket?.Dispose();
                socket = null;
                job.Done.SetException(ex);
            }
            finally
            {
                Interlocked.Increment(ref _idle);
            }
        }

        socket?.Dispose();
    }

    /// <summary>Reads one HTTP/1.1 answer: status line, headers, and a body by Content-Length or chunked.</summary>
    private static (DeviceReply Answer, bool KeepAlive) Read(Socket socket, byte[] buffer)
    {
        var filled = 0;
        int headEnd;
        while ((headEnd = buffer.AsSpan(0, filled).IndexOf("\r\n\r\n"u8)) < 0)
        {
            if (filled >= MaxHead)
            {
                throw new InvalidDataException("The answer's head is longer than " + MaxHead + " bytes.");
            }

            filled += Receive(socket, buffer, filled);
        }

        var lines = Encoding.ASCII.GetString(buffer, 0, headEnd).Split("\r\n");
        var status = lines[0].Split(' ');
        if (status.Length < 2 || !status[0].StartsWith("HTTP/1.", StringComparison.Ordinal) || !int.TryParse(status[1], NumberStyles.None, CultureInfo.InvariantCulture, out var code))
        {
            throw new InvalidDataException("Not an HTTP/1.1 status line: " + lines[0]);
        }

        long? length = null;
        var chunked = false;
        var keepAlive = true;
        string? timing = null;
        foreach (var line in lines.Skip(1))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                continue;
            }

            var name = line[..colon].Trim();
            var value = line[(colon + 1)..].Trim();
            if (name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase))
            {
                length = long.Parse(value, NumberStyles.None, CultureInfo.InvariantCulture);
            }
            else if (name.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase))
            {
                chunked = value.Contains("chunked", StringComparison.OrdinalIgnoreCase);
            }
            else if (name.Equals("Connection", StringComparison.OrdinalIgnoreCase))
            {
                keepAlive = !value.Equals("close", StringComparison.OrdinalIgnoreCase);
            }
            else if (name.Equals("Server-Timing", StringComparison.OrdinalIgnoreCase))
            {
                timing = timing is null ? value : timing + ", " + value;
            }
        }

        // The body's bytes already read sit after the head; move them to the front and read the rest.
        var start = headEnd + 4;
        filled -= start;
        Buffer.BlockCopy(buffer, start, buffer, 0, filled);
        byte[] body;
        if (chunked)
        {
            body = ReadChunked(socket, buffer, ref filled);
        }
        else
        {
            var want = (int)(length ?? 0);
            if (want > buffer.Length)
            {
                throw new InvalidDataException("The answer's body is longer than " + buffer.Length + " bytes.");
            }

            while (filled < want)
            {
                filled += Receive(socket, buffer, filled);
            }

            body = buffer.AsSpan(0, want).ToArray();
        }

        return (new DeviceReply((HttpStatusCode)code, Encoding.UTF8.GetString(body), TimeSpan.Zero, timing), keepAlive && (length is not null || chunked));
    }

    private static byte[] ReadChunked(Socket socket, byte[] buffer, ref int filled)
    {
        using var body = new MemoryStream();
        while (true)
        {
            int lineEnd;
            while ((lineEnd = buffer.AsSpan(0, filled).IndexOf("\r\n"u8)) < 0)
            {
                filled += Receive(socket, buffer, filled);
            }

            var sizeText = Encoding.ASCII.GetString(buffer, 0, lineEnd).Split(';')[0].Trim();
            if (!int.TryParse(sizeText, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var size) || size < 0 || size > buffer.Length - 64)
            {
                throw new InvalidDataException("A bad chunk size: " + sizeText);
            }

            var need = lineEnd + 2 + size + 2;
            while (filled < need)
            {
                filled += Receive(socket, buffer, filled);
            }

            body.Write(buffer, lineEnd + 2, size);
            filled -= need;
            Buffer.BlockCopy(buffer, need, buffer, 0, filled);
            if (size == 0)
            {
                return body.ToArray();
            }
        }
    }

    private static int Receive(Socket socket, byte[] buffer, int at)
    {
        if (at >= buffer.Length)
        {
            throw new InvalidDataException("The answer does not fit in " + buffer.Length + " bytes.");
        }

        var n = socket.Receive(buffer, at, buffer.Length - at, SocketFlags.None);
        return n > 0 ? n : throw new IOException("The portal closed the connection mid-answer.");
    }

    private sealed record Job(byte[] Request, TaskCompletionSource<DeviceReply> Done);
}
