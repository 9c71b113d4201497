using System.Buffers.Binary;
using Portal.Media.WebRtc.Srtp;
using Xunit;

namespace Portal.Tests.Media.WebRtc.Srtp;

public class SrtpContextTests
{
    // libsrtp test/srtp_driver.c reference packets (AES_CM_128_HMAC_SHA1_80, RFC 3711 B.3 master key).
    private static readonly byte[] MasterKey = Convert.FromHexString("E1F97A0D3E018BE0D64FA32C06DE4139");
    private static readonly byte[] MasterSalt = Convert.FromHexString("0EC675AD498AFEEBB6960B3AABE6");
    private const string ReferenceRtp = "800F1234DECAFBADCAFEBABEABABABABABABABABABABABABABABABAB";
    private const string ReferenceSrtp = "800F1234DECAFBADCAFEBABE4E55DC4CE79978D88CA4D215949D2402B78D6ACC99EA179B8DBB";
    private const string ReferenceRtcp = "81C8000BCAFEBABEABABABABABABABABABABABABABABABAB";
    private const string ReferenceSrtcp = "81C8000BCAFEBABE7128035BE487B9BDBEF89041F977A5A880000001993E08CD54D6C1230798";

    [Fact]
    public void TryProtectRtp_LibsrtpReferencePacket_ProducesExactBytes()
    {
        using var context = new SrtpContext(MasterKey, MasterSalt);
        var buffer = new byte[64];
        var plain = Convert.FromHexString(ReferenceRtp);
        plain.CopyTo(buffer, 0);

        Assert.True(context.TryProtectRtp(buffer, plain.Length, out var length, out var error), error);

        Assert.Equal(ReferenceSrtp, Convert.ToHexString(buffer, 0, length));
    }

    [Fact]
    public void TryUnprotectRtp_LibsrtpReferencePacket_RecoversPlaintext()
    {
        using var context = new SrtpContext(MasterKey, MasterSalt);
        var packet = Convert.FromHexString(ReferenceSrtp);

        Assert.True(context.TryUnprotectRtp(packet, out var length, out var error), error);

        Assert.Equal(ReferenceRtp, Convert.ToHexString(packet, 0, length));
    }

    [Fact]
    public void TryUnprotectRtcp_LibsrtpReferencePacket_RecoversPlaintext()
    {
        using var context = new SrtpContext(MasterKey, MasterSalt);
        var packet = Convert.FromHexString(ReferenceSrtcp);

        Assert.True(context.TryUnprotectRtcp(packet, out var length, out var error), error);

        Assert.Equal(ReferenceRtcp, Convert.ToHexString(packet, 0, length));
    }

    [Fact]
    public void TryProtectRtcp_ThenUnprotect_RoundTrips()
    {
        using var sender = new SrtpContext(MasterKey, MasterSalt);
        using var receiver = new SrtpContext(MasterKey, MasterSalt);
        var plain = Convert.FromHexString(ReferenceRtcp);
        for (var i = 0; i < 3; i++)
        {
            var buffer = new byte[plain.Length + SrtpContext.SrtcpTrailerLength];
            plain.CopyTo(buffer, 0);
            Assert.True(sender.TryProtectRtcp(buffer, plain.Length, out var protectedLength, out var error), error);
            Assert.Equal(buffer.Length, protectedLength);

            Assert.True(receiver.TryUnprotectRtcp(buffer, out var length, out error), error);
            Assert.Equal(ReferenceRtcp, Convert.ToHexString(buffer, 0, length));
        }
    }

    [Fact]
    public void TryUnprotectRtp_SameIndexTwice_RefusesReplay()
    {
        using var context = new SrtpContext(MasterKey, MasterSalt);
        var first = Convert.FromHexString(ReferenceSrtp);
        var again = Convert.FromHexString(ReferenceSrtp);

        Assert.True(context.TryUnprotectRtp(first, out _, out _));
        Assert.False(context.TryUnprotectRtp(again, out _, out var error));
        Assert.Equal("replayed packet", error);
    }

    [Fact]
    public void TryUnprotectRtcp_SameIndexTwice_RefusesReplay()
    {
        using var context = new SrtpContext(MasterKey, MasterSalt);

        Assert.True(context.TryUnprotectRtcp(Convert.FromHexString(ReferenceSrtcp), out _, out _));
        Assert.False(context.TryUnprotectRtcp(Convert.FromHexString(ReferenceSrtcp), out _, out var error));
        Assert.Equal("replayed packet", error);
    }

    [Fact]
    public void TryUnprotectRtp_PacketOlderThanWindow_Refuses()
    {
        using var sender = new SrtpContext(MasterKey, MasterSalt);
        using var receiver = new SrtpContext(MasterKey, MasterSalt);
        var old = Protect(sender, 100);
        var recent = Protect(sender, 100 + SrtpReplayWindow.Size);

        Assert.True(receiver.TryUnprotectRtp(recent, out _, out _));
        Assert.False(receiver.TryUnprotectRtp(old, out _, out var error));
        Assert.Contains("older", error, StringComparison.Ordinal);
    }

    [Fact]
    public void TryUnprotectRtp_ReorderedWithinWindow_Accepts()
    {
        using var sender = new SrtpContext(MasterKey, MasterSalt);
        using var receiver = new SrtpContext(MasterKey, MasterSalt);
        var a = Protect(sender, 10);
        var b = Protect(sender, 11);
        var c = Protect(sender, 12);

        Assert.True(receiver.TryUnprotectRtp(a, out _, out _));
        Assert.True(receiver.TryUnprotectRtp(c, out _, out _));
        Assert.True(receiver.TryUnprotectRtp(b, out _, out var error), error);
    }

    [Fact]
    public void TryUnprotectRtp_TamperedPayloadOrTag_RefusesAuthentication()
    {
        using var context = new SrtpContext(MasterKey, MasterSalt);
        for (var i = 0; i < 38; i++)
        {
            var packet = Convert.FromHexString(ReferenceSrtp);
            packet[i] ^= 0x04;

            Assert.False(context.TryUnprotectRtp(packet, out _, out var error), "byte " + i);
            Assert.False(string.IsNullOrEmpty(error));
        }
    }

    [Fact]
    public void TryUnprotectRtp_WrongKey_RefusesAuthentication()
    {
        var otherKey = (byte[])MasterKey.Clone();
        otherKey[0] ^= 1;
        using var context = new SrtpContext(otherKey, MasterSalt);

        Assert.False(context.TryUnprotectRtp(Convert.FromHexString(ReferenceSrtp), out _, out var error));
        Assert.Equal("SRTP authentication failed", error);
    }

    [Fact]
    public void TryProtectRtp_SequenceWrapsTwice_ReceiverTracksRolloverCounter()
    {
        using var sender = new SrtpContext(MasterKey, MasterSalt);
        using var receiver = new SrtpContext(MasterKey, MasterSalt);
        var seq = 65_000;
        for (var i = 0; i < 70_000; i += 7)
        {
            var packet = Protect(sender, (ushort)(seq + i));
            Assert.True(receiver.TryUnprotectRtp(packet, out var length, out var error), "packet " + i + ": " + error);
            Assert.Equal(0xAB, packet[length - 1]);
        }
    }

    [Fact]
    public void TryProtectRtp_WithCsrcAndExtension_LeavesHeaderInClear()
    {
        using var sender = new SrtpContext(MasterKey, MasterSalt);
        using var receiver = new SrtpContext(MasterKey, MasterSalt);
        var rtp = Convert.FromHexString("9100000100000002000000030000000ABEDE000112345678" + "CDCDCDCD");
        var buffer = new byte[rtp.Length + SrtpContext.AuthTagLength];
        rtp.CopyTo(buffer, 0);

        Assert.True(sender.TryProtectRtp(buffer, rtp.Length, out var length, out var error), error);
        Assert.Equal(Convert.ToHexString(rtp, 0, 24), Convert.ToHexString(buffer, 0, 24));
        Assert.NotEqual("CDCDCDCD", Convert.ToHexString(buffer, 24, 4));

        Assert.True(receiver.TryUnprotectRtp(buffer.AsSpan(0, length), out var plainLength, out error), error);
        Assert.Equal(Convert.ToHexString(rtp), Convert.ToHexString(buffer, 0, plainLength));
    }

    [Fact]
    public void ProtectAndUnprotect_SteadyState_AllocateNothing()
    {
        using var sender = new SrtpContext(MasterKey, MasterSalt);
        using var receiver = new SrtpContext(MasterKey, MasterSalt);
        var rtp = new byte[1200 + SrtpContext.AuthTagLength];
        var rtcp = new byte[64 + SrtpContext.SrtcpTrailerLength];
        var rtcpPlain = Convert.FromHexString(ReferenceRtcp);
        RoundTrip(0); // warm up: per-SSRC state and the AES one-shot cache are created once

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var seq = 1; seq <= 1000; seq++)
        {
            RoundTrip(seq);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);

        void RoundTrip(int seq)
        {
            rtp.AsSpan().Clear();
            rtp[0] = 0x80;
            BinaryPrimitives.WriteUInt16BigEndian(rtp.AsSpan(2), (ushort)seq);
            Assert.True(sender.TryProtectRtp(rtp, 1200, out var length, out _));
            Assert.True(receiver.TryUnprotectRtp(rtp.AsSpan(0, length), out _, out _));
            rtcpPlain.CopyTo(rtcp, 0);
            Assert.True(sender.TryProtectRtcp(rtcp, 24, out length, out _));
            Assert.True(receiver.TryUnprotectRtcp(rtcp.AsSpan(0, length), out _, out _));
        }
    }

    [Fact]
    public void TryUnprotect_FuzzedInput_NeverThrows()
    {
        using var sender = new SrtpContext(MasterKey, MasterSalt);
        using var receiver = new SrtpContext(MasterKey, MasterSalt);
        var seeds = new[] { Protect(sender, 1), Protect(sender, 2), Convert.FromHexString(ReferenceSrtp), Convert.FromHexString(ReferenceSrtcp) };
        var iteration = 0;
        foreach (var input in MediaFuzz.Inputs(3711, seeds))
        {
            iteration++;
            var rtp = (byte[])input.Clone();
            var ok = receiver.TryUnprotectRtp(rtp, out _, out var error);
            Assert.True(ok || error.Length > 0, "RTP iteration " + iteration);
            ok = receiver.TryUnprotectRtcp(input, out _, out error);
            Assert.True(ok || error.Length > 0, "RTCP iteration " + iteration);
        }
    }

    private static byte[] Protect(SrtpContext context, ushort seq)
    {
        var rtp = Convert.FromHexString(ReferenceRtp);
        BinaryPrimitives.WriteUInt16BigEndian(rtp.AsSpan(2), seq);
        var buffer = new byte[rtp.Length + SrtpContext.AuthTagLength];
        rtp.CopyTo(buffer, 0);
        Assert.True(context.TryProtectRtp(buffer, rtp.Length, out var length, out var error), error);
        return buffer[..length];
    }
}
