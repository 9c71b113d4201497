using Portal.Media.WebRtc.Dtls;
using Portal.Media.WebRtc.Srtp;
using Xunit;

namespace Portal.Tests.Media.WebRtc.Dtls;

public class DtlsServerSessionTests
{
    private static readonly DtlsCertificate ServerCertificate = DtlsCertificate.Generate();
    private static readonly DtlsCertificate ClientCertificate = DtlsCertificate.Generate();

    [Fact(Timeout = 30_000)]
    public async Task HandshakeAsync_BouncyCastleClient_BothSidesExportSameSrtpKeys()
    {
        using var pipe = new Pipe(ClientCertificate.Fingerprint, TimeSpan.FromSeconds(10));
        var client = new DtlsViewerClient(ClientCertificate, ServerCertificate.Fingerprint);

        var serverKeys = pipe.Server.HandshakeAsync(TestContext.Current.CancellationToken);
        var clientKeys = await client.ConnectAsync(pipe.Client);

        var keys = await serverKeys;
        Assert.Equal(clientKeys, keys, DtlsSrtpKeysComparer.Instance);
        Assert.True(pipe.Server.IsConnected);

        // And the keys work: what the client protects, the server unprotects.
        using var clientOut = clientKeys.CreateClientContext();
        using var serverIn = keys.CreateClientContext();
        var packet = new byte[12 + 4 + SrtpContext.AuthTagLength];
        packet[0] = 0x80;
        Assert.True(clientOut.TryProtectRtp(packet, 16, out var length, out _));
        Assert.True(serverIn.TryUnprotectRtp(packet.AsSpan(0, length), out _, out var error), error);
    }

    [Fact(Timeout = 30_000)]
    public async Task HandshakeAsync_ClientCertificateNotInOffer_Fails()
    {
        var stranger = DtlsCertificate.Generate();
        using var pipe = new Pipe(stranger.Fingerprint, TimeSpan.FromSeconds(10));
        var client = new DtlsViewerClient(ClientCertificate, ServerCertificate.Fingerprint);

        var server = pipe.Server.HandshakeAsync(TestContext.Current.CancellationToken);
        await Assert.ThrowsAnyAsync<Exception>(() => client.ConnectAsync(pipe.Client));
        await Assert.ThrowsAnyAsync<IOException>(() => server);
    }

    [Fact(Timeout = 30_000)]
    public async Task HandshakeAsync_FuzzedRecords_FailsCleanlyWithinTimeout()
    {
        using var pipe = new Pipe(ClientCertificate.Fingerprint, TimeSpan.FromSeconds(2));
        var handshake = pipe.Server.HandshakeAsync(TestContext.Current.CancellationToken);
        var seed = new byte[] { 22, 0xFE, 0xFD, 0, 0, 0, 0, 0, 0, 0, 0, 0, 12, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
        foreach (var input in MediaFuzz.Inputs(6347, [seed], iterations: 2_000))
        {
            pipe.Server.OnDatagram(input);
        }

        await Assert.ThrowsAnyAsync<IOException>(() => handshake);
    }

    [Fact]
    public void OnDatagram_NotDtls_IsDropped()
    {
        using var pipe = new Pipe(null, TimeSpan.FromSeconds(1));

        Assert.False(pipe.Server.OnDatagram([0x80, 0, 0, 1]));
        Assert.False(pipe.Server.OnDatagram(new byte[13]));
        Assert.False(pipe.Server.OnDatagram([]));
    }

    [Fact]
    public void Dispose_BeforeHandshake_DoesNotThrow()
    {
        var pipe = new Pipe(null, TimeSpan.FromSeconds(1));

        pipe.Dispose();
        pipe.Dispose();
    }

    [Fact]
    public void Transport_Disposed_HasNothingPending()
    {
        // A pump queued before the session closed reads Pending afterwards: it must see 0, not throw on a
        // thread-pool thread (which ended the whole portal in the media benchmark).
        var transport = new DtlsDatagramTransport(_ => { });
        Assert.True(transport.Enqueue(new byte[20]));
        Assert.Equal(1, transport.Pending);

        transport.Dispose();

        Assert.Equal(0, transport.Pending);
        Assert.False(transport.Enqueue(new byte[20]));
        Assert.Throws<IOException>(() => transport.Receive(new byte[64], 0, 64, 0));
    }

    [Fact(Timeout = 60_000)]
    public async Task Dispose_WhileRecordsArriveAfterHandshake_StopsTakingRecords()
    {
        // Records keep arriving from the browser while the session is closed under them. A smoke test for the
        // race that once ended the process (a pump queued just before the close); it hits that window only
        // sometimes, so Transport_Disposed_HasNothingPending pins the cause deterministically.
        var record = new byte[] { 23, 0xFE, 0xFD, 0, 1, 0, 0, 0, 0, 0, 9, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8 };
        for (var i = 0; i < 5; i++)
        {
            var pipe = new Pipe(ClientCertificate.Fingerprint, TimeSpan.FromSeconds(10));
            var client = new DtlsViewerClient(ClientCertificate, ServerCertificate.Fingerprint);
            var handshake = pipe.Server.HandshakeAsync(TestContext.Current.CancellationToken);
            await client.ConnectAsync(pipe.Client);
            await handshake;

            using var stop = new CancellationTokenSource();
            var sender = Task.Run(() =>
            {
                while (!stop.IsCancellationRequested)
                {
                    pipe.Server.OnDatagram(record);
                }
            });
            await Task.Delay(20, TestContext.Current.CancellationToken);
            pipe.Dispose();
            await Task.Delay(50, TestContext.Current.CancellationToken);
            await stop.CancelAsync();
            await sender;
            Assert.False(pipe.Server.OnDatagram(record));
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task Pump_UnexpectedExceptionAfterHandshake_DropsOnlyThisSessionAndTellsOwner()
    {
        // Issue #14: the post-handshake pump runs on the thread pool, where an exception it does not catch ends the
        // portal. Here processing a record throws something unexpected (as a BouncyCastle bug would): the session must
        // stop taking datagrams and tell its owner, and the process must carry on.
        var failures = new TaskCompletionSource<Exception>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var pipe = new Pipe(ClientCertificate.Fingerprint, TimeSpan.FromSeconds(10), failures.SetResult);
        var client = new DtlsViewerClient(ClientCertificate, ServerCertificate.Fingerprint);
        var handshake = pipe.Server.HandshakeAsync(TestContext.Current.CancellationToken);
        await client.ConnectAsync(pipe.Client, TestContext.Current.CancellationToken);
        await handshake;

        pipe.Server.BeforePumpReceive = () => throw new InvalidOperationException("injected: unexpected failure in the DTLS stack");
        Assert.True(pipe.Server.OnDatagram(new byte[] { 23, 0xFE, 0xFD, 0, 1, 0, 0, 0, 0, 0, 9, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8 }));

        var failure = await failures.Task.WaitAsync(TimeSpan.FromSeconds(20), TestContext.Current.CancellationToken);
        Assert.IsType<InvalidOperationException>(failure);
        Assert.False(pipe.Server.OnDatagram(new byte[] { 23, 0xFE, 0xFD, 0, 1, 0, 0, 0, 0, 0, 9, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8 }));
    }

    /// <summary>Server session and client transport wired back to back in memory.</summary>
    private sealed class Pipe : IDisposable
    {
        public Pipe(string? clientFingerprint, TimeSpan timeout, Action<Exception>? failed = null)
        {
            QueueDatagramTransport? client = null;
            Server = new DtlsServerSession(ServerCertificate, clientFingerprint, (buffer, length) => client!.Deliver(buffer[..length]), timeout, failed);
            client = new QueueDatagramTransport(datagram => Server.OnDatagram(datagram));
            Client = client;
        }

        public DtlsServerSession Server { get; }

        public QueueDatagramTransport Client { get; }

        public void Dispose()
        {
            Server.Dispose();
            Client.Dispose();
        }
    }

    private sealed class DtlsSrtpKeysComparer : IEqualityComparer<DtlsSrtpKeys>
    {
        public static readonly DtlsSrtpKeysComparer Instance = new();

        public bool Equals(DtlsSrtpKeys? x, DtlsSrtpKeys? y) =>
            x is not null && y is not null && x.ClientKey.SequenceEqual(y.ClientKey) && x.ClientSalt.SequenceEqual(y.ClientSalt)
            && x.ServerKey.SequenceEqual(y.ServerKey) && x.ServerSalt.SequenceEqual(y.ServerSalt);

        public int GetHashCode(DtlsSrtpKeys obj) => obj.ClientKey[0];
    }
}
