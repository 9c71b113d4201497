using System.Buffers.Binary;
using Portal.Media.Rtp.Rtcp;
using Portal.Media.WebRtc.Srtp;

namespace Portal.Media.WebRtc;

/// <summary>
/// Send side of one track: rewrites SSRC and payload type to what was negotiated, keeps the last packets for NACK
/// (RFC 4585 §6.2.1, plain retransmission with the original sequence number, no RTX), counts for the sender report.
/// </summary>
/// <remarks>
/// One lock per track, so audio and video can be sent from different threads; the buffers are allocated once.
/// </remarks>
internal sealed class WebRtcRtpSender(WebRtcTrack track, TimeProvider timeProvider)
{
    /// <summary>About half a second of 2 Mbit/s video, enough for one NACK round trip on a city network.</summary>
    public const int HistorySize = 128;

    public const int MaxPacketLength = 1500;

    private readonly Lock _sync = new();
    private readonly byte[] _buffer = new byte[MaxPacketLength + SrtpContext.AuthTagLength];
    private readonly byte[]?[] _history = new byte[HistorySize][];
    private readonly int[] _historyLength = new int[HistorySize];
    private readonly int[] _historySeq = new int[HistorySize];
    private uint _packetCount;
    private uint _octetCount;
    private uint _lastTimestamp;
    private long _lastSendTicks;

    public WebRtcTrack Track => track;

    /// <summary>Rewrites, protects and sends one RTP packet; false when the packet is malformed or SRTP refuses it.</summary>
    public bool Send(ReadOnlySpan<byte> rtp, SrtpContext srtp, Action<ReadOnlySpan<byte>> send)
    {
        if (rtp.Length > MaxPacketLength || !SrtpContext.TryGetRtpHeaderLength(rtp, rtp.Length, 0, out var headerLength, out _))
        {
            return false;
        }

        lock (_sync)
        {
            var packet = _buffer.AsSpan(0, rtp.Length);
            rtp.CopyTo(packet);
            packet[1] = (byte)((packet[1] & 0x80) | track.Codec.PayloadType);
            BinaryPrimitives.WriteUInt32BigEndian(packet[8..], track.LocalSsrc);
            var seq = BinaryPrimitives.ReadUInt16BigEndian(packet[2..]);
            // A mask, not HasFlag: until the JIT tiers this method up, HasFlag boxes the enum on every packet.
            if ((track.Feedback & WebRtcFeedback.Nack) != 0)
            {
                Remember(seq, packet);
            }

            _packetCount++;
            _octetCount += (uint)(rtp.Length - headerLength);
            _lastTimestamp = BinaryPrimitives.ReadUInt32BigEndian(packet[4..]);
            _lastSendTicks = timeProvider.GetTimestamp();
            return ProtectAndSend(rtp.Length, srtp, send);
        }
    }

    /// <summary>Resends packets a NACK lists, if still in the history; returns how many were resent.</summary>
    public int Retransmit(IEnumerable<ushort> sequenceNumbers, SrtpContext srtp, Action<ReadOnlySpan<byte>> send)
    {
        var resent = 0;
        lock (_sync)
        {
            foreach (var seq in sequenceNumbers)
            {
                var slot = seq % HistorySize;
                if (_history[slot] is { } stored && _historySeq[slot] == seq)
                {
                    stored.AsSpan(0, _historyLength[slot]).CopyTo(_buffer);
                    resent += ProtectAndSend(_historyLength[slot], srtp, send) ? 1 : 0;
                }
            }
        }

        return resent;
    }

    /// <summary>A sender report for this track, or null before the first packet (RFC 3550 §6.4.1).</summary>
    public RtcpSenderReport? CreateSenderReport()
    {
        lock (_sync)
        {
            if (_packetCount == 0)
            {
                return null;
            }

            // The RTP timestamp must correspond to the NTP time of the report, so extrapolate from the last packet.
            var elapsed = timeProvider.GetElapsedTime(_lastSendTicks);
            var rtpTimestamp = unchecked(_lastTimestamp + (uint)(elapsed.TotalSeconds * track.Codec.ClockRate));
            return new RtcpSenderReport
            {
                Ssrc = track.LocalSsrc,
                NtpTimestamp = RtcpSenderReport.ToNtpTimestamp(timeProvider.GetUtcNow()),
                RtpTimestamp = rtpTimestamp,
                PacketCount = _packetCount,
                OctetCount = _octetCount,
            };
        }
    }

    private void Remember(ushort seq, ReadOnlySpan<byte> packet)
    {
        var slot = seq % HistorySize;
        var stored = _history[slot] ??= new byte[MaxPacketLength];
        packet.CopyTo(stored);
        _historyLength[slot] = packet.Length;
        _historySeq[slot] = seq;
    }

    private bool ProtectAndSend(int length, SrtpContext srtp, Action<ReadOnlySpan<byte>> send)
    {
        if (!srtp.TryProtectRtp(_buffer, length, out var protectedLength, out _))
        {
            return false;
        }

        send(_buffer.AsSpan(0, protectedLength));
        return true;
    }
}
