using Microsoft.Data.Sqlite;
using Portal.Core.Data;

namespace Portal.Tests.Data;

/// <summary>
/// A real SQLite database in a temp file, migrated from db/sqlite, deleted on dispose. Use it as an
/// xunit class fixture for a shared database, or create one per test when tests write.
/// </summary>
public sealed class SqliteDb : ITestDatabase, IDisposable
{
    public SqliteDb()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"portal-test-{Guid.NewGuid():N}.db");
        Db = new Db(Db.SqliteConnectionString(Path), SqlDialect.Sqlite);
        DbMigrator.Migrate(Db);
    }

    public string Path { get; }

    public Db Db { get; }

    public void Dispose()
    {
        // Pooled connections keep the file open; release this database's pool so the file can go.
        using (var connection = new SqliteConnection(Db.ConnectionString))
        {
            SqliteConnection.ClearPool(connection);
        }

        foreach (var file in new[] { Path, Path + "-wal", Path + "-shm" })
        {
            try
            {
                File.Delete(file);
            }
            catch (IOException)
            {
                // Another test's pooled connection may still hold it; the temp folder is cleaned eventually.
            }
        }
    }
}
