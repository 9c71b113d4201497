using Portal.Media.WebRtc.Srtp;

namespace Portal.Media.WebRtc.Dtls;

/// <summary>SRTP master keys and salts exported from a DTLS handshake (RFC 5764 §4.2).</summary>
/// <remarks>
/// The exporter (label <c>EXTRACTOR-dtls_srtp</c>, no context, RFC 5705) yields 60 bytes for AES_CM_128_HMAC_SHA1_80:
/// <code>
/// client_write_SRTP_master_key[16] | server_write_SRTP_master_key[16] | client_write_SRTP_master_salt[14] | server_write_SRTP_master_salt[14]
/// </code>
/// The DTLS client (the browser; we answer <c>a=setup:passive</c>) protects with the client keys, so we
/// unprotect with them and protect with the server keys.
/// </remarks>
public sealed record DtlsSrtpKeys(byte[] ClientKey, byte[] ClientSalt, byte[] ServerKey, byte[] ServerSalt)
{
    public const string ExporterLabel = "EXTRACTOR-dtls_srtp";

    public const int MaterialLength = (2 * SrtpKeyDerivation.MasterKeyLength) + (2 * SrtpKeyDerivation.MasterSaltLength);

    public static DtlsSrtpKeys FromKeyingMaterial(ReadOnlySpan<byte> material)
    {
        if (material.Length != MaterialLength)
        {
            throw new ArgumentException("DTLS-SRTP keying material for AES_CM_128 is 60 bytes.", nameof(material));
        }

        const int k = SrtpKeyDerivation.MasterKeyLength;
        const int s = SrtpKeyDerivation.MasterSaltLength;
        return new DtlsSrtpKeys(
            material[..k].ToArray(),
            material.Slice(2 * k, s).ToArray(),
            material.Slice(k, k).ToArray(),
            material.Slice((2 * k) + s, s).ToArray());
    }

    /// <summary>Context for what the server (we) sends.</summary>
    public SrtpContext CreateServerContext() => new(ServerKey, ServerSalt);

    /// <summary>Context for what the client (the browser) sends.</summary>
    public SrtpContext CreateClientContext() => new(ClientKey, ClientSalt);
}
