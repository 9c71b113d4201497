using System.Data.Common;
using Microsoft.Data.SqlClient;
using Microsoft.Data.Sqlite;

namespace Portal.Core.Data;

public enum SqlDialect
{
    SqlServer,
    Sqlite,
}

/// <summary>
/// The whole database abstraction: which engine, how to open a connection, and the few places where
/// the two dialects differ (STYLE.md §3). Everything else is portable SQL beside the code that runs it.
/// </summary>
public sealed class Db(string connectionString, SqlDialect dialect)
{
    static Db() => DapperSetup.EnsureRegistered();

    public SqlDialect Dialect => dialect;

    public string ConnectionString => connectionString;

    public DbConnection Open() => dialect == SqlDialect.SqlServer
        ? new SqlConnection(connectionString)
        : new SqliteConnection(connectionString);

    public async Task<DbConnection> OpenAsync(CancellationToken ct = default)
    {
        var connection = Open();
        await connection.OpenAsync(ct).ConfigureAwait(false);
        return connection;
    }

    /// <summary>Goes after ORDER BY; binds @Skip and @Take.</summary>
    public string Paging => dialect == SqlDialect.SqlServer
        ? "OFFSET @Skip ROWS FETCH NEXT @Take ROWS ONLY"
        : "LIMIT @Take OFFSET @Skip";

    public string Pick(string sqlServer, string sqlite) => dialect == SqlDialect.SqlServer ? sqlServer : sqlite;

    /// <summary>
    /// Builds the SQLite connection string for a database file: foreign keys on (SQLite has them off by
    /// default) and a busy timeout so that a writer waits instead of failing while another commits.
    /// </summary>
    public static string SqliteConnectionString(string path) => new SqliteConnectionStringBuilder
    {
        DataSource = path,
        ForeignKeys = true,
        Pooling = true,
        DefaultTimeout = 30,
    }.ToString();
}
