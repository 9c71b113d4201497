using System.Buffers.Binary;
using Portal.Media.Rtp;
using Portal.Media.Sip.Calls;
using Portal.Simulator.Cameras;

namespace Portal.Simulator.Terminals;

/// <summary>
/// The simulated terminal's side of a call's media: a 1 kHz tone as G.711 every 20 ms and the gate clip as H.264
/// at 25 fps (its camera), and counters of what the portal sends back (the operator's voice).
/// </summary>
/// <remarks>
/// The clip starts at an IDR, and a PLI or FIR from the portal restarts it at the next frame with an IDR, as a
/// terminal's encoder would. Sequence numbers and timestamps run on across the restart.
/// </remarks>
public sealed class TerminalMedia : IAsyncDisposable
{
    private readonly SipCall _call;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _cts = new();
    private readonly byte[][] _tone;
    private readonly H264Packetizer _packetizer = new();
    private readonly RtpPacketWriter _writeVideo;
    private readonly byte[] _audioPacket = new byte[12 + 160];
    private Task _loop = Task.CompletedTask;
    private int _frame;
    private int _restart;
    private long _audioReceived;
    private long _videoReceived;
    private long _audioSent;
    private long _videoSent;

    public TerminalMedia(SipCall call, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(call);
        _call = call;
        _time = time ?? TimeProvider.System;
        _tone = G711.Tone(1000, aLaw: call.Plan?.Audio?.Codec.Name == "PCMA");
        _writeVideo = packet =>
        {
            if (_call.Media.Video.SendRtp(packet))
            {
                Interlocked.Increment(ref _videoSent);
            }
        };
        call.Media.Audio.RtpReceived += (_, _) => Interlocked.Increment(ref _audioReceived);
        call.Media.Video.RtpReceived += (_, _) => Interlocked.Increment(ref _videoReceived);
        call.Media.Video.KeyframeRequested += _ => Interlocked.Exchange(ref _restart, 1);
    }

    /// <summary>The call this media belongs to.</summary>
    public SipCall Call => _call;

    /// <summary>RTP packets of the operator's audio that reached the terminal.</summary>
    public long AudioReceived => Interlocked.Read(ref _audioReceived);

    public long VideoReceived => Interlocked.Read(ref _videoReceived);

    public long AudioSent => Interlocked.Read(ref _audioSent);

    public long VideoSent => Interlocked.Read(ref _videoSent);

    /// <summary>Keyframe requests the portal sent (PLI/FIR).</summary>
    public int KeyframeRequests { get; private set; }

    public bool Started { get; private set; }

    public void Start()
    {
        Started = true;
        _loop = RunAsync(_cts.Token);
    }

    public async ValueTask DisposeAsync()
    {
        if (_cts.IsCancellationRequested)
        {
            return;
        }

        await _cts.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
    }

    private async Task RunAsync(CancellationToken ct)
    {
        var clip = GateClip.Instance;
        var sendVideo = _call.Plan?.Video is { WeSend: true };
        var sendAudio = _call.Plan?.Audio is { WeSend: true };
        _audioPacket[0] = 0x80;
        ushort audioSequence = (ushort)Random.Shared.Next(ushort.MaxValue);
        var audioTimestamp = (uint)Random.Shared.Next();
        var videoTimestamp = (uint)Random.Shared.Next();
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(20), _time);
        var tick = 0L;
        try
        {
            while (await timer.WaitForNextTickAsync(ct).ConfigureAwait(false) && _call.State != SipCallState.Ended)
            {
                if (sendAudio)
                {
                    BinaryPrimitives.WriteUInt16BigEndian(_audioPacket.AsSpan(2), audioSequence++);
                    BinaryPrimitives.WriteUInt32BigEndian(_audioPacket.AsSpan(4), audioTimestamp);
                    _tone[tick % _tone.Length].CopyTo(_audioPacket.AsSpan(12));
                    audioTimestamp += 160;
                    if (_call.Media.Audio.SendRtp(_audioPacket))
                    {
                        Interlocked.Increment(ref _audioSent);
                    }
                }

                if (sendVideo && tick % 2 == 0)
                {
                    if (Interlocked.Exchange(ref _restart, 0) == 1)
                    {
                        _frame = 0; // the clip's first frame is an IDR with SPS/PPS before it
                        KeyframeRequests++;
                    }

                    _packetizer.Packetize(clip.Frames[_frame], videoTimestamp, _writeVideo);
                    _frame = (_frame + 1) % clip.Frames.Count;
                    videoTimestamp += GateClip.TicksPerFrame;
                }

                tick++;
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}
