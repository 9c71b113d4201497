using System.Net;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Portal.Media.Core;
using Portal.Media.Rtsp;

namespace Portal.Media.Bridges;

/// <summary>
/// A camera as the portal knows it: its RTSP URL and credentials, whether it may be answered with Basic auth, and its
/// model's keyframe request outside RTSP if it has one (<see cref="CameraKeyframeHook"/>, issue #15), and its low-rate
/// sub-stream if it has one (<see cref="CameraHub.Prewarm"/>, issue #15).
/// </summary>
public sealed record CameraEndpoint(Uri RtspUri, string? Username = null, string? Password = null, RtspTransport Transport = RtspTransport.Tcp, bool AllowBasicAuth = false, CameraKeyframeHook? KeyframeHook = null, CameraEndpoint? SubStream = null)
{
    internal NetworkCredential? Credential => Username is null ? null : new NetworkCredential(Username, Password ?? string.Empty);

    public override string ToString() => $"{RtspUri.Host}{RtspUri.AbsolutePath} ({Transport})";
}

/// <summary>Tuning of the <see cref="CameraHub"/>.</summary>
public sealed record CameraHubOptions
{
    /// <summary>How long a camera keeps being pulled after its last viewer left (a viewer often comes straight back).</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Largest RTP packet sent to viewers; 1200 suits WebRTC.</summary>
    public int Mtu { get; init; } = Rtp.H264Packetizer.DefaultMtu;

    /// <summary>Cap on the cached GOP; a camera with a longer GOP gets no instant start.</summary>
    public int MaxGopBytes { get; init; } = 8 * 1024 * 1024;

    /// <summary>At most one GOP replay per viewer in this interval, however often its browser sends PLI.</summary>
    public TimeSpan KeyframeRequestInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>A camera with a keyframe hook gets it called when RTCP PLI/FIR went unanswered this long.</summary>
    public TimeSpan KeyframeHookDelay { get; init; } = TimeSpan.FromMilliseconds(400);

    /// <summary>At most one keyframe hook call per camera in this interval (and never two at once).</summary>
    public TimeSpan KeyframeHookInterval { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>A keyframe hook's request is given up after this long: a late keyframe helps no one.</summary>
    public TimeSpan KeyframeHookTimeout { get; init; } = TimeSpan.FromSeconds(2);

    public RtspSourceOptions Rtsp { get; init; } = new();
}

/// <summary>
/// The stream registry: one RTSP pull per camera, shared by every viewer. The pull starts with the first
/// viewer (or <see cref="Hold"/>) and stops <see cref="CameraHubOptions.IdleTimeout"/> after the last one leaves.
/// Viewers receive H.264 RTP packets ready for WebRTC (payload type 96 and SSRC 0, for the peer to rewrite). A viewer
/// for whom no keyframe is cached gets the camera asked for one (RTCP PLI/FIR); how the camera answers is kept per
/// camera (<see cref="GetPulls"/>). A camera whose sub-stream is pre-warmed (<see cref="Prewarm"/>) starts a viewer that
/// finds no main-stream GOP on the sub-stream's cached GOP, and switches it to the main stream at the main stream's first
/// keyframe (<see cref="CameraPrewarmViewer"/>).
/// </summary>
public sealed class CameraHub : IAsyncDisposable
{
    private readonly CameraHubOptions _options;
    private readonly ILoggerFactory _loggerFactory;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private readonly Dictionary<CameraEndpoint, Entry> _entries = [];
    private readonly Dictionary<CameraEndpoint, CameraKeyframeStats> _keyframeStats = [];
    private readonly Dictionary<CameraEndpoint, int> _prewarmHolds = [];
    private readonly Dictionary<CameraEndpoint, long> _prewarmStarts = [];

    private readonly HttpClient? _hookClient;

    /// <param name="options">Tuning.</param>
    /// <param name="loggerFactory">Logs.</param>
    /// <param name="timeProvider">Clock.</param>
    /// <param name="keyframeHookClient">Sends the cameras' keyframe hooks (<see cref="CameraEndpoint.KeyframeHook"/>); without it they are not called.</param>
    public CameraHub(CameraHubOptions? options = null, ILoggerFactory? loggerFactory = null, TimeProvider? timeProvider = null, HttpClient? keyframeHookClient = null)
    {
        _hookClient = keyframeHookClient;
        _options = options ?? new CameraHubOptions();
        _loggerFactory = loggerFactory ?? NullLoggerFactory.Instance;
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <summary>Cameras currently pulled (with viewers, or idle but not yet stopped).</summary>
    public int ActiveCameras
    {
        get
        {
            lock (_gate)
            {
                return _entries.Count;
            }
        }
    }

    /// <summary>The pull's state for a camera, or null when it is not pulled.</summary>
    public RtspSourceState? GetState(CameraEndpoint camera)
    {
        lock (_gate)
        {
            return _entries.TryGetValue(camera, out var entry) ? entry.Source.State : null;
        }
    }

    /// <summary>The pull's last failure (an <see cref="RtspException"/> with status 401 is a wrong password), or null.</summary>
    public Exception? GetLastError(CameraEndpoint camera)
    {
        lock (_gate)
        {
            return _entries.TryGetValue(camera, out var entry) ? entry.Source.LastError : null;
        }
    }

    /// <summary>
    /// Adds a viewer; packets start with the cached GOP (SPS, PPS, IDR first) or, when none is cached, with the
    /// keyframe the camera is asked for (RTCP PLI/FIR on the RTSP session) or else its next one.
    /// </summary>
    public CameraSubscription Subscribe(CameraEndpoint camera, IMediaSink viewer)
    {
        ArgumentNullException.ThrowIfNull(camera);
        ArgumentNullException.ThrowIfNull(viewer);
        lock (_gate)
        {
            var entry = Acquire(camera);
            if (camera.SubStream is { } sub && !entry.Stream.HasGop && _entries.TryGetValue(sub, out var warm) && warm.Stream.HasGop)
            {
                // Nothing cached on the main stream (a camera that ignores keyframe requests, pulled cold): start on the
                // pre-warmed sub-stream's GOP now and let the main stream take over at its first keyframe.
                Acquire(sub);
                var prewarm = new CameraPrewarmViewer(viewer, _options.Mtu);
                var mainViewer = entry.Stream.AddViewer(prewarm.Main);
                prewarm.AttachSub(warm.Stream, warm.Stream.AddViewer(prewarm.Sub));
                _prewarmStarts[camera] = _prewarmStarts.GetValueOrDefault(camera) + 1;
                return new CameraSubscription(this, camera, entry.Stream, mainViewer, prewarm);
            }

            return new CameraSubscription(this, camera, entry.Stream, entry.Stream.AddViewer(viewer));
        }
    }

    /// <summary>
    /// Keeps the camera's sub-stream (<see cref="CameraEndpoint.SubStream"/>) pulled with its latest GOP cached, for a camera
    /// that ignores keyframe requests (issue #15): a viewer that finds no main-stream GOP starts on it at once. The pull
    /// reconnects with the source's backoff when the camera drops. Dispose to let go (the idle stop then ends the pull).
    /// Bounding how many cameras are pre-warmed is the caller's (the portal's setting).
    /// </summary>
    /// <exception cref="ArgumentException">The camera has no sub-stream.</exception>
    public IDisposable Prewarm(CameraEndpoint camera)
    {
        ArgumentNullException.ThrowIfNull(camera);
        var sub = camera.SubStream ?? throw new ArgumentException("The camera has no sub-stream to pre-warm.", nameof(camera));
        lock (_gate)
        {
            Acquire(sub);
            _prewarmHolds[sub] = _prewarmHolds.GetValueOrDefault(sub) + 1;
            return new CameraPrewarmHold(this, sub);
        }
    }

    /// <summary>
    /// Pulls the camera without a viewer (yet), e.g. the moment an alarm is committed: the RTSP session comes up,
    /// a keyframe is asked for and cached, so the viewer that follows starts at once. Counts as a viewer for the idle
    /// stop; dispose to let go.
    /// </summary>
    public IDisposable Hold(CameraEndpoint camera)
    {
        ArgumentNullException.ThrowIfNull(camera);
        lock (_gate)
        {
            Acquire(camera);
            return new CameraHold(this, camera);
        }
    }

    /// <summary>Every camera pulled now, and every camera pulled before (for its keyframe statistics).</summary>
    public IReadOnlyList<CameraPullStatus> GetPulls()
    {
        lock (_gate)
        {
            return _keyframeStats
                .Select(pair => _entries.TryGetValue(pair.Key, out var entry)
                    ? new CameraPullStatus(pair.Key, entry.Source.State, entry.Viewers, entry.Source.Sessions, entry.Source.LastError?.Message, pair.Value.Snapshot())
                    {
                        Prewarm = _prewarmHolds.ContainsKey(pair.Key),
                        PrewarmCached = _prewarmHolds.ContainsKey(pair.Key) && entry.Stream.HasGop,
                        PrewarmStarts = _prewarmStarts.GetValueOrDefault(pair.Key),
                    }
                    : new CameraPullStatus(pair.Key, null, 0, 0, null, pair.Value.Snapshot()) { PrewarmStarts = _prewarmStarts.GetValueOrDefault(pair.Key) })
                .ToList();
        }
    }

    public async ValueTask DisposeAsync()
    {
        List<Entry> entries;
        lock (_gate)
        {
            entries = [.. _entries.Values];
            _entries.Clear();
        }

        foreach (var entry in entries)
        {
            await StopAsync(entry).ConfigureAwait(false);
        }
    }

    internal void Unsubscribe(CameraEndpoint camera, CameraStream.Viewer? viewer)
    {
        lock (_gate)
        {
            if (!_entries.TryGetValue(camera, out var entry))
            {
                return;
            }

            if (viewer is not null)
            {
                entry.Stream.RemoveViewer(viewer);
            }

            if (--entry.Viewers > 0)
            {
                return;
            }

            entry.IdleTimer = _time.CreateTimer(_ => StopIfIdle(camera, entry), null, _options.IdleTimeout, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>The camera's pull, started if needed, with one more viewer counted (under <see cref="_gate"/>).</summary>
    private Entry Acquire(CameraEndpoint camera)
    {
        if (!_entries.TryGetValue(camera, out var entry))
        {
            if (!_keyframeStats.TryGetValue(camera, out var stats))
            {
                stats = new CameraKeyframeStats(_time);
                _keyframeStats[camera] = stats;
            }

            var source = new RtspSource(camera.RtspUri, camera.Credential, _options.Rtsp with { Transport = camera.Transport, AllowBasicAuth = camera.AllowBasicAuth }, _loggerFactory, _time);
            var logger = _loggerFactory.CreateLogger<CameraHub>();
            CameraKeyframeHookCaller? hook = null;
            if (camera.KeyframeHook is { } configured && _hookClient is not null)
            {
                hook = new CameraKeyframeHookCaller(_hookClient, configured, stats, _options, _time, logger);
                stats.OnHookConfigured();
            }

            var stream = new CameraStream(_options, logger, _time, source.TryRequestKeyframe, stats, hook is null ? null : hook.TryCall);
            entry = new Entry(source, stream, source.AddSink(stream)) { Hook = hook };
            _entries[camera] = entry;
            source.Start();
        }

        entry.IdleTimer?.Dispose();
        entry.IdleTimer = null;
        entry.Viewers++;
        return entry;
    }

    internal void ReleasePrewarm(CameraEndpoint sub)
    {
        lock (_gate)
        {
            if (_prewarmHolds.TryGetValue(sub, out var holds))
            {
                if (holds <= 1)
                {
                    _prewarmHolds.Remove(sub);
                }
                else
                {
                    _prewarmHolds[sub] = holds - 1;
                }
            }
        }

        Unsubscribe(sub, null);
    }

    private static async Task StopAsync(Entry entry)
    {
        entry.IdleTimer?.Dispose();
        entry.Hook?.Dispose();
        entry.SinkRegistration.Dispose();
        await entry.Source.DisposeAsync().ConfigureAwait(false);
    }

    private void StopIfIdle(CameraEndpoint camera, Entry entry)
    {
        lock (_gate)
        {
            if (entry.Viewers > 0 || !_entries.TryGetValue(camera, out var current) || current != entry)
            {
                return;
            }

            _entries.Remove(camera);
        }

        _ = StopAsync(entry);
    }

    private sealed class Entry(RtspSource source, CameraStream stream, IDisposable sinkRegistration)
    {
        public RtspSource Source { get; } = source;

        public CameraStream Stream { get; } = stream;

        public IDisposable SinkRegistration { get; } = sinkRegistration;

        public int Viewers { get; set; }

        public ITimer? IdleTimer { get; set; }

        public CameraKeyframeHookCaller? Hook { get; init; }
    }
}

/// <summary>A camera as <see cref="CameraHub.GetPulls"/> reports it: the pull (null state when not pulled now) and its keyframe statistics.</summary>
public sealed record CameraPullStatus(CameraEndpoint Camera, RtspSourceState? State, int Viewers, int Sessions, string? LastError, CameraKeyframeSnapshot Keyframes)
{
    /// <summary>This pull is a pre-warmed sub-stream (<see cref="CameraHub.Prewarm"/>).</summary>
    public bool Prewarm { get; init; }

    /// <summary>A pre-warmed sub-stream with a GOP cached now: a viewer of its camera would start on it at once.</summary>
    public bool PrewarmCached { get; init; }

    /// <summary>Viewers of this (main) camera started on its pre-warmed sub-stream's cached GOP.</summary>
    public long PrewarmStarts { get; init; }
}

/// <summary>A pre-warmed sub-stream (<see cref="CameraHub.Prewarm"/>); dispose to let go.</summary>
internal sealed class CameraPrewarmHold(CameraHub hub, CameraEndpoint sub) : IDisposable
{
    private int _disposed;

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            hub.ReleasePrewarm(sub);
        }
    }
}

/// <summary>A pull kept without a viewer (<see cref="CameraHub.Hold"/>); dispose to let go.</summary>
internal sealed class CameraHold(CameraHub hub, CameraEndpoint camera) : IDisposable
{
    private int _disposed;

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            hub.Unsubscribe(camera, null);
        }
    }
}

/// <summary>One viewer's hold on a camera; dispose to leave.</summary>
public sealed class CameraSubscription : IDisposable
{
    private readonly CameraHub _hub;
    private readonly CameraEndpoint _camera;
    private readonly CameraStream _stream;
    private readonly CameraStream.Viewer _viewer;
    private readonly CameraPrewarmViewer? _prewarm;
    private int _disposed;

    internal CameraSubscription(CameraHub hub, CameraEndpoint camera, CameraStream stream, CameraStream.Viewer viewer, CameraPrewarmViewer? prewarm = null)
    {
        _hub = hub;
        _camera = camera;
        _stream = stream;
        _viewer = viewer;
        _prewarm = prewarm;
    }

    /// <summary>True when this viewer was started on the camera's pre-warmed sub-stream.</summary>
    public bool StartedOnPrewarm => _prewarm is not null;

    /// <summary>True while this viewer still receives the pre-warmed sub-stream (the main stream's first keyframe has not come).</summary>
    public bool OnPrewarm => _prewarm is { OnMain: false };

    /// <summary>What the viewer receives: H.264/90000, pt 96, with the fmtp line to put in the SDP answer.</summary>
    public MediaTrack Track => _stream.Track;

    /// <summary>Answer a browser's PLI/FIR: the cached GOP is sent again, or (none cached) the camera is asked for a keyframe.</summary>
    public void RequestKeyframe()
    {
        if (_prewarm?.TryRequestSubKeyframe() != true)
        {
            _stream.RequestKeyframe(_viewer);
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            if (_prewarm is not null && _camera.SubStream is { } sub)
            {
                _prewarm.ReleaseSub();
                _hub.Unsubscribe(sub, null);
            }

            _hub.Unsubscribe(_camera, _viewer);
        }
    }
}
