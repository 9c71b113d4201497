using Portal.Media.WebRtc.Srtp;
using Xunit;

namespace Portal.Tests.Media.WebRtc.Srtp;

public class SrtpKeyDerivationTests
{
    // RFC 3711 Appendix B.3.
    private static readonly byte[] MasterKey = Convert.FromHexString("E1F97A0D3E018BE0D64FA32C06DE4139");
    private static readonly byte[] MasterSalt = Convert.FromHexString("0EC675AD498AFEEBB6960B3AABE6");

    [Theory]
    [InlineData(SrtpKeyDerivation.RtpEncryptionLabel, "C61E7A93744F39EE10734AFE3FF7A087")]
    [InlineData(SrtpKeyDerivation.RtpSaltLabel, "30CBBC08863D8C85D49DB34A9AE1")]
    [InlineData(SrtpKeyDerivation.RtpAuthenticationLabel, "CEBE321F6FF7716B6FD4AB49AF256A156D38BAA4")]
    public void Derive_Rfc3711AppendixB3_MatchesPublishedKeys(byte label, string expected)
    {
        var output = new byte[expected.Length / 2];

        SrtpKeyDerivation.Derive(MasterKey, MasterSalt, label, output);

        Assert.Equal(expected, Convert.ToHexString(output));
    }

    [Fact]
    public void Derive_WrongMasterKeyLength_Throws()
    {
        Assert.Throws<ArgumentException>(() => SrtpKeyDerivation.Derive(new byte[15], MasterSalt, 0, new byte[16]));
    }
}
