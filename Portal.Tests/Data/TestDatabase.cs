using Portal.Core.Data;
using Xunit;

namespace Portal.Tests.Data;

/// <summary>
/// A real, migrated database a repository test runs on: SQLite always (<see cref="SqliteDb"/>), SQL Server when
/// <c>PORTAL_TEST_SQLSERVER</c> names one (<see cref="SqlServerDb"/>). The repository tests hold their facts in an
/// abstract class and run once per engine (STYLE.md §7).
/// </summary>
public interface ITestDatabase
{
    /// <summary>The database; a SQL Server fixture without a server skips the calling test with its reason instead.</summary>
    Db Db { get; }
}

/// <summary>The base of a repository test class: the database, or a skip with the reason when the engine is not available.</summary>
public abstract class RepositoryTestsBase(ITestDatabase database)
{
    protected Db Db => database.Db;

    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A value no other test in the shared database uses (codes, names, serials).</summary>
    protected static string Unique(string prefix, int length = 8) =>
        prefix + Guid.NewGuid().ToString("N")[..Math.Max(1, length - prefix.Length)].ToUpperInvariant();
}
