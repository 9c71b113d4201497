using System.Collections.Concurrent;
using Org.BouncyCastle.Tls;

namespace Portal.Media.WebRtc.Dtls;

/// <summary>
/// Adapts the shared UDP socket to BouncyCastle's blocking <see cref="DatagramTransport"/>: the endpoint's receive
/// loop pushes this peer's DTLS datagrams in, and sends go straight out through a callback.
/// </summary>
/// <remarks>
/// BouncyCastle's DTLS API blocks a thread in <c>Receive</c>; the queue is bounded and drops when full, so a
/// flood from one address cannot grow memory.
/// </remarks>
internal sealed class DtlsDatagramTransport(DtlsDatagramTransport.SendCallback send) : DatagramTransport, IDisposable
{
    /// <summary>Browsers keep DTLS records under 1,200 bytes; 1,500 covers any path MTU we see.</summary>
    public const int Mtu = 1500;

    private const int QueueCapacity = 64;

    private readonly BlockingCollection<byte[]> _incoming = new(new ConcurrentQueue<byte[]>(), QueueCapacity);
    private volatile bool _closed;

    public delegate void SendCallback(ReadOnlySpan<byte> datagram);

    /// <summary>Number of queued datagrams (0 once closed); for tests and the post-handshake pump.</summary>
    public int Pending
    {
        get
        {
            if (_closed)
            {
                return 0;
            }

            try
            {
                return _incoming.Count;
            }
            catch (ObjectDisposedException)
            {
                return 0; // disposed between the check and the read: a pump still queued must just stop
            }
        }
    }

    /// <summary>Queues one datagram; returns false when closed or full (the datagram is dropped, DTLS retransmits).</summary>
    public bool Enqueue(ReadOnlySpan<byte> datagram)
    {
        if (_closed || datagram.Length > Mtu)
        {
            return false;
        }

        try
        {
            return _incoming.TryAdd(datagram.ToArray());
        }
        catch (InvalidOperationException)
        {
            return false; // completed concurrently
        }
    }

    public int GetReceiveLimit() => Mtu;

    public int GetSendLimit() => 1200;

    public int Receive(byte[] buf, int off, int len, int waitMillis) => Receive(buf.AsSpan(off, len), waitMillis);

    public int Receive(Span<byte> buffer, int waitMillis)
    {
        if (_closed)
        {
            throw new IOException("DTLS transport closed");
        }

        try
        {
            if (!_incoming.TryTake(out var datagram, Math.Max(0, waitMillis)))
            {
                return _closed ? throw new IOException("DTLS transport closed") : -1;
            }

            var length = Math.Min(datagram.Length, buffer.Length);
            datagram.AsSpan(0, length).CopyTo(buffer);
            return length;
        }
        catch (ObjectDisposedException)
        {
            throw new IOException("DTLS transport closed");
        }
    }

    public void Send(byte[] buf, int off, int len) => Send(buf.AsSpan(off, len));

    public void Send(ReadOnlySpan<byte> buffer)
    {
        if (!_closed)
        {
            send(buffer);
        }
    }

    public void Close()
    {
        _closed = true;
        try
        {
            _incoming.CompleteAdding();
        }
        catch (ObjectDisposedException)
        {
        }
    }

    public void Dispose()
    {
        Close();
        _incoming.Dispose();
    }
}
