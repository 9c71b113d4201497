using Portal.Media.WebRtc.Srtp;
using Xunit;

namespace Portal.Tests.Media.WebRtc.Srtp;

public class AesCounterModeTests
{
    // RFC 3711 Appendix B.2: session key, and the IV (salt * 2^16) for SSRC 0 and index 0.
    private static readonly byte[] SessionKey = Convert.FromHexString("2B7E151628AED2A6ABF7158809CF4F3C");
    private static readonly byte[] Iv = Convert.FromHexString("F0F1F2F3F4F5F6F7F8F9FAFBFCFD0000");

    [Theory]
    [InlineData(0x0000, "E03EAD0935C95E80E166B16DD92B4EB4")]
    [InlineData(0x0001, "D23513162B02D0F72A43A2FE4A5F97AB")]
    [InlineData(0x0002, "41E95B3BB0A2E8DD477901E4FCA894C0")]
    [InlineData(0xFEFF, "EC8CDF7398607CB0F2D21675EA9EA1E4")]
    [InlineData(0xFF00, "362B7C3C6773516318A077D7FC5073AE")]
    [InlineData(0xFF01, "6A2CC3787889374FBEB4C81B17BA6C44")]
    public void Transform_Rfc3711AppendixB2_ProducesPublishedKeystream(int block, string expected)
    {
        using var cipher = new AesCounterMode(SessionKey);
        var keystream = new byte[16];

        cipher.Transform(Iv, keystream, (ulong)block);

        Assert.Equal(expected, Convert.ToHexString(keystream));
    }

    [Fact]
    public void Transform_WholeSegmentInOneCall_MatchesBlockAtATime()
    {
        using var cipher = new AesCounterMode(SessionKey);
        var whole = new byte[0xFF02 * 16];

        cipher.Transform(Iv, whole);

        Assert.Equal("E03EAD0935C95E80E166B16DD92B4EB4", Convert.ToHexString(whole, 0, 16));
        Assert.Equal("362B7C3C6773516318A077D7FC5073AE", Convert.ToHexString(whole, 0xFF00 * 16, 16));
        Assert.Equal("6A2CC3787889374FBEB4C81B17BA6C44", Convert.ToHexString(whole, 0xFF01 * 16, 16));
    }
}
