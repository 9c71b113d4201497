using System.Security.Cryptography;
using System.Text;
using System.Xml.Linq;

namespace Portal.Media.Onvif;

/// <summary>WS-Security UsernameToken with a password digest, the authentication ONVIF requires (ONVIF Core §5.12).</summary>
/// <remarks>
/// OASIS UsernameToken Profile 1.0 §3.1: <c>PasswordDigest = Base64(SHA-1(nonce + created + password))</c>, with the
/// nonce as raw bytes and <c>created</c> as the exact UTC text sent (<c>yyyy-MM-ddTHH:mm:ssZ</c>).
/// <code>
/// &lt;wsse:Security&gt;&lt;wsse:UsernameToken&gt;
///   &lt;wsse:Username&gt;admin&lt;/wsse:Username&gt;
///   &lt;wsse:Password Type="...#PasswordDigest"&gt;base64 digest&lt;/wsse:Password&gt;
///   &lt;wsse:Nonce EncodingType="...#Base64Binary"&gt;base64 nonce&lt;/wsse:Nonce&gt;
///   &lt;wsu:Created&gt;2026-01-15T08:00:00Z&lt;/wsu:Created&gt;
/// &lt;/wsse:UsernameToken&gt;&lt;/wsse:Security&gt;
/// </code>
/// SHA-1 is what the profile specifies; CA5350 is suppressed for that reason only.
/// </remarks>
public static class WsUsernameToken
{
    public const string WsseNamespace = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd";
    public const string WsuNamespace = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd";
    public const string PasswordDigestType = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest";
    public const string Base64BinaryType = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary";

    private static readonly XNamespace Wsse = WsseNamespace;
    private static readonly XNamespace Wsu = WsuNamespace;

    public static string ComputeDigest(ReadOnlySpan<byte> nonce, string created, string password)
    {
        var createdBytes = Encoding.UTF8.GetBytes(created);
        var passwordBytes = Encoding.UTF8.GetBytes(password);
        var input = new byte[nonce.Length + createdBytes.Length + passwordBytes.Length];
        nonce.CopyTo(input);
        createdBytes.CopyTo(input, nonce.Length);
        passwordBytes.CopyTo(input, nonce.Length + createdBytes.Length);
#pragma warning disable CA5350 // SHA-1 is mandated by the UsernameToken Profile 1.0 §3.1.
        return Convert.ToBase64String(SHA1.HashData(input));
#pragma warning restore CA5350
    }

    /// <summary>The <c>wsse:Security</c> header element for a request created at <paramref name="now"/>.</summary>
    public static XElement Create(string username, string password, DateTimeOffset now)
    {
        var nonce = RandomNumberGenerator.GetBytes(16);
        var created = now.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", System.Globalization.CultureInfo.InvariantCulture);
        return new XElement(
            Wsse + "Security",
            new XAttribute(XNamespace.Xmlns + "wsse", WsseNamespace),
            new XAttribute(XNamespace.Xmlns + "wsu", WsuNamespace),
            new XElement(
                Wsse + "UsernameToken",
                new XElement(Wsse + "Username", username),
                new XElement(Wsse + "Password", new XAttribute("Type", PasswordDigestType), ComputeDigest(nonce, created, password)),
                new XElement(Wsse + "Nonce", new XAttribute("EncodingType", Base64BinaryType), Convert.ToBase64String(nonce)),
                new XElement(Wsu + "Created", created)));
    }

    /// <summary>Device side: checks a Security header's token; false for a wrong user, password, or a stale <c>Created</c>.</summary>
    public static bool Verify(XElement? security, string username, string password, DateTimeOffset now, TimeSpan maxClockSkew)
    {
        var token = security?.Element(Wsse + "UsernameToken");
        var user = token?.Element(Wsse + "Username")?.Value;
        var digest = token?.Element(Wsse + "Password")?.Value;
        var nonceText = token?.Element(Wsse + "Nonce")?.Value;
        var created = token?.Element(Wsu + "Created")?.Value;
        if (user != username || digest is null || nonceText is null || created is null
            || !DateTimeOffset.TryParse(created, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var createdAt)
            || (now - createdAt).Duration() > maxClockSkew)
        {
            return false;
        }

        byte[] nonce;
        try
        {
            nonce = Convert.FromBase64String(nonceText);
        }
        catch (FormatException)
        {
            return false;
        }

        var expected = ComputeDigest(nonce, created, password);
        return CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(digest));
    }
}
