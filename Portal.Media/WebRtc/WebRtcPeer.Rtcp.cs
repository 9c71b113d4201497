using Portal.Media.Rtp.Rtcp;
using Portal.Media.WebRtc.Srtp;

namespace Portal.Media.WebRtc;

/// <summary>RTCP half of <see cref="WebRtcPeer"/>: reports we send, feedback we receive, keyframe requests both ways.</summary>
public sealed partial class WebRtcPeer
{
    /// <summary>Sends one compound RTCP packet with a sender report per track that has sent media.</summary>
    internal void SendReports()
    {
        var srtp = Volatile.Read(ref _outbound);
        if (srtp is null)
        {
            return;
        }

        lock (_rtcpBuffer)
        {
            var length = 0;
            var cnames = new List<(uint, string)>(_senders.Count);
            foreach (var sender in _senders.Values)
            {
                if (sender.CreateSenderReport() is { } report && length + report.Length + 64 + SrtpContext.SrtcpTrailerLength <= _rtcpBuffer.Length)
                {
                    length += report.Write(_rtcpBuffer.AsSpan(length));
                    cnames.Add((report.Ssrc, WebRtcSdp.StreamId));
                }
            }

            // Reception reports for what the browser sends, in an RR after the SRs (RFC 3550 §6.4.2 allows extra RRs).
            var blocks = new List<RtcpReportBlock>(_receivers.Count);
            foreach (var receiver in _receivers.Values)
            {
                if (receiver.CreateReportBlock() is { } block)
                {
                    blocks.Add(block);
                }
            }

            // Keep room for SDES and the SRTCP trailer; RC is five bits. More than a few receiving tracks never happens.
            var room = (_rtcpBuffer.Length - length - 8 - 128 - SrtpContext.SrtcpTrailerLength) / RtcpReportBlock.Length;
            if (blocks.Count > Math.Min(31, room))
            {
                blocks.RemoveRange(Math.Max(0, Math.Min(31, room)), blocks.Count - Math.Max(0, Math.Min(31, room)));
            }

            if (blocks.Count > 0)
            {
                var rr = new RtcpReceiverReport { Ssrc = Tracks[0].LocalSsrc, ReportBlocks = blocks };
                length += rr.Write(_rtcpBuffer.AsSpan(length));
                if (!cnames.Exists(c => c.Item1 == rr.Ssrc))
                {
                    cnames.Add((rr.Ssrc, WebRtcSdp.StreamId));
                }
            }

            if (length == 0)
            {
                return;
            }

            // RFC 3550 §6.1: a compound packet carries the CNAME of its sources.
            var sdes = new RtcpSourceDescription { Chunks = cnames };
            if (length + sdes.Length + SrtpContext.SrtcpTrailerLength <= _rtcpBuffer.Length)
            {
                length += sdes.Write(_rtcpBuffer.AsSpan(length));
            }

            ProtectAndSendRtcp(srtp, length);
        }
    }

    /// <summary>
    /// Asks the browser for a keyframe on a track it sends (PLI, RFC 4585 §6.3.1), e.g. when the SIP intercom
    /// terminal asks for one. False when the track does not receive, has no SSRC yet, or PLI was not negotiated.
    /// </summary>
    public bool RequestKeyframe(WebRtcTrack track)
    {
        ArgumentNullException.ThrowIfNull(track);
        var srtp = Volatile.Read(ref _outbound);
        if (srtp is null || !track.CanReceive || track.RemoteSsrc is not { } mediaSsrc || !track.Feedback.HasFlag(WebRtcFeedback.Pli))
        {
            return false;
        }

        lock (_rtcpBuffer)
        {
            var length = new RtcpPli(Tracks[0].LocalSsrc, mediaSsrc).Write(_rtcpBuffer);
            return ProtectAndSendRtcp(srtp, length);
        }
    }

    private bool ProtectAndSendRtcp(SrtpContext srtp, int length)
    {
        if (!srtp.TryProtectRtcp(_rtcpBuffer, length, out var protectedLength, out _))
        {
            return false;
        }

        SendMedia(_rtcpBuffer.AsSpan(0, protectedLength));
        return true;
    }

    private void HandleRtcp(ReadOnlySpan<byte> compound)
    {
        var reader = new RtcpCompoundReader(compound);
        while (reader.TryReadNext(out var header, out var packet, out _))
        {
            switch (header.PacketType)
            {
                case RtcpPacketType.PayloadFeedback when header.Count == RtcpPacketType.PictureLossFormat && RtcpPli.TryParse(packet, out var pli, out _):
                    RaiseKeyframe(pli.MediaSsrc);
                    break;
                case RtcpPacketType.PayloadFeedback when header.Count == RtcpPacketType.FullIntraRequestFormat && RtcpFir.TryParse(packet, out var fir, out _):
                    foreach (var entry in fir.Entries)
                    {
                        RaiseKeyframe(entry.Ssrc);
                    }

                    break;
                case RtcpPacketType.TransportFeedback when header.Count == RtcpPacketType.GenericNackFormat && RtcpNack.TryParse(packet, out var nack, out _):
                    var sender = _senders.Values.FirstOrDefault(s => s.Track.LocalSsrc == nack.MediaSsrc);
                    var srtp = Volatile.Read(ref _outbound);
                    if (sender is not null && srtp is not null)
                    {
                        sender.Retransmit(nack.GetLostSequenceNumbers(), srtp, _sendMedia);
                    }

                    break;
                case RtcpPacketType.SenderReport when RtcpSenderReport.TryParse(packet, out var report, out _):
                    foreach (var receiver in _receivers.Values)
                    {
                        if (receiver.Track.RemoteSsrc == report.Ssrc)
                        {
                            receiver.OnSenderReport(report);
                        }
                    }

                    break;
                default:
                    break; // RR/SDES/BYE/REMB/transport-cc: nothing we act on
            }
        }
    }

    private void RaiseKeyframe(uint mediaSsrc)
    {
        var track = Tracks.FirstOrDefault(t => t.CanSend && t.LocalSsrc == mediaSsrc);
        if (track is not null)
        {
            KeyframeRequested?.Invoke(this, track);
        }
    }
}
