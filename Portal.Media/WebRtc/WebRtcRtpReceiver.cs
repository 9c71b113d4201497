using System.Buffers.Binary;
using Portal.Media.Rtp.Rtcp;

namespace Portal.Media.WebRtc;

/// <summary>
/// Receive statistics of one track the browser sends, for the report block of our receiver reports
/// (RFC 3550 §6.4.1, algorithms of Appendix A.1, A.3 and A.8).
/// </summary>
/// <remarks>
/// Without receiver reports a browser's loss-based bandwidth estimate never learns the path is clean, and the
/// intercom video would stay at its start bitrate. Updated on the receive loop, read on the RTCP timer.
/// </remarks>
internal sealed class WebRtcRtpReceiver(WebRtcTrack track, TimeProvider timeProvider)
{
    private readonly Lock _sync = new();
    private bool _initialized;
    private uint _ssrc;
    private uint _baseSeq;
    private ushort _maxSeq;
    private uint _cycles;
    private uint _received;
    private uint _expectedPrior;
    private uint _receivedPrior;
    private double _jitter;
    private long _lastTransit;
    private bool _hasTransit;
    private uint _lastSenderReport;
    private long _lastSenderReportTicks;

    public WebRtcTrack Track => track;

    public void OnRtp(ReadOnlySpan<byte> rtp)
    {
        var seq = BinaryPrimitives.ReadUInt16BigEndian(rtp[2..]);
        var timestamp = BinaryPrimitives.ReadUInt32BigEndian(rtp[4..]);
        var arrival = (long)((double)timeProvider.GetTimestamp() / timeProvider.TimestampFrequency * track.Codec.ClockRate);
        lock (_sync)
        {
            if (!_initialized)
            {
                _initialized = true;
                _ssrc = BinaryPrimitives.ReadUInt32BigEndian(rtp[8..]);
                _baseSeq = seq;
                _maxSeq = seq;
            }
            else if ((ushort)(seq - _maxSeq) is > 0 and < 0x8000)
            {
                if (seq < _maxSeq)
                {
                    _cycles += 0x10000; // A.1: the sequence number wrapped
                }

                _maxSeq = seq;
            }

            _received++;

            // A.8: interarrival jitter in timestamp units, smoothed by 1/16.
            var transit = arrival - timestamp;
            if (_hasTransit)
            {
                _jitter += (Math.Abs(transit - _lastTransit) - _jitter) / 16;
            }

            _lastTransit = transit;
            _hasTransit = true;
        }
    }

    /// <summary>Remembers the browser's sender report for LSR/DLSR, from which it computes round-trip time.</summary>
    public void OnSenderReport(RtcpSenderReport report)
    {
        lock (_sync)
        {
            _lastSenderReport = (uint)(report.NtpTimestamp >> 16); // middle 32 bits of the NTP timestamp
            _lastSenderReportTicks = timeProvider.GetTimestamp();
        }
    }

    /// <summary>The report block for this interval, or null before the first packet (A.3).</summary>
    public RtcpReportBlock? CreateReportBlock()
    {
        lock (_sync)
        {
            if (!_initialized)
            {
                return null;
            }

            var extendedMax = _cycles + _maxSeq;
            var expected = extendedMax - _baseSeq + 1;
            var lost = (int)Math.Clamp((long)expected - _received, -0x800000, 0x7FFFFF);
            var expectedInterval = expected - _expectedPrior;
            var receivedInterval = _received - _receivedPrior;
            _expectedPrior = expected;
            _receivedPrior = _received;
            var lostInterval = (long)expectedInterval - receivedInterval;
            var fraction = expectedInterval == 0 || lostInterval <= 0 ? (byte)0 : (byte)((lostInterval << 8) / expectedInterval);
            var delay = _lastSenderReportTicks == 0
                ? 0u
                : (uint)(timeProvider.GetElapsedTime(_lastSenderReportTicks).TotalSeconds * 65536); // units of 1/65536 s
            return new RtcpReportBlock(_ssrc, fraction, lost, extendedMax, (uint)_jitter, _lastSenderReport, delay);
        }
    }
}
