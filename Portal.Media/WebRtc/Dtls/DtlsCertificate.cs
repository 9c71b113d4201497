using System.Globalization;
using System.Security.Cryptography;
using Org.BouncyCastle.Asn1.Sec;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Generators;
using Org.BouncyCastle.Crypto.Operators;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Math;
using Org.BouncyCastle.Security;
using Org.BouncyCastle.Tls;
using Org.BouncyCastle.Tls.Crypto;
using Org.BouncyCastle.Tls.Crypto.Impl.BC;
using Org.BouncyCastle.X509;

namespace Portal.Media.WebRtc.Dtls;

/// <summary>
/// A self-signed ECDSA P-256 certificate for DTLS-SRTP. WebRTC authenticates it by the SHA-256 fingerprint in the
/// SDP (RFC 8122 §5, RFC 8827 §6.5), not by a CA, so one is generated at start-up and never stored.
/// SHA-1 fingerprints (allowed by RFC 8122) are refused: every current browser sends sha-256.
/// </summary>
public sealed class DtlsCertificate
{
    private DtlsCertificate(AsymmetricKeyParameter privateKey, byte[] der)
    {
        PrivateKey = privateKey;
        Der = der;
        Fingerprint = ComputeFingerprint("sha-256", der);
    }

    /// <summary>SDP form, e.g. <c>sha-256 AB:CD:...</c> (for <c>a=fingerprint:</c>).</summary>
    public string Fingerprint { get; }

    internal AsymmetricKeyParameter PrivateKey { get; }

    internal byte[] Der { get; }

    /// <summary>Generates a key pair and a certificate valid from yesterday for <paramref name="lifetime"/> (default 30 days).</summary>
    public static DtlsCertificate Generate(TimeProvider? timeProvider = null, TimeSpan? lifetime = null)
    {
        var random = new SecureRandom();
        var generator = new ECKeyPairGenerator("EC");
        generator.Init(new ECKeyGenerationParameters(SecObjectIdentifiers.SecP256r1, random));
        var keys = generator.GenerateKeyPair();

        var now = (timeProvider ?? TimeProvider.System).GetUtcNow().UtcDateTime;
        var name = new X509Name("CN=SchoolSafetyPortal WebRTC");
        var builder = new X509V3CertificateGenerator();
        builder.SetSerialNumber(new BigInteger(1, RandomNumberGenerator.GetBytes(8)));
        builder.SetIssuerDN(name);
        builder.SetSubjectDN(name);
        builder.SetNotBefore(now.AddDays(-1)); // tolerate a browser clock that runs a little behind
        builder.SetNotAfter(now + (lifetime ?? TimeSpan.FromDays(30)));
        builder.SetPublicKey(keys.Public);
        var certificate = builder.Generate(new Asn1SignatureFactory("SHA256WITHECDSA", keys.Private, random));
        return new DtlsCertificate(keys.Private, certificate.GetEncoded());
    }

    /// <summary>Formats a certificate fingerprint as SDP writes it: algorithm, space, upper-case hex pairs joined by colons.</summary>
    public static string ComputeFingerprint(string algorithm, ReadOnlySpan<byte> der)
    {
        var hash = algorithm.ToLowerInvariant() switch
        {
            "sha-256" => SHA256.HashData(der),
            "sha-384" => SHA384.HashData(der),
            "sha-512" => SHA512.HashData(der),
            _ => throw new NotSupportedException("Unsupported fingerprint hash " + algorithm),
        };
        return algorithm.ToLowerInvariant() + " " + string.Join(':', hash.Select(b => b.ToString("X2", CultureInfo.InvariantCulture)));
    }

    /// <summary>Whether <paramref name="der"/> matches an SDP fingerprint (algorithm and hex compared case-insensitively).</summary>
    public static bool MatchesFingerprint(string sdpFingerprint, ReadOnlySpan<byte> der)
    {
        var space = sdpFingerprint.IndexOf(' ', StringComparison.Ordinal);
        if (space <= 0)
        {
            return false;
        }

        var algorithm = sdpFingerprint[..space].Trim().ToLowerInvariant();
        if (algorithm is not ("sha-256" or "sha-384" or "sha-512"))
        {
            return false;
        }

        var expected = ComputeFingerprint(algorithm, der);
        return string.Equals(expected, algorithm + " " + sdpFingerprint[(space + 1)..].Trim(), StringComparison.OrdinalIgnoreCase);
    }

    internal Certificate ToTlsCertificate(BcTlsCrypto crypto) =>
        new([new BcTlsCertificate(crypto, Der)]);

    internal TlsCredentialedSigner CreateSigner(TlsContext context, BcTlsCrypto crypto) =>
        new BcDefaultTlsCredentialedSigner(
            new TlsCryptoParameters(context),
            crypto,
            PrivateKey,
            ToTlsCertificate(crypto),
            new SignatureAndHashAlgorithm(Org.BouncyCastle.Tls.HashAlgorithm.sha256, SignatureAlgorithm.ecdsa));
}
