using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Portal.Core.Security;
using Portal.SignIn;
using Portal.Tests.Data;
using Xunit;

namespace Portal.Tests.Portal.SignIn;

/// <summary>
/// The token server's keys without a certificate: every instance (here, a ring per "process" over one database and
/// one shared Data Protection key ring) signs with the same key, a restart keeps it, and a new period brings a new
/// signing key while the old ones still validate.
/// </summary>
public sealed class TokenKeyRingTests : IDisposable
{
    private readonly SqliteDb _database = new();
    private readonly IDataProtectionProvider _protection = new EphemeralDataProtectionProvider();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 2, 8, 0, 0, TimeSpan.Zero));

    public void Dispose() => _database.Dispose();

    private TokenKeyRing Ring(int periodDays = 90) => new(new TokenKeyRepository(_database.Db), _protection, _time,
        Options.Create(new PortalOptions { TokenKeyRotationDays = periodDays }), NullLogger<TokenKeyRing>.Instance);

    [Fact]
    public void Keys_TwoInstancesAndARestart_SameKeysSameOrder()
    {
        var first = Ring().Keys;
        var second = Ring().Keys;
        Assert.Equal(2, first.Signing.Count); // this period's and the next one's, made ahead
        Assert.Equal(first.Signing.Select(k => k.KeyId), second.Signing.Select(k => k.KeyId));
        Assert.Equal(first.Encryption.Select(k => k.KeyId), second.Encryption.Select(k => k.KeyId));
        Assert.Equal(first.Signing[0].Rsa.ExportParameters(false).Modulus, second.Signing[0].Rsa.ExportParameters(false).Modulus);
        Assert.Equal("ssp-signing-" + TokenKeyRing.GenerationAt(_time.GetUtcNow(), 90), first.Signing[0].KeyId);
    }

    [Fact]
    public void Keys_NextPeriod_NewSigningKeyFirstOldOnesStillThere()
    {
        var before = Ring(periodDays: 1).Keys;
        _time.Advance(TimeSpan.FromDays(1));
        var after = Ring(periodDays: 1).Keys;

        // The key made ahead yesterday signs today; yesterday's still validates tokens issued before the change.
        Assert.Equal(before.Signing[1].KeyId, after.Signing[0].KeyId);
        Assert.Contains(after.Signing, k => k.KeyId == before.Signing[0].KeyId);

        _time.Advance(TimeSpan.FromDays(3));
        Assert.DoesNotContain(Ring(periodDays: 1).Keys.Signing, k => k.KeyId == before.Signing[0].KeyId);
    }

    [Fact]
    public void Keys_StoredProtected_NoPrivateKeyInTheDatabase()
    {
        var keys = Ring().Keys;
        var stored = new TokenKeyRepository(_database.Db).GetSince(0);
        Assert.Equal(4, stored.Count);
        var pkcs8 = Convert.ToBase64String(keys.Signing[0].Rsa.ExportPkcs8PrivateKey());
        Assert.All(stored, k => Assert.DoesNotContain(pkcs8[..40], k.KeyProtected, StringComparison.Ordinal));
    }

    [Fact]
    public void Keys_DataProtectionKeysLost_UnreadableKeysSkipped()
    {
        _ = Ring().Keys;
        var lost = new TokenKeyRing(new TokenKeyRepository(_database.Db), new EphemeralDataProtectionProvider(), _time,
            Options.Create(new PortalOptions()), NullLogger<TokenKeyRing>.Instance);
        Assert.Empty(lost.Keys.Signing);
    }
}
