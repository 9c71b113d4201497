using System.Buffers.Binary;
using System.Net;
using Microsoft.Extensions.Time.Testing;
using Portal.Media.Core;
using Portal.Media.Rtp.Rtcp;
using Portal.Media.WebRtc;
using Xunit;

namespace Portal.Tests.Media.WebRtc;

public class WebRtcRtpReceiverTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 25, 8, 0, 0, TimeSpan.Zero));

    [Fact]
    public void CreateReportBlock_BeforeAnyPacket_IsNull()
    {
        Assert.Null(CreateReceiver().CreateReportBlock());
    }

    [Fact]
    public void CreateReportBlock_LossAcrossSequenceWrap_CountsExtendedSequenceAndLoss()
    {
        var receiver = CreateReceiver();
        foreach (var seq in new ushort[] { 65533, 65534, 1, 2 }) // 65535 and 0 lost, wraps once
        {
            receiver.OnRtp(Rtp(seq, timestamp: (uint)seq * 160));
            _time.Advance(TimeSpan.FromMilliseconds(20));
        }

        var block = receiver.CreateReportBlock()!.Value;

        Assert.Equal(0x10000u + 2, block.ExtendedHighestSequence);
        Assert.Equal(2, block.CumulativeLost);
        Assert.Equal((byte)(2 * 256 / 6), block.FractionLost);
        Assert.Equal(0x1234u, block.Ssrc);

        // Next interval without loss: fraction back to zero, cumulative loss kept.
        receiver.OnRtp(Rtp(3, 480));
        var next = receiver.CreateReportBlock()!.Value;
        Assert.Equal(0, next.FractionLost);
        Assert.Equal(2, next.CumulativeLost);
    }

    [Fact]
    public void CreateReportBlock_AfterSenderReport_EchoesLsrAndDelay()
    {
        var receiver = CreateReceiver();
        receiver.OnRtp(Rtp(1, 0));
        receiver.OnSenderReport(new RtcpSenderReport { Ssrc = 0x1234, NtpTimestamp = 0xAABBCCDD_EEFF0011 });
        _time.Advance(TimeSpan.FromSeconds(0.5));

        var block = receiver.CreateReportBlock()!.Value;

        Assert.Equal(0xCCDDEEFFu, block.LastSenderReport);
        Assert.Equal(32768u, block.DelaySinceLastSenderReport);
    }

    [Fact]
    public void OnRtp_SteadyPacing_KeepsJitterNearZero()
    {
        var receiver = CreateReceiver();
        for (ushort seq = 0; seq < 50; seq++)
        {
            receiver.OnRtp(Rtp(seq, (uint)seq * 160));
            _time.Advance(TimeSpan.FromMilliseconds(20));
        }

        Assert.True(receiver.CreateReportBlock()!.Value.Jitter <= 1);
    }

    private WebRtcRtpReceiver CreateReceiver()
    {
        var local = new WebRtcLocalDescription("u", "p", "sha-256 AA", new IPEndPoint(IPAddress.Loopback, 1), ["PCMU"]);
        Assert.True(WebRtcSdp.TryNegotiate(WebRtcOffers.Console("sha-256 AA:BB"), local, out var negotiation, out var error), error);
        var audio = negotiation.Tracks.Single(t => t.Kind == MediaKind.Audio);
        return new WebRtcRtpReceiver(audio, _time);
    }

    private static byte[] Rtp(ushort seq, uint timestamp)
    {
        var packet = new byte[12 + 160];
        packet[0] = 0x80;
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(2), seq);
        BinaryPrimitives.WriteUInt32BigEndian(packet.AsSpan(4), timestamp);
        BinaryPrimitives.WriteUInt32BigEndian(packet.AsSpan(8), 0x1234);
        return packet;
    }
}
