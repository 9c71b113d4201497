using Org.BouncyCastle.Security;
using Org.BouncyCastle.Tls;
using Org.BouncyCastle.Tls.Crypto.Impl.BC;

namespace Portal.Media.WebRtc.Dtls;

/// <summary>
/// One DTLS-SRTP server handshake over the shared socket: feed it the peer's DTLS datagrams, await
/// <see cref="HandshakeAsync"/> for the SRTP keys.
/// </summary>
/// <remarks>
/// BouncyCastle's DTLS API is blocking, so the handshake runs on a dedicated thread for its few round trips.
/// After it, DTLS only carries a retransmitted final flight or an alert; those are processed on demand by a
/// thread-pool pump instead of keeping a thread per peer.
/// </remarks>
public sealed class DtlsServerSession : IDisposable
{
    private readonly DtlsDatagramTransport _transport;
    private readonly DtlsSrtpServer _server;
    private readonly byte[] _pumpBuffer = new byte[DtlsDatagramTransport.Mtu];
    private readonly Action<Exception>? _failed;
    private DtlsTransport? _dtls;
    private int _pumping;
    private int _disposed;

    /// <param name="certificate">Our certificate.</param>
    /// <param name="remoteFingerprint">The browser's certificate fingerprint from its offer; null accepts any (tests).</param>
    /// <param name="send">Sends one datagram to the browser.</param>
    /// <param name="handshakeTimeout">Longest the handshake may take.</param>
    /// <param name="failed">
    /// Told when processing a datagram after the handshake failed in an unexpected way (anything but the closed
    /// transport or a TLS alert): the session has stopped taking datagrams, and the owner should drop it.
    /// </param>
    public DtlsServerSession(DtlsCertificate certificate, string? remoteFingerprint, Action<byte[], int> send, TimeSpan handshakeTimeout, Action<Exception>? failed = null)
    {
        ArgumentNullException.ThrowIfNull(send);
        _failed = failed;
        _transport = new DtlsDatagramTransport(span =>
        {
            var copy = span.ToArray();
            send(copy, copy.Length);
        });
        _server = new DtlsSrtpServer(new BcTlsCrypto(new SecureRandom()), certificate, remoteFingerprint, (int)handshakeTimeout.TotalMilliseconds);
    }

    public bool IsConnected => Volatile.Read(ref _dtls) is not null;

    /// <summary>Fault injection for tests: runs in the pump before each record is processed (issue #14's loop tests).</summary>
    internal Action? BeforePumpReceive { get; set; }

    /// <summary>Hands one received DTLS datagram to the session; malformed or excess datagrams are dropped.</summary>
    public bool OnDatagram(ReadOnlySpan<byte> datagram)
    {
        if (!DtlsRecordHeader.TryValidateDatagram(datagram, out _, out _) || !_transport.Enqueue(datagram))
        {
            return false;
        }

        if (IsConnected && Interlocked.CompareExchange(ref _pumping, 1, 0) == 0)
        {
            ThreadPool.UnsafeQueueUserWorkItem(static s => s.Pump(), this, preferLocal: false);
        }

        return true;
    }

    /// <summary>Runs the server handshake; completes with the SRTP keys, or faults (TlsFatalAlert, IOException, timeout).</summary>
    public Task<DtlsSrtpKeys> HandshakeAsync(CancellationToken cancellationToken) =>
        Task.Factory.StartNew(
            () =>
            {
                using var registration = cancellationToken.Register(_transport.Close);
                var dtls = new DtlsServerProtocol().Accept(_server, _transport);
                var keys = _server.SrtpKeys ?? throw new IOException("DTLS handshake completed without SRTP keys");
                Volatile.Write(ref _dtls, dtls);
                return keys;
            },
            cancellationToken,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default);

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            _dtls?.Close(); // sends close_notify
        }
        catch (IOException)
        {
            // The socket may already be gone; the peer learns from consent expiry instead.
        }

        _transport.Dispose();
    }

    private void Pump()
    {
        try
        {
            while (Volatile.Read(ref _disposed) == 0 && _transport.Pending > 0 && _dtls is { } dtls)
            {
                // Application data is not used (no data channels); Receive drives retransmission and alerts.
                BeforePumpReceive?.Invoke();
                dtls.Receive(_pumpBuffer, 0, _pumpBuffer.Length, 1);
            }
        }
        catch (IOException)
        {
            // close_notify or a fatal alert from the peer: media stops, consent expiry cleans up.
        }
        catch (ObjectDisposedException)
        {
            // The session closed while this pump was queued (seen in the media benchmark: it ended the process).
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Anything else BouncyCastle (or the send callback under it) throws would, on this thread-pool thread, end
            // the whole portal (issue #14). Drop this one session instead: no more datagrams, the owner is told.
            _transport.Close();
            try
            {
                _failed?.Invoke(ex);
            }
            catch (Exception callbackFailure) when (callbackFailure is not OutOfMemoryException)
            {
                // The owner's handler must not undo the isolation either.
            }
        }
        finally
        {
            Volatile.Write(ref _pumping, 0);
        }
    }
}
