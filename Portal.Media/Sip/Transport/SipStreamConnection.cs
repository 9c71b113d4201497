using System.Net;
using Microsoft.Extensions.Logging;
using Portal.Media.Core;

namespace Portal.Media.Sip.Transport;

/// <summary>One TCP (or TLS) connection of a <see cref="SipStreamTransport"/>: its read loop and serialized writes.</summary>
/// <remarks>
/// Messages are framed by Content-Length on the shared <see cref="TextMessageReader"/> (RFC 3261 §18.3). A
/// double CRLF between messages is an RFC 5626 §4.4.1 keep-alive ping and is answered with one CRLF (pong);
/// a single CRLF is a pong or padding and is skipped. Anything the reader cannot frame ends the connection,
/// since the next message boundary is lost.
/// </remarks>
internal sealed class SipStreamConnection : IAsyncDisposable
{
    private static readonly byte[] Pong = "\r\n"u8.ToArray();

    private readonly Stream _stream;
    private readonly TextMessageReader _reader;
    private readonly SemaphoreSlim _write = new(1, 1);
    private readonly CancellationTokenSource _cts = new();
    private readonly TimeProvider _time;
    private long _lastActivity;
    private int _closed;

    public SipStreamConnection(long id, IPEndPoint remote, Stream stream, TimeProvider time)
    {
        Id = id;
        Remote = remote;
        _stream = stream;
        _time = time;
        _reader = new TextMessageReader(stream, SipMessage.MaxHeaderBytes, SipMessage.MaxBodyBytes, tolerateMalformedLines: true);
        _lastActivity = time.GetTimestamp();
    }

    public long Id { get; }

    public IPEndPoint Remote { get; }

    public TimeSpan Idle => _time.GetElapsedTime(Interlocked.Read(ref _lastActivity));

    public Task Completion { get; private set; } = Task.CompletedTask;

    public void Start(Action<SipStreamConnection, SipParseResult> deliver, ILogger logger) => Completion = ReadLoopAsync(deliver, logger);

    public async ValueTask<bool> SendAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        try
        {
            await _write.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (ObjectDisposedException)
        {
            return false;
        }

        try
        {
            await _stream.WriteAsync(data, cancellationToken).ConfigureAwait(false);
            await _stream.FlushAsync(cancellationToken).ConfigureAwait(false);
            Touch();
            return true;
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or OperationCanceledException)
        {
            DisposeAsync().AsTask().Forget();
            return false;
        }
        finally
        {
            _write.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _closed, 1) != 0)
        {
            return;
        }

        await _cts.CancelAsync().ConfigureAwait(false);
        await _stream.DisposeAsync().ConfigureAwait(false);
    }

    private void Touch() => Interlocked.Exchange(ref _lastActivity, _time.GetTimestamp());

    private async Task ReadLoopAsync(Action<SipStreamConnection, SipParseResult> deliver, ILogger logger)
    {
        await Task.Yield();
        var ct = _cts.Token;
        try
        {
            while (!ct.IsCancellationRequested)
            {
                var next = await _reader.PeekByteAsync(ct).ConfigureAwait(false);
                if (next < 0)
                {
                    break;
                }

                Touch();
                if (next is '\r' or '\n')
                {
                    if (await SkipLineEndsAsync(ct).ConfigureAwait(false) >= 4)
                    {
                        await SendAsync(Pong, ct).ConfigureAwait(false);
                    }

                    continue;
                }

                var text = await _reader.ReadMessageAsync(ct).ConfigureAwait(false);
                try
                {
                    deliver(this, SipMessage.FromText(text));
                }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    logger.LogError(ex, "SIP message handling failed on {Remote}", Remote);
                }
            }
        }
        catch (Exception ex) when (ex is IOException or EndOfStreamException or InvalidDataException or ObjectDisposedException or OperationCanceledException)
        {
            logger.LogDebug("SIP connection {Id} from {Remote} ended: {Reason}", Id, Remote, ex.Message);
        }
        finally
        {
            await DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Consumes a run of CR/LF (at most 64) and returns its length.</summary>
    private async Task<int> SkipLineEndsAsync(CancellationToken ct)
    {
        var count = 0;
        // Stops at four: a double CRLF is a ping to answer now, not after the peer's next byte (it waits for the pong).
        while (count < 4 && await _reader.PeekByteAsync(ct).ConfigureAwait(false) is '\r' or '\n')
        {
            await _reader.ReadBytesAsync(1, ct).ConfigureAwait(false);
            count++;
        }

        return count;
    }
}
