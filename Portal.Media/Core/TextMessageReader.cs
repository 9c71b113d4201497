using System.Runtime.CompilerServices;

namespace Portal.Media.Core;

/// <summary>
/// Buffered reader of text messages from a stream connection (RTSP over TCP, SIP over TCP/TLS), which also
/// hands out raw bytes for binary data interleaved between messages (RTSP "$" frames, RFC 2326 §10.12).
/// </summary>
/// <remarks>The go2rtc <c>pkg/tcp/textproto.go</c> idea: one reader, the protocol decides what comes next.</remarks>
public sealed class TextMessageReader
{
    private readonly Stream _stream;
    private readonly int _maxHeaderBytes;
    private readonly int _maxBodyBytes;
    private byte[] _buffer;
    private int _start;
    private int _end;

    private readonly bool _tolerateMalformedLines;

    /// <param name="stream">The connection.</param>
    /// <param name="maxHeaderBytes">Refuse a head longer than this.</param>
    /// <param name="maxBodyBytes">Refuse a body longer than this.</param>
    /// <param name="tolerateMalformedLines">SIP: skip lines that are not header fields and report them on the message (answered 400), rather than fail the connection.</param>
    public TextMessageReader(Stream stream, int maxHeaderBytes = TextMessage.DefaultMaxHeaderBytes, int maxBodyBytes = TextMessage.DefaultMaxBodyBytes, bool tolerateMalformedLines = false)
    {
        _stream = stream;
        _tolerateMalformedLines = tolerateMalformedLines;
        _maxHeaderBytes = maxHeaderBytes;
        _maxBodyBytes = maxBodyBytes;
        _buffer = new byte[Math.Max(8 * 1024, maxHeaderBytes + 1024)];
    }

    /// <summary>The next byte without consuming it, or -1 at end of stream.</summary>
    /// <remarks>
    /// This, <see cref="ReadBytesAsync"/> and the fill they wait on reuse their state machines (the pooling builder):
    /// a camera's stream interleaved on RTSP's TCP connection is read a frame at a time, and each read that waited on the
    /// socket allocated two (in the alarm benchmark, the alarms' camera pulls were a twentieth of the portal's
    /// allocations). Each ValueTask is awaited once, as every caller does.
    /// </remarks>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<int> PeekByteAsync(CancellationToken cancellationToken)
    {
        if (_end == _start && !await FillAsync(1, cancellationToken).ConfigureAwait(false))
        {
            return -1;
        }

        return _buffer[_start];
    }

    /// <summary>Reads exactly <paramref name="count"/> bytes; the memory is valid until the next call.</summary>
    /// <exception cref="EndOfStreamException">The connection closed first.</exception>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<ReadOnlyMemory<byte>> ReadBytesAsync(int count, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (_end - _start < count && !await FillAsync(count, cancellationToken).ConfigureAwait(false))
        {
            throw new EndOfStreamException("Connection closed inside a binary frame.");
        }

        var result = _buffer.AsMemory(_start, count);
        _start += count;
        return result;
    }

    /// <summary>Reads one whole message.</summary>
    /// <exception cref="EndOfStreamException">The connection closed (cleanly between messages, or inside one).</exception>
    /// <exception cref="InvalidDataException">The peer sent something that is not a valid message.</exception>
    public async ValueTask<TextMessage> ReadMessageAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var status = TextMessage.TryParse(_buffer.AsSpan(_start, _end - _start), out var message, out var consumed, out var error, _maxHeaderBytes, _maxBodyBytes, _tolerateMalformedLines);
            switch (status)
            {
                case TextMessageParseStatus.Complete:
                    _start += consumed;
                    return message!;
                case TextMessageParseStatus.Invalid:
                    throw new InvalidDataException(error);
            }

            if (!await FillAsync(_end - _start + 1, cancellationToken).ConfigureAwait(false))
            {
                throw new EndOfStreamException("Connection closed.");
            }
        }
    }

    /// <summary>Reads until at least <paramref name="needed"/> unread bytes are buffered; false at end of stream.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> FillAsync(int needed, CancellationToken cancellationToken)
    {
        if (needed > _maxHeaderBytes + _maxBodyBytes + 1024)
        {
            throw new InvalidDataException("Message larger than allowed.");
        }

        if (_start > 0 && (_buffer.Length - _start < needed || _start == _end))
        {
            _buffer.AsSpan(_start, _end - _start).CopyTo(_buffer);
            _end -= _start;
            _start = 0;
        }

        if (_buffer.Length < needed)
        {
            Array.Resize(ref _buffer, Math.Max(needed, _buffer.Length * 2));
        }

        while (_end - _start < needed)
        {
            var read = await _stream.ReadAsync(_buffer.AsMemory(_end), cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                return false;
            }

            _end += read;
        }

        return true;
    }
}
