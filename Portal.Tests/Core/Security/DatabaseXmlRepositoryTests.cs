using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Dapper;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.Extensions.DependencyInjection;
using Portal.Core.Security;
using Portal.Tests.Data;
using Xunit;

namespace Portal.Tests.Core.Security;

/// <summary>
/// Data Protection's key ring in the database on each engine: two "instances" (two service providers, as two portal
/// processes would have) open each other's protected payloads, and with a certificate the stored keys are encrypted.
/// </summary>
public abstract class DatabaseXmlRepositoryTests(ITestDatabase database) : RepositoryTestsBase(database)
{
    private IDataProtector Instance(string application, X509Certificate2? certificate = null)
    {
        var services = new ServiceCollection();
        var builder = services.AddDataProtection().SetApplicationName(application);
        var repository = new DatabaseXmlRepository(Db, TimeProvider.System);
        services.Configure<KeyManagementOptions>(o => o.XmlRepository = repository);
        if (certificate is not null)
        {
            builder.ProtectKeysWithCertificate(certificate);
        }

        return services.BuildServiceProvider().GetRequiredService<IDataProtectionProvider>().CreateProtector("test");
    }

    [Fact]
    public async Task Protect_OnOneInstance_UnprotectsOnAnother()
    {
        await ClearAsync();
        var application = Unique("app");
        var secret = Instance(application).Protect("device secret");
        Assert.Equal("device secret", Instance(application).Unprotect(secret));
    }

    [Fact]
    public async Task StoreElement_WithCertificate_KeyMaterialIsEncryptedInTheDatabase()
    {
        await ClearAsync();
        using var rsa = RSA.Create(2048);
        var request = new CertificateRequest("CN=portal-data-protection", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
        var application = Unique("app");
        var secret = Instance(application, certificate).Protect("device secret");
        Assert.Equal("device secret", Instance(application, certificate).Unprotect(secret));

        await using var connection = Db.Open();
        var xml = string.Concat(await connection.QueryAsync<string>("SELECT Xml FROM DataProtectionKey"));
        Assert.Contains("EncryptedXml", xml, StringComparison.Ordinal);
        Assert.DoesNotContain("<masterKey", xml, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ImportFolder_EmptyTable_CopiesTheFolderOnce()
    {
        await ClearAsync();
        var folder = Directory.CreateTempSubdirectory("portal-keys-").FullName;
        try
        {
            // A key ring written by the file system repository, as the portal did before issue 13.
            var services = new ServiceCollection();
            services.AddDataProtection().SetApplicationName("old").PersistKeysToFileSystem(new DirectoryInfo(folder));
            var old = services.BuildServiceProvider().GetRequiredService<IDataProtectionProvider>().CreateProtector("test");
            var secret = old.Protect("kept");

            var repository = new DatabaseXmlRepository(Db, TimeProvider.System);
            Assert.Equal(1, repository.ImportFolder(folder));
            Assert.Equal(0, repository.ImportFolder(folder));
            Assert.Equal("kept", Instance("old").Unprotect(secret));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private async Task ClearAsync()
    {
        await using var connection = Db.Open();
        await connection.ExecuteAsync("DELETE FROM DataProtectionKey");
    }
}

// One collection: the key ring is the whole table, so these classes must not clear it under each other.
[Collection(nameof(DatabaseXmlRepositoryTests))]
public sealed class SqliteDatabaseXmlRepositoryTests(SqliteDb database) : DatabaseXmlRepositoryTests(database), IClassFixture<SqliteDb>;

[Collection(nameof(DatabaseXmlRepositoryTests))]
[Trait("Category", "SqlServer")]
public sealed class SqlServerDatabaseXmlRepositoryTests(SqlServerDb database) : DatabaseXmlRepositoryTests(database), IClassFixture<SqlServerDb>;
