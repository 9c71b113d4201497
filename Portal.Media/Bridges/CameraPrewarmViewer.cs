using Portal.Media.Core;
using Portal.Media.Rtp;

namespace Portal.Media.Bridges;

/// <summary>
/// A viewer started on a pre-warmed camera's sub-stream (issue #15, item 3): it is a viewer of both the sub-stream and the
/// main stream, passes the sub-stream's packets on (its cached GOP first, so the browser decodes at once) until the main
/// stream's first packet arrives, then passes only the main stream's.
/// </summary>
/// <remarks>
/// The main stream's first packet to a viewer is always the start of a keyframe with SPS/PPS before it (the stream sends
/// nothing before its session's first IDR, and a replay starts with one), so the switch lands on a picture the decoder
/// can start from: the browser sees one RTP stream whose SPS changes at an IDR (a resolution change Chromium handles),
/// with no renegotiation. Sequence numbers run on without a gap across the switch; the main stream's timestamps are moved
/// to continue one frame (3600 ticks of 90 kHz, 40 ms) after the last sub-stream frame.
/// Both streams call in on their own receive loops: one lock orders them. The sub-stream viewer is let go off that lock
/// (on the thread pool), so no receive loop ever waits for the other stream's lock while holding this one.
/// </remarks>
internal sealed class CameraPrewarmViewer
{
    private const uint FrameTicks = 3600;

    private readonly Lock _gate = new();
    private readonly IMediaSink _sink;
    private readonly byte[] _buffer;
    private CameraStream? _subStream;
    private CameraStream.Viewer? _subViewer;
    private ushort _sequence = (ushort)Random.Shared.Next(ushort.MaxValue + 1);
    private uint _lastTimestamp;
    private bool _sent;
    private bool _onMain;
    private uint _mainOffset;

    public CameraPrewarmViewer(IMediaSink sink, int mtu)
    {
        _sink = sink;
        _buffer = new byte[mtu];
        Main = new Leg(this, main: true);
        Sub = new Leg(this, main: false);
    }

    /// <summary>The sink to add to the main stream.</summary>
    public IMediaSink Main { get; }

    /// <summary>The sink to add to the sub-stream.</summary>
    public IMediaSink Sub { get; }

    /// <summary>True once the main stream has taken over.</summary>
    public bool OnMain
    {
        get
        {
            lock (_gate)
            {
                return _onMain;
            }
        }
    }

    /// <summary>The sub-stream and this viewer's place in it, so it can be let go (once) after the switch or on dispose.</summary>
    public void AttachSub(CameraStream stream, CameraStream.Viewer viewer)
    {
        bool release;
        lock (_gate)
        {
            release = _onMain;
            if (!release)
            {
                (_subStream, _subViewer) = (stream, viewer);
            }
        }

        if (release)
        {
            stream.RemoveViewer(viewer); // the main stream took over while the sub-stream's GOP was being replayed
        }
    }

    /// <summary>A browser's PLI/FIR while still on the sub-stream: replay the sub-stream's GOP. False once on the main stream.</summary>
    public bool TryRequestSubKeyframe()
    {
        CameraStream? stream;
        CameraStream.Viewer? viewer;
        lock (_gate)
        {
            (stream, viewer) = (_subStream, _subViewer);
        }

        if (stream is null || viewer is null)
        {
            return false;
        }

        stream.RequestKeyframe(viewer);
        return true;
    }

    /// <summary>Lets go of the sub-stream (the subscription ends).</summary>
    public void ReleaseSub()
    {
        CameraStream? stream;
        CameraStream.Viewer? viewer;
        lock (_gate)
        {
            (stream, viewer) = (_subStream, _subViewer);
            (_subStream, _subViewer) = (null, null);
        }

        if (stream is not null && viewer is not null)
        {
            stream.RemoveViewer(viewer);
        }
    }

    private void Write(bool main, MediaTrack track, ReadOnlySpan<byte> packet)
    {
        if (packet.Length < 12 || packet.Length > _buffer.Length)
        {
            return;
        }

        CameraStream? releaseStream = null;
        CameraStream.Viewer? releaseViewer = null;
        lock (_gate)
        {
            var timestamp = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(packet[4..]);
            if (main && !_onMain)
            {
                _onMain = true;
                _mainOffset = _sent ? _lastTimestamp + FrameTicks - timestamp : 0;
                (releaseStream, releaseViewer) = (_subStream, _subViewer);
                (_subStream, _subViewer) = (null, null);
            }
            else if (!main && _onMain)
            {
                return;
            }

            if (main)
            {
                timestamp += _mainOffset;
            }

            packet.CopyTo(_buffer);
            var span = _buffer.AsSpan(0, packet.Length);
            RtpPacket.SetSequenceAndTimestamp(span, _sequence++, timestamp);
            _lastTimestamp = timestamp;
            _sent = true;
            _sink.WriteRtp(track, span);
        }

        if (releaseStream is not null && releaseViewer is not null)
        {
            // Called on the main stream's receive loop under its lock: the sub-stream's lock is taken elsewhere.
            var (stream, viewer) = (releaseStream, releaseViewer);
            ThreadPool.UnsafeQueueUserWorkItem(_ => stream.RemoveViewer(viewer), null);
        }
    }

    /// <summary>One of the two streams' view of this viewer.</summary>
    private sealed class Leg(CameraPrewarmViewer owner, bool main) : IMediaSink
    {
        public void WriteRtp(MediaTrack track, ReadOnlySpan<byte> packet) => owner.Write(main, track, packet);
    }
}
