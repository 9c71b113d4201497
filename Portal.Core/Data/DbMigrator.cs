using System.Reflection;
using DbUp;
using DbUp.Builder;
using Microsoft.Data.Sqlite;

namespace Portal.Core.Data;

/// <summary>
/// Applies the embedded scripts of db/&lt;dialect&gt;/ in name order, each once, recording them in DbUp's
/// journal table (SchemaVersions). One runner owns the whole schema: domain tables and the Identity and
/// OpenIddict tables alike.
/// </summary>
public static class DbMigrator
{
    public static IReadOnlyList<string> ScriptNames(SqlDialect dialect)
    {
        var marker = Marker(dialect);
        return [.. typeof(DbMigrator).Assembly.GetManifestResourceNames()
            .Where(n => n.Contains(marker, StringComparison.Ordinal) && n.EndsWith(".sql", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)];
    }

    public static string ReadScript(string resourceName)
    {
        using var stream = typeof(DbMigrator).Assembly.GetManifestResourceStream(resourceName)
            ?? throw new InvalidOperationException($"No embedded script {resourceName}.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    /// <summary>Brings the database up to date; throws with the failing script's name when one fails.</summary>
    public static void Migrate(Db db)
    {
        var marker = Marker(db.Dialect);
        var assembly = Assembly.GetExecutingAssembly();
        UpgradeEngineBuilder builder;
        if (db.Dialect == SqlDialect.Sqlite)
        {
            PrepareSqliteFile(db.ConnectionString);
            builder = DeployChanges.To.SqliteDatabase(db.ConnectionString);
        }
        else
        {
            EnsureDatabase.For.SqlDatabase(db.ConnectionString);
            builder = DeployChanges.To.SqlDatabase(db.ConnectionString);
        }

        var engine = builder
            .WithScriptsEmbeddedInAssembly(assembly, name => name.Contains(marker, StringComparison.Ordinal))
            .WithTransactionPerScript()
            .LogToNowhere()
            .Build();

        var result = engine.PerformUpgrade();
        if (!result.Successful)
        {
            throw new InvalidOperationException(
                $"Database migration failed at {result.ErrorScript?.Name ?? "(unknown script)"}: {result.Error?.Message}",
                result.Error);
        }
    }

    private static string Marker(SqlDialect dialect) => dialect == SqlDialect.SqlServer ? ".db.sqlserver." : ".db.sqlite.";

    /// <summary>
    /// WAL lets readers (every console page) run while the single writer commits; it is a property of the
    /// file, so it is set once here rather than on every connection.
    /// </summary>
    private static void PrepareSqliteFile(string connectionString)
    {
        var builder = new SqliteConnectionStringBuilder(connectionString);
        var directory = Path.GetDirectoryName(Path.GetFullPath(builder.DataSource));
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }

        using var connection = new SqliteConnection(connectionString);
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode=WAL;";
        command.ExecuteNonQuery();
    }
}
