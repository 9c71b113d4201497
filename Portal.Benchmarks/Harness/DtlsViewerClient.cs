using System.Collections.Concurrent;
using System.Net.Sockets;
using Org.BouncyCastle.Security;
using Org.BouncyCastle.Tls;
using Org.BouncyCastle.Tls.Crypto.Impl.BC;
using Portal.Media.WebRtc.Dtls;

namespace Portal.Benchmarks.Harness;

/// <summary>
/// The browser's half of DTLS-SRTP: a BouncyCastle DTLS 1.2 client offering use_srtp, presenting its own certificate
/// and holding the server to the fingerprint from the answer. <see cref="WebRtcViewer"/> runs it over its socket; the
/// DTLS tests run it over an in-memory <see cref="QueueDatagramTransport"/> or a bare <see cref="SocketDatagramTransport"/>.
/// </summary>
public sealed class DtlsViewerClient(DtlsCertificate certificate, string? expectedServerFingerprint, int timeoutMillis = 10_000)
    : DefaultTlsClient(new BcTlsCrypto(new SecureRandom()))
{
    private DtlsSrtpKeys? _keys;

    public DtlsCertificate Certificate => certificate;

    public string? ExpectedServerFingerprint => expectedServerFingerprint;

    /// <summary>The transport after the handshake; <see cref="DtlsTransport.Close"/> sends close_notify.</summary>
    public DtlsTransport? Transport { get; private set; }

    /// <summary>Runs the blocking handshake on its own thread and returns the SRTP keys.</summary>
    public Task<DtlsSrtpKeys> ConnectAsync(DatagramTransport transport, CancellationToken cancellationToken = default) =>
        Task.Factory.StartNew(
            () =>
            {
                Transport = new DtlsClientProtocol().Connect(this, transport); // application data unused; SRTP follows on the same transport
                return _keys ?? throw new IOException("DTLS handshake completed without SRTP keys");
            },
            cancellationToken,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default);

    /// <inheritdoc />
    public override void NotifyHandshakeComplete()
    {
        base.NotifyHandshakeComplete();
        _keys = DtlsSrtpKeys.FromKeyingMaterial(m_context.ExportKeyingMaterial(DtlsSrtpKeys.ExporterLabel, null, DtlsSrtpKeys.MaterialLength));
    }

    /// <inheritdoc />
    public override int GetHandshakeTimeoutMillis() => timeoutMillis;

    /// <inheritdoc />
    public override IDictionary<int, byte[]> GetClientExtensions()
    {
        var extensions = TlsExtensionsUtilities.EnsureExtensionsInitialised(base.GetClientExtensions());
        TlsSrtpUtilities.AddUseSrtpExtension(extensions, new UseSrtpData([SrtpProtectionProfile.SRTP_AES128_CM_HMAC_SHA1_80], TlsUtilities.EmptyBytes));
        return extensions;
    }

    /// <inheritdoc />
    public override TlsAuthentication GetAuthentication() => new Authentication(this);

    /// <inheritdoc />
    protected override ProtocolVersion[] GetSupportedVersions() => ProtocolVersion.DTLSv12.Only();

    private sealed class Authentication(DtlsViewerClient owner) : TlsAuthentication
    {
        public void NotifyServerCertificate(TlsServerCertificate serverCertificate)
        {
            var der = serverCertificate.Certificate.GetCertificateAt(0).GetEncoded();
            if (owner.ExpectedServerFingerprint is { } expected && !DtlsCertificate.MatchesFingerprint(expected, der))
            {
                throw new TlsFatalAlert(AlertDescription.bad_certificate, "server certificate does not match the answer's fingerprint");
            }
        }

        public TlsCredentials GetClientCredentials(CertificateRequest certificateRequest) =>
            owner.Certificate.CreateSigner(owner.m_context, (BcTlsCrypto)owner.Crypto);
    }
}

/// <summary>An in-memory datagram pipe end, for handshakes without sockets.</summary>
public sealed class QueueDatagramTransport(Action<byte[]> send) : DatagramTransport, IDisposable
{
    private readonly BlockingCollection<byte[]> _incoming = [];

    public void Deliver(byte[] datagram) => _incoming.Add(datagram);

    public int GetReceiveLimit() => 1500;

    public int GetSendLimit() => 1200;

    public int Receive(byte[] buf, int off, int len, int waitMillis) => Receive(buf.AsSpan(off, len), waitMillis);

    public int Receive(Span<byte> buffer, int waitMillis)
    {
        if (!_incoming.TryTake(out var datagram, waitMillis))
        {
            return -1;
        }

        datagram.AsSpan(0, Math.Min(datagram.Length, buffer.Length)).CopyTo(buffer);
        return Math.Min(datagram.Length, buffer.Length);
    }

    public void Send(byte[] buf, int off, int len) => send(buf.AsSpan(off, len).ToArray());

    public void Send(ReadOnlySpan<byte> buffer) => send(buffer.ToArray());

    public void Close()
    {
    }

    public void Dispose() => _incoming.Dispose();
}

/// <summary>BouncyCastle's client transport over a connected UDP socket that carries nothing but DTLS.</summary>
public sealed class SocketDatagramTransport(Socket socket) : DatagramTransport
{
    public int GetReceiveLimit() => 1500;

    public int GetSendLimit() => 1200;

    public int Receive(byte[] buf, int off, int len, int waitMillis) => Receive(buf.AsSpan(off, len), waitMillis);

    public int Receive(Span<byte> buffer, int waitMillis) =>
        socket.Poll(TimeSpan.FromMilliseconds(waitMillis), SelectMode.SelectRead) ? socket.Receive(buffer) : -1;

    public void Send(byte[] buf, int off, int len) => socket.Send(buf, off, len, SocketFlags.None);

    public void Send(ReadOnlySpan<byte> buffer) => socket.Send(buffer);

    public void Close()
    {
    }
}
