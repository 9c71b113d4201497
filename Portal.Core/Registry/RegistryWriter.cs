using System.Data;
using System.Data.Common;
using System.Text.RegularExpressions;
using Portal.Core.Data;
using Portal.Core.Devices;
using Portal.Core.Schools;

namespace Portal.Core.Registry;

/// <summary>
/// Applies a <see cref="RegistryPlan"/> inside the caller's transaction with one command per statement,
/// prepared once and re-bound per row: thousands of rows then cost one SQL compile each, not one per row.
/// The SQL is the repositories' own (SchoolRepository/DeviceRepository.InsertSql and UpdateSql).
/// </summary>
internal static partial class RegistryWriter
{
    private const string ReleaseSipAccount = "UPDATE Device SET SipAccount = NULL WHERE Id = @Id";

    public static async Task WriteAsync(Db db, DbConnection connection, DbTransaction transaction, RegistryPlan plan, IReadOnlyDictionary<string, School> existingByCode, CancellationToken ct)
    {
        var schoolIds = existingByCode.ToDictionary(p => p.Key, p => p.Value.Id, StringComparer.Ordinal);

        using (var release = new BoundCommand(db, connection, transaction, ReleaseSipAccount))
        {
            foreach (var id in plan.SipAccountReleases)
            {
                await release.Set("Id", id).ExecuteAsync(ct).ConfigureAwait(false);
            }
        }

        using (var insert = new BoundCommand(db, connection, transaction, SchoolRepository.InsertSql(db)))
        {
            foreach (var school in plan.NewSchools)
            {
                insert.BindAll(name => SchoolValue(school, name));
                schoolIds[school.Code] = Convert.ToInt32(await insert.ScalarAsync(ct).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        using (var update = new BoundCommand(db, connection, transaction, SchoolRepository.UpdateSql))
        {
            foreach (var school in plan.ChangedSchools)
            {
                await update.BindAll(name => SchoolValue(school, name)).ExecuteAsync(ct).ConfigureAwait(false);
            }
        }

        using (var insert = new BoundCommand(db, connection, transaction, DeviceRepository.InsertSql(db)))
        {
            foreach (var (code, device) in plan.NewDevices)
            {
                var bound = device with { SchoolId = schoolIds[code] };
                insert.BindAll(name => DeviceValue(bound, name));
                await insert.ScalarAsync(ct).ConfigureAwait(false);
            }
        }

        using (var update = new BoundCommand(db, connection, transaction, DeviceRepository.UpdateSql))
        {
            foreach (var (code, device) in plan.ChangedDevices)
            {
                var bound = device with { SchoolId = schoolIds[code] };
                await update.BindAll(name => DeviceValue(bound, name)).ExecuteAsync(ct).ConfigureAwait(false);
            }
        }

        using (var rekey = new BoundCommand(db, connection, transaction, DeviceRepository.FlagRekeySql))
        {
            foreach (var id in plan.RekeyDeviceIds)
            {
                await rekey.Set("Id", id).ExecuteAsync(ct).ConfigureAwait(false);
            }
        }
    }

    private static object? SchoolValue(School s, string name) => name switch
    {
        "Id" => s.Id,
        "Code" => s.Code,
        "Name" => s.Name,
        "SchoolType" => (int)s.SchoolType,
        "DistrictId" => s.DistrictId,
        "Address" => s.Address,
        "Longitude" => s.Longitude,
        "Latitude" => s.Latitude,
        "PrincipalName" => s.PrincipalName,
        "Phone" => s.Phone,
        "CreatedUtc" => s.CreatedUtc,
        "UpdatedUtc" => s.UpdatedUtc,
        _ => throw new InvalidOperationException($"School SQL names an unknown parameter @{name}."),
    };

    private static object? DeviceValue(Device d, string name) => name switch
    {
        "Id" => d.Id,
        "SchoolId" => d.SchoolId,
        "Kind" => (int)d.Kind,
        "Model" => d.Model,
        "SerialNumber" => d.SerialNumber,
        "SipAccount" => d.SipAccount,
        "RtspUrl" => d.RtspUrl,
        "OnvifUrl" => d.OnvifUrl,
        "Username" => d.Username,
        "SecretProtected" => d.SecretProtected,
        "ApiKeyProtected" => d.ApiKeyProtected,
        "InstallState" => (int)d.InstallState,
        "Enabled" => d.Enabled,
        "HealthState" => (int)d.HealthState,
        "LastSeenUtc" => d.LastSeenUtc,
        "CreatedUtc" => d.CreatedUtc,
        "UpdatedUtc" => d.UpdatedUtc,
        _ => throw new InvalidOperationException($"Device SQL names an unknown parameter @{name}."),
    };

    [GeneratedRegex(@"@(\w+)")]
    private static partial Regex ParameterPattern();

    /// <summary>
    /// A command whose parameters are read from its SQL text, so the repositories' statements can change
    /// without a second list here going stale.
    /// </summary>
    private sealed class BoundCommand : IDisposable
    {
        private readonly DbCommand _command;
        private readonly Dictionary<string, DbParameter> _parameters = new(StringComparer.Ordinal);
        private bool _prepared;
        private readonly bool _prepare;

        public BoundCommand(Db db, DbConnection connection, DbTransaction transaction, string sql)
        {
            _command = connection.CreateCommand();
            _command.CommandText = sql;
            _command.Transaction = transaction;
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

        public BoundCommand Set(string name, object? value)
        {
            var parameter = _parameters[name];
            if (value is DateTime time)
            {
                // As DapperSetup's handler: every timestamp is UTC, stored as DateTime2.
                parameter.DbType = DbType.DateTime2;
                value = DateTime.SpecifyKind(time, DateTimeKind.Utc);
            }

            parameter.Value = value ?? DBNull.Value;
            return this;
        }

        public BoundCommand BindAll(Func<string, object?> valueOf)
        {
            foreach (var name in _parameters.Keys)
            {
                Set(name, valueOf(name));
            }

            return this;
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
    }
}
