using System.Net;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Portal.Media.Core;

namespace Portal.Media.Rtsp;

/// <summary>Where an <see cref="RtspSource"/> stands; for health pages and tests.</summary>
public enum RtspSourceState
{
    Stopped,
    Connecting,
    Playing,
    WaitingToRetry,
}

/// <summary>Tuning of an <see cref="RtspSource"/>; the defaults suit a camera on a school LAN.</summary>
public sealed record RtspSourceOptions
{
    public RtspTransport Transport { get; init; } = RtspTransport.Tcp;

    /// <summary>No RTP for this long while playing counts as a stall and forces a reconnect.</summary>
    public TimeSpan StallTimeout { get; init; } = TimeSpan.FromSeconds(10);

    public TimeSpan MinRetryDelay { get; init; } = TimeSpan.FromSeconds(1);

    public TimeSpan MaxRetryDelay { get; init; } = TimeSpan.FromSeconds(30);

    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Also pull the audio track; off by default because gate viewers need only video.</summary>
    public bool IncludeAudio { get; init; }

    /// <summary>Answer an RTSP Basic challenge; off by default (see <see cref="RtspClient"/>'s allowBasicAuth).</summary>
    public bool AllowBasicAuth { get; init; }

    /// <summary>At most one keyframe request (RTCP PLI/FIR) to the camera in this interval, however many viewers ask.</summary>
    public TimeSpan KeyframeRequestInterval { get; init; } = TimeSpan.FromSeconds(1);
}

/// <summary>
/// Pulls a camera over RTSP for as long as it runs: connects, plays, watches for stalls, and reconnects with
/// exponential backoff (doubling from <see cref="RtspSourceOptions.MinRetryDelay"/> to the maximum, reset
/// once a session has played). The producer role of go2rtc <c>pkg/rtsp/producer.go</c>.
/// </summary>
/// <remarks>
/// Each session yields new <see cref="MediaTrack"/> objects, so a sink can tell a reconnect (new SSRC, sequence
/// and timestamp base) from the same track by reference.
/// </remarks>
public sealed class RtspSource : IMediaSource
{
    private readonly Uri _uri;
    private readonly NetworkCredential? _credential;
    private readonly RtspSourceOptions _options;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _cts = new();
    private int _disposed;
    private readonly Lock _gate = new();
    private IMediaSink[] _sinks = [];
    private IReadOnlyList<MediaTrack> _tracks = [];
    private Task _loop = Task.CompletedTask;
    private bool _played;
    private RtspClient? _client;
    private long _lastKeyframeRequest;

    public RtspSource(Uri uri, NetworkCredential? credential, RtspSourceOptions? options = null, ILoggerFactory? loggerFactory = null, TimeProvider? timeProvider = null)
    {
        _uri = uri;
        _credential = credential;
        _options = options ?? new RtspSourceOptions();
        _loggerFactory = loggerFactory ?? NullLoggerFactory.Instance;
        _logger = _loggerFactory.CreateLogger<RtspSource>();
        _time = timeProvider ?? TimeProvider.System;
    }

    public RtspSourceState State { get; private set; }

    /// <summary>Why the last session failed, or null.</summary>
    public Exception? LastError { get; private set; }

    public int Sessions { get; private set; }

    /// <inheritdoc />
    public IReadOnlyList<MediaTrack> Tracks => _tracks;

    public void Start()
    {
        lock (_gate)
        {
            if (_loop.IsCompleted && !_cts.IsCancellationRequested)
            {
                _loop = Task.Run(() => RunAsync(_cts.Token));
            }
        }
    }

    /// <inheritdoc />
    public IDisposable AddSink(IMediaSink sink)
    {
        lock (_gate)
        {
            _sinks = [.. _sinks, sink];
        }

        return new Unsubscriber(this, sink);
    }

    /// <summary>Keyframe requests sent to the camera since start, over every session.</summary>
    public long KeyframeRequests { get; private set; }

    /// <inheritdoc />
    /// <remarks>Rate-limited; see <see cref="TryRequestKeyframe"/>.</remarks>
    public void RequestKeyframe(IMediaSink sink) => TryRequestKeyframe();

    /// <summary>
    /// Asks the camera for a keyframe over the current RTSP session's RTCP channel (<see cref="RtspClient.RequestKeyframe"/>),
    /// unless one was asked within <see cref="RtspSourceOptions.KeyframeRequestInterval"/>. True when a request went out
    /// (or waits for the session's first packet); false when rate-limited or no session is playing.
    /// </summary>
    public bool TryRequestKeyframe()
    {
        var client = Volatile.Read(ref _client);
        if (client is null)
        {
            return false;
        }

        lock (_gate)
        {
            var now = _time.GetTimestamp();
            if (_lastKeyframeRequest != 0 && _time.GetElapsedTime(_lastKeyframeRequest, now) < _options.KeyframeRequestInterval)
            {
                return false;
            }

            var video = _tracks.FirstOrDefault(t => t.Kind == MediaKind.Video);
            if (video is null || !client.RequestKeyframe(video))
            {
                return false;
            }

            _lastKeyframeRequest = now;
            KeyframeRequests++;
            return true;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _cts.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
        _cts.Dispose();
        State = RtspSourceState.Stopped;
    }

    private void RemoveSink(IMediaSink sink)
    {
        lock (_gate)
        {
            _sinks = _sinks.Where(s => s != sink).ToArray();
        }
    }

    private void Deliver(MediaTrack track, ReadOnlySpan<byte> packet)
    {
        foreach (var sink in Volatile.Read(ref _sinks))
        {
            try
            {
                sink.WriteRtp(track, packet);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                _logger.LogWarning(ex, "Media sink failed; removing it");
                RemoveSink(sink);
            }
        }
    }

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        var delay = _options.MinRetryDelay;
        while (!cancellationToken.IsCancellationRequested)
        {
            State = RtspSourceState.Connecting;
            _played = false;
            try
            {
                await RunSessionAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex) when (ex is RtspException or IOException or System.Net.Sockets.SocketException or OperationCanceledException)
            {
                LastError = ex;
                _logger.LogWarning("RTSP source {Host}{Path}: {Reason}", _uri.Host, _uri.AbsolutePath, ex.Message);
            }

            if (_played)
            {
                delay = _options.MinRetryDelay;
            }

            State = RtspSourceState.WaitingToRetry;
            try
            {
                await Task.Delay(delay, _time, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }

            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, _options.MaxRetryDelay.Ticks));
        }

        State = RtspSourceState.Stopped;
    }

    /// <summary>One session from connect to its end; sets <see cref="_played"/> once it plays.</summary>
    private async Task RunSessionAsync(CancellationToken cancellationToken)
    {
        var client = new RtspClient(_uri, _credential, _options.Transport, _loggerFactory.CreateLogger<RtspClient>(), _time, _options.AllowBasicAuth)
        {
            RequestTimeout = _options.RequestTimeout,
        };
        try
        {
            await PlaySessionAsync(client, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Interlocked.CompareExchange(ref _client, null, client);
            await client.DisposeAsync().ConfigureAwait(false);
        }
    }

    private async Task PlaySessionAsync(RtspClient client, CancellationToken cancellationToken)
    {
        await client.ConnectAsync(cancellationToken).ConfigureAwait(false);
        await client.OptionsAsync(cancellationToken).ConfigureAwait(false);
        await client.DescribeAsync(cancellationToken).ConfigureAwait(false);
        var wanted = client.Tracks
            .Where(t => (t.Kind == MediaKind.Video && t.Codec.Name == Codec.H264) || (_options.IncludeAudio && t.Kind == MediaKind.Audio))
            .ToList();
        if (wanted.Count == 0)
        {
            throw new RtspException("Camera offers no H.264 video track.");
        }

        foreach (var track in wanted)
        {
            await client.SetupAsync(track, cancellationToken).ConfigureAwait(false);
        }

        client.RtpReceived = Deliver;
        _tracks = wanted;
        Volatile.Write(ref _client, client);
        lock (_gate)
        {
            _lastKeyframeRequest = 0; // a new session may ask at once
        }

        await client.PlayAsync(cancellationToken).ConfigureAwait(false);
        Sessions++;
        _played = true;
        State = RtspSourceState.Playing;
        LastError = null;
        _logger.LogInformation("RTSP source {Host}{Path} playing over {Transport}", _uri.Host, _uri.AbsolutePath, _options.Transport);

        // Wait for the connection to end, checking for a stall at a quarter of the stall timeout.
        var check = TimeSpan.FromTicks(Math.Max(_options.StallTimeout.Ticks / 4, TimeSpan.FromMilliseconds(50).Ticks));
        while (!client.Completion.IsCompleted)
        {
            try
            {
                await client.Completion.WaitAsync(check, _time, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                if (_time.GetElapsedTime(client.LastPacketTimestamp) > _options.StallTimeout)
                {
                    throw new RtspException($"No data for {_options.StallTimeout.TotalSeconds:0.#} s; reconnecting.");
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                using var teardown = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                try
                {
                    await client.TeardownAsync(teardown.Token).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is RtspException or IOException or OperationCanceledException or ObjectDisposedException)
                {
                    // Best effort: the camera times the session out anyway.
                }

                throw;
            }
        }

        await client.Completion.ConfigureAwait(false);
    }

    private sealed class Unsubscriber(RtspSource source, IMediaSink sink) : IDisposable
    {
        public void Dispose() => source.RemoveSink(sink);
    }
}
