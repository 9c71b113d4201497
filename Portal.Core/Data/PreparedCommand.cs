using System.Data;
using System.Data.Common;
using System.Text.RegularExpressions;

namespace Portal.Core.Data;

/// <summary>
/// One statement run many times in the caller's transaction: prepared once and re-bound per row, so thousands of
/// rows (a registry import, a flush of device sightings) cost one SQL compile, not one per row. Its parameters are
/// read from the SQL text, so a repository's statement can change without a second list going stale.
/// </summary>
internal sealed partial class PreparedCommand : IDisposable
{
    private readonly DbCommand _command;
    private readonly Dictionary<string, DbParameter> _parameters = new(StringComparer.Ordinal);
    private readonly bool _prepare;
    private bool _prepared;

    public PreparedCommand(Db db, DbTransaction transaction, string sql)
        : this(db, transaction.Connection!, sql) => _command.Transaction = transaction;

    /// <summary>
    /// A statement kept on a long-lived connection across transactions (the alarm writer's): give each transaction to
    /// <see cref="In"/> before running it (on SQLite the writer's transaction is the connection's own: null).
    /// </summary>
    public PreparedCommand(Db db, DbConnection connection, string sql)
    {
        _command = connection.CreateCommand();
        _command.CommandText = sql;
        foreach (var name in ParameterPattern().Matches(sql).Select(m => m.Groups[1].Value).Distinct(StringComparer.Ordinal))
        {
            var parameter = _command.CreateParameter();
            parameter.ParameterName = "@" + name;
            parameter.Value = DBNull.Value;
            _command.Parameters.Add(parameter);
            _parameters[name] = parameter;
        }

        // SqlClient's Prepare demands a size on every string parameter and gains little over its plan
        // cache; SQLite compiles the statement once and re-binds it.
        _prepare = db.Dialect == SqlDialect.Sqlite;
    }

    public IEnumerable<string> ParameterNames => _parameters.Keys;

    public PreparedCommand Set(string name, object? value)
    {
        var parameter = _parameters[name];
        if (value is DateTime time)
        {
            // As DapperSetup's handler: every timestamp is UTC, stored as DateTime2.
            parameter.DbType = DbType.DateTime2;
            value = DateTime.SpecifyKind(time, DateTimeKind.Utc);
        }
        else if (value is Enum)
        {
            value = Convert.ToInt32(value, System.Globalization.CultureInfo.InvariantCulture);
        }

        parameter.Value = value ?? DBNull.Value;
        return this;
    }

    /// <summary>Binds every parameter the SQL names from <paramref name="valueOf"/>.</summary>
    public PreparedCommand BindAll(Func<string, object?> valueOf)
    {
        foreach (var name in _parameters.Keys)
        {
            Set(name, valueOf(name));
        }

        return this;
    }

    /// <summary>Runs the following executions in <paramref name="transaction"/>.</summary>
    public PreparedCommand In(DbTransaction? transaction)
    {
        _command.Transaction = transaction;
        return this;
    }

    public int Execute()
    {
        Prepare();
        return _command.ExecuteNonQuery();
    }

    public object? Scalar()
    {
        Prepare();
        return _command.ExecuteScalar();
    }

    public async Task<int> ExecuteAsync(CancellationToken ct)
    {
        Prepare();
        return await _command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }

    public async Task<object?> ScalarAsync(CancellationToken ct)
    {
        Prepare();
        return await _command.ExecuteScalarAsync(ct).ConfigureAwait(false);
    }

    public void Dispose() => _command.Dispose();

    private void Prepare()
    {
        if (_prepare && !_prepared)
        {
            _command.Prepare();
            _prepared = true;
        }
    }

    [GeneratedRegex(@"@(\w+)")]
    private static partial Regex ParameterPattern();
}
