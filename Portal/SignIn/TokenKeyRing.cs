using System.Globalization;
using System.Security.Cryptography;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.Server;
using Portal.Core.Security;

namespace Portal.SignIn;

/// <summary>
/// The OpenID Connect server's signing and encryption keys without a certificate file: RSA keys kept in the
/// database (TokenKey), each protected with Data Protection, so every instance and every restart signs and checks
/// tokens with the same keys. Time is cut into rotation periods; the key of the current period signs, the next
/// period's key is made ahead and published (relying parties have it before it is used), and the two previous
/// periods' keys still validate tokens an instance that has not restarted since may have issued.
/// </summary>
public sealed class TokenKeyRing(TokenKeyRepository repository, IDataProtectionProvider protection, TimeProvider time, IOptions<PortalOptions> options, ILogger<TokenKeyRing> logger)
{
    private readonly IDataProtector _protector = protection.CreateProtector("Portal.SignIn.TokenKeys.v1");
    private readonly Lock _gate = new();
    private Loaded? _loaded;

    /// <summary>Keys in order of use: the first signing key signs, the first encryption key encrypts; the rest validate and decrypt.</summary>
    public (IReadOnlyList<RsaSecurityKey> Signing, IReadOnlyList<RsaSecurityKey> Encryption) Keys
    {
        get
        {
            lock (_gate)
            {
                _loaded ??= Load();
                return (_loaded.Signing, _loaded.Encryption);
            }
        }
    }

    /// <summary>The rotation period <paramref name="now"/> falls in: whole periods since 1970 (UTC).</summary>
    public static int GenerationAt(DateTimeOffset now, int periodDays) =>
        (int)(now.ToUnixTimeSeconds() / 86_400 / Math.Max(1, periodDays));

    private Loaded Load()
    {
        var now = time.GetUtcNow();
        var current = GenerationAt(now, options.Value.TokenKeyRotationDays);
        foreach (var purpose in Enum.GetValues<TokenKeyPurpose>())
        {
            foreach (var generation in (int[])[current, current + 1])
            {
                if (repository.TryAdd(purpose, generation, NewProtectedKey, now.UtcDateTime))
                {
                    logger.LogInformation("Created the {Purpose} key of token key period {Generation}", purpose, generation);
                }
            }
        }

        var signing = new List<(int Generation, RsaSecurityKey Key)>();
        var encryption = new List<(int Generation, RsaSecurityKey Key)>();
        foreach (var stored in repository.GetSince(current - 2))
        {
            if (Open(stored) is not { } key)
            {
                continue;
            }

            (stored.Purpose == TokenKeyPurpose.Signing ? signing : encryption).Add((stored.Generation, key));
        }

        return new Loaded(InUseOrder(signing, current), InUseOrder(encryption, current));
    }

    /// <summary>The current period's key first, then the next period's, then the older ones, newest first.</summary>
    private static List<RsaSecurityKey> InUseOrder(List<(int Generation, RsaSecurityKey Key)> keys, int current) =>
        [.. keys.OrderBy(k => k.Generation == current ? 0 : k.Generation > current ? 1 : 2).ThenByDescending(k => k.Generation).Select(k => k.Key)];

    private string NewProtectedKey()
    {
        using var rsa = RSA.Create(2048);
        return _protector.Protect(Convert.ToBase64String(rsa.ExportPkcs8PrivateKey()));
    }

    private RsaSecurityKey? Open(TokenKey stored)
    {
        try
        {
            var rsa = RSA.Create();
            rsa.ImportPkcs8PrivateKey(Convert.FromBase64String(_protector.Unprotect(stored.KeyProtected)), out _);

            // The same id on every instance, so a token signed by one names a key the others publish.
            return new RsaSecurityKey(rsa) { KeyId = string.Create(CultureInfo.InvariantCulture, $"ssp-{stored.Purpose.ToString().ToLowerInvariant()}-{stored.Generation}") };
        }
        catch (CryptographicException ex)
        {
            // The Data Protection key ring that protected it is gone (not restored from a backup): the key is unusable.
            logger.LogError(ex, "Token key {Id} ({Purpose}, period {Generation}) cannot be decrypted; restore the DataProtectionKey table or configure Portal:TokenCertificatePath", stored.Id, stored.Purpose, stored.Generation);
            return null;
        }
    }

    private sealed record Loaded(IReadOnlyList<RsaSecurityKey> Signing, IReadOnlyList<RsaSecurityKey> Encryption);
}

/// <summary>Hands the key ring's keys to the OpenIddict server when its options are built (no certificate configured).</summary>
public sealed class TokenKeyRingConfiguration(TokenKeyRing ring, ILogger<TokenKeyRingConfiguration> logger) : IConfigureOptions<OpenIddictServerOptions>
{
    public void Configure(OpenIddictServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var (signing, encryption) = ring.Keys;
        if (signing.Count == 0 || encryption.Count == 0)
        {
            // Better a portal whose tokens end with this process than no sign-in at all; the error above says why.
            logger.LogCritical("No usable stored token key: signing with a temporary key until the keys are restored");
            using var rsa = RSA.Create(2048);
            var temporary = new RsaSecurityKey(rsa.ExportParameters(includePrivateParameters: true)) { KeyId = "ssp-temporary" };
            signing = [.. signing, temporary];
            encryption = [.. encryption, temporary];
        }

        foreach (var key in signing)
        {
            options.SigningCredentials.Add(new SigningCredentials(key, SecurityAlgorithms.RsaSha256));
        }

        foreach (var key in encryption)
        {
            options.EncryptionCredentials.Add(new EncryptingCredentials(key, SecurityAlgorithms.RsaOAEP, SecurityAlgorithms.Aes256CbcHmacSha512));
        }
    }
}
