using Microsoft.AspNetCore.DataProtection;
using Portal.Core.Demo;
using Portal.Core.Devices;
using Portal.Core.Schools;
using Portal.Tests.Data;

namespace Portal.Tests.Core;

/// <summary>A migrated SQLite file holding a small demo city (40 schools over ten districts), shared read-only.</summary>
public sealed class DemoCityFixture : IDisposable
{
    public DemoCityFixture()
    {
        Database = new SqliteDb();
        Secrets = new DeviceSecrets(new EphemeralDataProtectionProvider());
        new DemoCity(Database.Db, Secrets, TimeProvider.System).SeedAsync(40).GetAwaiter().GetResult();
        Schools = new SchoolRepository(Database.Db);
        Districts = new DistrictRepository(Database.Db);
        Devices = new DeviceRepository(Database.Db);
    }

    public SqliteDb Database { get; }

    public DeviceSecrets Secrets { get; }

    public SchoolRepository Schools { get; }

    public DistrictRepository Districts { get; }

    public DeviceRepository Devices { get; }

    public void Dispose() => Database.Dispose();
}
