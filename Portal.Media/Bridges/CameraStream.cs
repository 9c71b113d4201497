using Microsoft.Extensions.Logging;
using Portal.Media.Core;
using Portal.Media.Rtp;

namespace Portal.Media.Bridges;

/// <summary>
/// One camera's video prepared for browsers: depacketizes the camera's H.264, makes sure SPS/PPS precede every
/// IDR, repacketizes to the WebRTC MTU, keeps the packets of the current GOP, and fans out to every viewer.
/// </summary>
/// <remarks>
/// Viewers are numbered independently: each gets its own consecutive RTP sequence numbers, so a viewer that
/// joins mid-stream (or asks for a keyframe) can be sent the cached GOP first without a gap or a duplicate.
/// Replayed frames get timestamps one tick apart, ending where live continues, so a browser decodes them at
/// once and shows the newest picture instead of playing two seconds of history in real time.
/// Fan-out runs on the camera's receive loop under one lock; viewers must not block (see <see cref="IMediaSink"/>).
/// Nothing is allocated per packet once warm: the depacketizer lends its units, the GOP is kept in one reused
/// buffer that grows to the largest GOP seen, and the packetizer's callback is one delegate made once
/// (issue #5, <c>Portal.Benchmarks media alloc</c>).
/// </remarks>
internal sealed class CameraStream : IMediaSink
{
    private readonly Lock _gate = new();
    private readonly List<Viewer> _viewers = [];
    private readonly List<GopPacket> _gop = [];
    private readonly H264Packetizer _packetizer;
    private readonly CameraHubOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly byte[] _scratch;
    private readonly RtpPacketWriter _onPacket;
    private readonly Func<bool>? _requestKeyframe;
    private readonly CameraKeyframeStats? _keyframeStats;
    private readonly Func<bool>? _keyframeHook;
    private long? _keyframeWaitSince;
    private byte[] _gopBuffer = [];
    private int _frame;
    private int _profile = -1;
    private MediaTrack? _inputTrack;
    private H264Depacketizer? _depacketizer;
    private int _gopBytes;
    private int _gopFrames;
    private bool _gopValid;
    private uint _timestampOffset;
    private uint _lastOutputTimestamp;
    private bool _haveOutput;
    private bool _needKeyframe;

    /// <param name="options">The hub's tuning.</param>
    /// <param name="logger">For sinks that fail.</param>
    /// <param name="time">Clock of the keyframe-request interval per viewer.</param>
    /// <param name="requestKeyframe">
    /// Asks the camera for a keyframe (the pull's RTCP PLI/FIR, rate-limited by the source); true when a request went out.
    /// Called while a viewer waits for a keyframe the cache cannot give it.
    /// </param>
    /// <param name="keyframeStats">Where the camera's answers to those requests are counted.</param>
    /// <param name="keyframeHook">
    /// The camera model's other way to ask (an HTTP keyframe request, rate-limited by its caller); true when a call went
    /// out. Called when RTCP went unanswered for <see cref="CameraHubOptions.KeyframeHookDelay"/>, or at once for a camera
    /// seen to ignore RTCP.
    /// </param>
    public CameraStream(CameraHubOptions options, ILogger logger, TimeProvider time, Func<bool>? requestKeyframe = null, CameraKeyframeStats? keyframeStats = null, Func<bool>? keyframeHook = null)
    {
        _keyframeHook = keyframeHook;
        _options = options;
        _logger = logger;
        _time = time;
        _requestKeyframe = requestKeyframe;
        _keyframeStats = keyframeStats;
        _packetizer = new H264Packetizer(options.Mtu, payloadType: 96);
        _scratch = new byte[options.Mtu];
        _onPacket = OnPacket;
        Track = CreateTrack("42e01f");
    }

    /// <summary>The track every viewer receives: H.264, packetization-mode 1, profile-level-id from the camera's SPS.</summary>
    public MediaTrack Track { get; private set; }

    public int ViewerCount
    {
        get
        {
            lock (_gate)
            {
                return _viewers.Count;
            }
        }
    }

    public long AccessUnits { get; private set; }

    /// <summary>True when a GOP is cached, so a new viewer starts at once (a pre-warmed sub-stream is used only then).</summary>
    public bool HasGop
    {
        get
        {
            lock (_gate)
            {
                return _gopValid && _gop.Count > 0;
            }
        }
    }

    /// <inheritdoc />
    public void WriteRtp(MediaTrack track, ReadOnlySpan<byte> packet)
    {
        if (track.Kind != MediaKind.Video || track.Codec.Name != Codec.H264)
        {
            return;
        }

        lock (_gate)
        {
            if (!ReferenceEquals(track, _inputTrack))
            {
                // A new RTSP session: new SSRC, sequence and timestamp base, maybe new parameter sets.
                _inputTrack = track;
                _depacketizer = new H264Depacketizer(OnAccessUnit, track.Codec.FmtpParameters.GetValueOrDefault("sprop-parameter-sets"), lendUnits: true);
                _haveOutput = false;

                // The old GOP belongs to the old session's numbering: until this session's first keyframe there is
                // nothing to start a new viewer with, so one is wanted now (unless the session starts with one).
                _needKeyframe = true;
                _keyframeWaitSince = null;
                _keyframeStats?.OnNewSession();
            }

            _depacketizer!.Push(packet);

            // The depacketizer surfaces nothing before a session's first keyframe: keep asking on the packets meanwhile
            // (rate-limited by the source and the hook's caller), so an unanswered RTCP request leads to the hook.
            if (_needKeyframe)
            {
                AskForKeyframe();
            }
        }
    }

    public Viewer AddViewer(IMediaSink sink)
    {
        var viewer = new Viewer(sink, (ushort)Random.Shared.Next(ushort.MaxValue + 1));
        lock (_gate)
        {
            _viewers.Add(viewer);
            if (!ReplayGop(viewer, initial: true))
            {
                WantKeyframe();
            }
        }

        return viewer;
    }

    public void RemoveViewer(Viewer viewer)
    {
        lock (_gate)
        {
            _viewers.Remove(viewer);
        }
    }

    /// <summary>A viewer lost pictures (PLI/FIR): resend the cached GOP, at most once per <see cref="CameraHubOptions.KeyframeRequestInterval"/>.</summary>
    public void RequestKeyframe(Viewer viewer)
    {
        lock (_gate)
        {
            if (!_viewers.Contains(viewer) || (viewer.LastReplay is { } last && _time.GetElapsedTime(last) < _options.KeyframeRequestInterval))
            {
                return;
            }

            if (!ReplayGop(viewer, initial: false))
            {
                WantKeyframe();
            }
        }
    }

    private void OnAccessUnit(H264AccessUnit unit)
    {
        AccessUnits++;
        if (!_haveOutput)
        {
            // Continue the output timeline across reconnects: one frame interval after the last output.
            _timestampOffset = _lastOutputTimestamp + 3600 - unit.Timestamp;
            _haveOutput = true;
        }

        var timestamp = unit.Timestamp + _timestampOffset;
        if (!unit.IsKeyframe && _needKeyframe)
        {
            AskForKeyframe(); // again each frame while waiting; the source lets one request through per interval
        }

        if (unit.IsKeyframe)
        {
            if (_needKeyframe || _keyframeStats is not null)
            {
                _needKeyframe = false;
                _keyframeWaitSince = null;
                _keyframeStats?.OnKeyframe();
            }

            _gop.Clear();
            _gopBytes = 0;
            _gopFrames = 0;
            _gopValid = true;
            for (var i = 0; i < unit.NalUnits.Count; i++)
            {
                var nal = unit.NalUnits[i].Span;
                if (nal.Length > 3 && H264NalUnit.TypeOf(nal[0]) == H264NalUnit.Sps)
                {
                    // profile_idc, constraint flags, level_idc; the fmtp string is made only when they change.
                    var profile = (nal[1] << 16) | (nal[2] << 8) | nal[3];
                    if (profile != _profile)
                    {
                        _profile = profile;
                        var text = H264NalUnit.ProfileLevelId(nal);
                        if (!Track.Codec.FmtpLine.Contains(text, StringComparison.Ordinal))
                        {
                            Track = CreateTrack(text);
                        }
                    }
                }
            }
        }

        _frame = _gopFrames++;
        _packetizer.Packetize(unit.NalUnits, timestamp, _onPacket);
        _lastOutputTimestamp = timestamp;
    }

    private void OnPacket(ReadOnlySpan<byte> packet)
    {
        if (_gopValid)
        {
            if (_gopBytes + packet.Length > _options.MaxGopBytes)
            {
                // A GOP too long to keep: new viewers wait for the next keyframe instead.
                _gop.Clear();
                _gopBytes = 0;
                _gopValid = false;
            }
            else
            {
                if (_gopBytes + packet.Length > _gopBuffer.Length)
                {
                    // Grows to the largest GOP seen and is then reused: no allocation per packet.
                    Array.Resize(ref _gopBuffer, Math.Min(_options.MaxGopBytes, Math.Max(_gopBytes + packet.Length, Math.Max(64 * 1024, _gopBuffer.Length * 2))));
                }

                packet.CopyTo(_gopBuffer.AsSpan(_gopBytes));
                _gop.Add(new GopPacket(_gopBytes, packet.Length, _frame));
                _gopBytes += packet.Length;
            }
        }

        for (var i = _viewers.Count - 1; i >= 0; i--)
        {
            Send(_viewers[i], packet, null);
        }
    }

    /// <summary>A viewer waits for a keyframe the cache cannot give: ask the camera, now and on every frame until one comes.</summary>
    private void WantKeyframe()
    {
        _needKeyframe = true;
        AskForKeyframe();
    }

    private void AskForKeyframe()
    {
        var now = _time.GetTimestamp();
        _keyframeWaitSince ??= now;
        if (_requestKeyframe?.Invoke() == true)
        {
            _keyframeStats?.OnRequested();
        }

        // RTCP unanswered (or known to be ignored by this camera): the model's keyframe hook, where it has one.
        if (_keyframeHook is not null
            && (_time.GetElapsedTime(_keyframeWaitSince.Value, now) >= _options.KeyframeHookDelay || _keyframeStats?.IgnoresRequests == true))
        {
            _keyframeHook();
        }
    }

    /// <summary>Sends the cached GOP to one viewer; false when there is none to send.</summary>
    private bool ReplayGop(Viewer viewer, bool initial)
    {
        if (!_gopValid || _gop.Count == 0)
        {
            return false;
        }

        viewer.LastReplay = _time.GetTimestamp();
        var frames = _gop[^1].Frame + 1;

        // Last replayed frame lands on the newest output timestamp (joining) or just after what the viewer saw.
        var anchor = initial || !viewer.HasSent ? _lastOutputTimestamp - (uint)(frames - 1) : viewer.LastTimestamp + 1;
        foreach (var packet in _gop)
        {
            Send(viewer, _gopBuffer.AsSpan(packet.Offset, packet.Length), anchor + (uint)packet.Frame);
        }

        return true;
    }

    private void Send(Viewer viewer, ReadOnlySpan<byte> packet, uint? timestamp)
    {
        var ts = timestamp ?? System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(packet[4..]);
        packet.CopyTo(_scratch);
        var span = _scratch.AsSpan(0, packet.Length);
        RtpPacket.SetSequenceAndTimestamp(span, viewer.NextSequence++, ts);
        viewer.LastTimestamp = ts;
        viewer.HasSent = true;
        try
        {
            viewer.Sink.WriteRtp(Track, span);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            _logger.LogWarning(ex, "Viewer sink failed; removing it");
            _viewers.Remove(viewer);
        }
    }

    private static MediaTrack CreateTrack(string profileLevelId) => new(
        MediaKind.Video,
        new Codec(Codec.H264, 90000, 96, 0, "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=" + profileLevelId),
        "video");

    /// <summary>Where one cached packet sits in the GOP buffer, and which frame of the GOP it belongs to.</summary>
    private readonly record struct GopPacket(int Offset, int Length, int Frame);

    /// <summary>Per-viewer numbering state.</summary>
    internal sealed class Viewer(IMediaSink sink, ushort firstSequence)
    {
        public IMediaSink Sink { get; } = sink;

        public ushort NextSequence { get; set; } = firstSequence;

        public uint LastTimestamp { get; set; }

        public bool HasSent { get; set; }

        public long? LastReplay { get; set; }
    }
}
