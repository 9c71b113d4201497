using System.Reflection;
using Dapper;
using Microsoft.SqlServer.TransactSql.ScriptDom;
using Portal.Core.Data;
using Xunit;

namespace Portal.Tests.Data;

/// <summary>
/// SQL Server cannot run here, so its dialect is proven by parsing: every T-SQL script and every query the
/// code would send to SQL Server goes through ScriptDom, and both engines' schemas must have the same
/// tables and columns.
/// </summary>
public sealed class SchemaScriptsTests
{
    [Fact]
    public void ScriptNames_BothDialects_AreTheSame()
    {
        var sqlite = DbMigrator.ScriptNames(SqlDialect.Sqlite).Select(FileName).ToList();
        var sqlServer = DbMigrator.ScriptNames(SqlDialect.SqlServer).Select(FileName).ToList();
        Assert.NotEmpty(sqlite);
        Assert.Equal(sqlite, sqlServer);
        Assert.All(sqlite, name => Assert.Matches(@"^\d{4}-\d{2}-\d{2}_\d{2}_[A-Za-z]+\.sql$", name));
    }

    [Fact]
    public void SqlServerScripts_ParseWithScriptDom_WithoutErrors()
    {
        foreach (var name in DbMigrator.ScriptNames(SqlDialect.SqlServer))
        {
            var errors = Parse(DbMigrator.ReadScript(name), out _);
            Assert.True(errors.Count == 0, $"{name}: {string.Join("; ", errors.Select(e => $"line {e.Line}: {e.Message}"))}");
        }
    }

    [Fact]
    public void Migrate_EmptySqliteFile_CreatesEveryTableAndIsRepeatable()
    {
        using var sqlite = new SqliteDb();
        DbMigrator.Migrate(sqlite.Db); // a second run finds nothing to do and must not fail
        using var connection = sqlite.Db.Open();
        var journal = connection.ExecuteScalar<int>("SELECT COUNT(*) FROM SchemaVersions");
        Assert.Equal(DbMigrator.ScriptNames(SqlDialect.Sqlite).Count, journal);
    }

    [Fact]
    public void Schemas_BothDialects_HaveTheSameTablesAndColumns()
    {
        using var sqlite = new SqliteDb();
        using var connection = sqlite.Db.Open();
        var sqliteTables = connection.Query<string>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'SchemaVersions'")
            .ToDictionary(t => t, t => connection.Query<string>($"SELECT name FROM pragma_table_info('{t}')").Order(StringComparer.Ordinal).ToList(), StringComparer.Ordinal);

        // One visitor over the scripts in order, so a later ALTER TABLE ... ADD lands on its table.
        var visitor = new CreateTableVisitor();
        foreach (var name in DbMigrator.ScriptNames(SqlDialect.SqlServer))
        {
            Parse(DbMigrator.ReadScript(name), out var fragment);
            fragment.Accept(visitor);
        }

        var sqlServerTables = visitor.Tables.ToDictionary(t => t.Key, t => t.Value.Order(StringComparer.Ordinal).ToList(), StringComparer.Ordinal);

        Assert.Equal(sqliteTables.Keys.Order(StringComparer.Ordinal), sqlServerTables.Keys.Order(StringComparer.Ordinal));
        foreach (var (table, columns) in sqliteTables)
        {
            Assert.True(columns.SequenceEqual(sqlServerTables[table]), $"{table}: sqlite [{string.Join(",", columns)}] vs sqlserver [{string.Join(",", sqlServerTables[table])}]");
        }
    }

    /// <summary>
    /// Every SQL text in Portal.Core that SQL Server would receive: constants that are queries (portable
    /// ones run on both engines), plus the statements built with the dialect's paging and picks.
    /// </summary>
    [Fact]
    public void CoreQueries_ForSqlServer_ParseWithScriptDom()
    {
        var queries = new List<(string Where, string Sql)>();
        foreach (var type in typeof(Db).Assembly.GetTypes())
        {
            foreach (var field in type.GetFields(BindingFlags.Static | BindingFlags.NonPublic | BindingFlags.Public))
            {
                if (field.IsLiteral && field.FieldType == typeof(string) && field.GetRawConstantValue() is string text && LooksLikeSql(text)
                    && !field.Name.EndsWith("Sqlite", StringComparison.Ordinal))
                {
                    queries.Add(($"{type.Name}.{field.Name}", text));
                }
            }

            // Statements composed from constants.
            foreach (var property in type.GetProperties(BindingFlags.Static | BindingFlags.NonPublic | BindingFlags.Public))
            {
                if (property.PropertyType == typeof(string) && property.Name.EndsWith("Sql", StringComparison.Ordinal) && property.GetValue(null) is string composed)
                {
                    queries.Add(($"{type.Name}.{property.Name}", composed));
                }
            }

            // Internal builders that take the dialect: call them for SQL Server.
            foreach (var method in type.GetMethods(BindingFlags.Static | BindingFlags.NonPublic | BindingFlags.Public))
            {
                var parameters = method.GetParameters();
                if (method.ReturnType == typeof(string) && parameters.Length == 1 && parameters[0].ParameterType == typeof(Db) && method.Name.EndsWith("Sql", StringComparison.Ordinal))
                {
                    var sql = (string)method.Invoke(null, [new Db("Server=none", SqlDialect.SqlServer)])!;
                    queries.Add(($"{type.Name}.{method.Name}()", sql));
                }
            }
        }

        Assert.True(queries.Count >= 10, $"only {queries.Count} queries found");
        foreach (var (where, sql) in queries)
        {
            var errors = Parse(sql, out _);
            Assert.True(errors.Count == 0, $"{where}: {string.Join("; ", errors.Select(e => e.Message))}\n{sql}");
        }
    }

    private static bool LooksLikeSql(string text)
    {
        var t = text.TrimStart();
        return t.StartsWith("SELECT ", StringComparison.Ordinal) || t.StartsWith("INSERT ", StringComparison.Ordinal)
            || t.StartsWith("UPDATE ", StringComparison.Ordinal) || t.StartsWith("DELETE ", StringComparison.Ordinal)
            || t.StartsWith("WITH ", StringComparison.Ordinal);
    }

    private static IList<ParseError> Parse(string sql, out TSqlFragment fragment)
    {
        var parser = new TSql160Parser(initialQuotedIdentifiers: true);
        using var reader = new StringReader(sql);
        fragment = parser.Parse(reader, out var errors);
        return errors;
    }

    private static string FileName(string resourceName)
    {
        // Portal.Core.db.sqlite.2026-11-25_00_Registry.sql -> 2026-11-25_00_Registry.sql
        var marker = resourceName.IndexOf(".db.", StringComparison.Ordinal);
        var rest = resourceName[(marker + 4)..];
        return rest[(rest.IndexOf('.', StringComparison.Ordinal) + 1)..];
    }

    private sealed class CreateTableVisitor : TSqlFragmentVisitor
    {
        public Dictionary<string, List<string>> Tables { get; } = new(StringComparer.Ordinal);

        public override void Visit(CreateTableStatement node) =>
            Tables[node.SchemaObjectName.BaseIdentifier.Value] = [.. node.Definition.ColumnDefinitions.Select(c => c.ColumnIdentifier.Value)];

        public override void Visit(AlterTableAddTableElementStatement node)
        {
            if (Tables.TryGetValue(node.SchemaObjectName.BaseIdentifier.Value, out var columns))
            {
                columns.AddRange(node.Definition.ColumnDefinitions.Select(c => c.ColumnIdentifier.Value));
            }
        }
    }
}
