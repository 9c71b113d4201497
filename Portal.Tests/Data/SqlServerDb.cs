using Microsoft.Data.SqlClient;
using Portal.Core.Data;
using Xunit;

namespace Portal.Tests.Data;

/// <summary>
/// A real SQL Server database for the repository tests, created fresh from db/sqlserver when the environment variable
/// <c>PORTAL_TEST_SQLSERVER</c> holds a connection string to a server (a login that may create databases; the
/// database named in it, if any, is ignored), and dropped afterwards. Without the variable every test that asks for
/// <see cref="Db"/> is skipped, saying why, so a run never passes by silently skipping (README, "Tests").
/// </summary>
public sealed class SqlServerDb : ITestDatabase, IDisposable
{
    public const string Variable = "PORTAL_TEST_SQLSERVER";

    private readonly Db? _db;
    private readonly string? _master;
    private readonly string? _name;

    public SqlServerDb()
    {
        var configured = Environment.GetEnvironmentVariable(Variable);
        if (string.IsNullOrWhiteSpace(configured))
        {
            SkipReason = $"SQL Server tests skipped: set {Variable} to a SQL Server connection string to run them.";
            return;
        }

        var builder = new SqlConnectionStringBuilder(configured);
        _name = "portal_test_" + Guid.NewGuid().ToString("N")[..12];
        builder.InitialCatalog = "master";
        _master = builder.ConnectionString;
        builder.InitialCatalog = _name;
        _db = new Db(builder.ConnectionString, SqlDialect.SqlServer);

        // DbUp creates the database (EnsureDatabase) and applies every script, exactly as the portal does at start-up.
        DbMigrator.Migrate(_db);
    }

    /// <summary>Why the tests are skipped, or null when a server is configured.</summary>
    public string? SkipReason { get; }

    public Db Db
    {
        get
        {
            if (_db is null)
            {
                Assert.Skip(SkipReason!);
            }

            return _db;
        }
    }

    public void Dispose()
    {
        if (_master is null || _name is null)
        {
            return;
        }

        SqlConnection.ClearAllPools();
        using var connection = new SqlConnection(_master);
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"IF DB_ID(N'{_name}') IS NOT NULL BEGIN ALTER DATABASE [{_name}] SET SINGLE_USER WITH ROLLBACK IMMEDIATE; DROP DATABASE [{_name}]; END";
        command.ExecuteNonQuery();
    }
}
