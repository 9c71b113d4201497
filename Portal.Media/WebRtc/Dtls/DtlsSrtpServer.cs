using Org.BouncyCastle.Tls;
using Org.BouncyCastle.Tls.Crypto.Impl.BC;

namespace Portal.Media.WebRtc.Dtls;

/// <summary>
/// The BouncyCastle TLS server policy for WebRTC: DTLS 1.2 only, ECDHE-ECDSA suites, the use_srtp extension
/// with SRTP_AES128_CM_HMAC_SHA1_80 (RFC 5764 §4.1), a client certificate that must match the offer's fingerprint.
/// </summary>
internal sealed class DtlsSrtpServer(BcTlsCrypto crypto, DtlsCertificate certificate, string? remoteFingerprint, int handshakeTimeoutMillis)
    : DefaultTlsServer(crypto)
{
    private static readonly int[] CipherSuites =
    [
        CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA,
    ];

    /// <summary>Set when the client's certificate matched the expected fingerprint.</summary>
    public bool ClientVerified { get; private set; }

    public override int GetHandshakeTimeoutMillis() => handshakeTimeoutMillis;

    public override void ProcessClientExtensions(IDictionary<int, byte[]> clientExtensions)
    {
        base.ProcessClientExtensions(clientExtensions);
        var useSrtp = TlsSrtpUtilities.GetUseSrtpExtension(clientExtensions)
            ?? throw new TlsFatalAlert(AlertDescription.handshake_failure, "client did not offer use_srtp");
        if (!useSrtp.ProtectionProfiles.Contains(SrtpProtectionProfile.SRTP_AES128_CM_HMAC_SHA1_80))
        {
            throw new TlsFatalAlert(AlertDescription.handshake_failure, "client does not offer SRTP_AES128_CM_HMAC_SHA1_80");
        }
    }

    public override IDictionary<int, byte[]> GetServerExtensions()
    {
        var extensions = TlsExtensionsUtilities.EnsureExtensionsInitialised(base.GetServerExtensions());
        TlsSrtpUtilities.AddUseSrtpExtension(
            extensions, new UseSrtpData([SrtpProtectionProfile.SRTP_AES128_CM_HMAC_SHA1_80], TlsUtilities.EmptyBytes));
        return extensions;
    }

    public override CertificateRequest GetCertificateRequest() =>
        new([ClientCertificateType.ecdsa_sign, ClientCertificateType.rsa_sign], TlsUtilities.GetDefaultSupportedSignatureAlgorithms(m_context), null);

    public override void NotifyClientCertificate(Certificate clientCertificate)
    {
        if (remoteFingerprint is null)
        {
            return; // No fingerprint to hold the client to (tests only; WebRtcPeer always passes one).
        }

        if (clientCertificate is null || clientCertificate.IsEmpty)
        {
            throw new TlsFatalAlert(AlertDescription.bad_certificate, "client sent no certificate");
        }

        if (!DtlsCertificate.MatchesFingerprint(remoteFingerprint, clientCertificate.GetCertificateAt(0).GetEncoded()))
        {
            throw new TlsFatalAlert(AlertDescription.bad_certificate, "client certificate does not match the SDP fingerprint");
        }

        ClientVerified = true;
    }

    /// <summary>RFC 5764 §4.2 keying material, set when the handshake completes.</summary>
    public DtlsSrtpKeys? SrtpKeys { get; private set; }

    public override void NotifyHandshakeComplete()
    {
        base.NotifyHandshakeComplete();

        // BouncyCastle only allows the exporter from inside this callback.
        SrtpKeys = DtlsSrtpKeys.FromKeyingMaterial(m_context.ExportKeyingMaterial(DtlsSrtpKeys.ExporterLabel, null, DtlsSrtpKeys.MaterialLength));
    }

    protected override ProtocolVersion[] GetSupportedVersions() => ProtocolVersion.DTLSv12.Only();

    protected override int[] GetSupportedCipherSuites() => TlsUtilities.GetSupportedCipherSuites(Crypto, CipherSuites);

    protected override TlsCredentialedSigner GetECDsaSignerCredentials() => certificate.CreateSigner(m_context, (BcTlsCrypto)Crypto);
}
