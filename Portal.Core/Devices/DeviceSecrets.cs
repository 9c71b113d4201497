using System.Security.Cryptography;
using Microsoft.AspNetCore.DataProtection;

namespace Portal.Core.Devices;

/// <summary>
/// Encrypts device passwords and keys before they reach the database, and decrypts them only where a
/// protocol needs the plain value (digest auth, HMAC check). The purpose string isolates these from
/// every other protected payload in the app.
/// </summary>
public sealed class DeviceSecrets(IDataProtectionProvider provider)
{
    private readonly IDataProtector _protector = provider.CreateProtector("Portal.Devices.Secret.v1");

    public string? Protect(string? plain) => string.IsNullOrEmpty(plain) ? null : _protector.Protect(plain);

    /// <summary>Returns null when there is no secret or it cannot be decrypted (keys lost or rotated away).</summary>
    public string? Unprotect(string? protectedValue)
    {
        if (string.IsNullOrEmpty(protectedValue))
        {
            return null;
        }

        try
        {
            return _protector.Unprotect(protectedValue);
        }
        catch (CryptographicException)
        {
            return null;
        }
    }
}
