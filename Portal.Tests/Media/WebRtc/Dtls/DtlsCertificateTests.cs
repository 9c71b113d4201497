using System.Text.RegularExpressions;
using Portal.Media.WebRtc.Dtls;
using Xunit;

namespace Portal.Tests.Media.WebRtc.Dtls;

public partial class DtlsCertificateTests
{
    [Fact]
    public void Generate_Fingerprint_IsSdpSha256Form()
    {
        var certificate = DtlsCertificate.Generate();

        Assert.Matches(FingerprintPattern(), certificate.Fingerprint);
        Assert.True(DtlsCertificate.MatchesFingerprint(certificate.Fingerprint, certificate.Der));
        Assert.True(DtlsCertificate.MatchesFingerprint(certificate.Fingerprint.ToLowerInvariant(), certificate.Der));
    }

    [Fact]
    public void MatchesFingerprint_OtherCertificateOrAlgorithm_IsFalse()
    {
        var a = DtlsCertificate.Generate();
        var b = DtlsCertificate.Generate();

        Assert.False(DtlsCertificate.MatchesFingerprint(a.Fingerprint, b.Der));
        Assert.False(DtlsCertificate.MatchesFingerprint("sha-1 " + a.Fingerprint[8..], a.Der));
        Assert.False(DtlsCertificate.MatchesFingerprint("garbage", a.Der));
    }

    [Fact]
    public void FromKeyingMaterial_Rfc5764Layout_SplitsKeysAndSalts()
    {
        var material = Enumerable.Range(0, DtlsSrtpKeys.MaterialLength).Select(i => (byte)i).ToArray();

        var keys = DtlsSrtpKeys.FromKeyingMaterial(material);

        Assert.Equal(material[..16], keys.ClientKey);
        Assert.Equal(material[16..32], keys.ServerKey);
        Assert.Equal(material[32..46], keys.ClientSalt);
        Assert.Equal(material[46..60], keys.ServerSalt);
    }

    [GeneratedRegex("^sha-256 ([0-9A-F]{2}:){31}[0-9A-F]{2}$")]
    private static partial Regex FingerprintPattern();
}
