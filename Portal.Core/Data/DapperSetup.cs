using System.Data;
using Dapper;

namespace Portal.Core.Data;

/// <summary>
/// Registers the type handlers once per process. SQLite stores DateTime as text and hands it back with
/// Kind=Unspecified; every timestamp in this schema is UTC (columns end in Utc), so say so on the way out.
/// </summary>
internal static class DapperSetup
{
    private static int _registered;

    public static void EnsureRegistered()
    {
        if (Interlocked.Exchange(ref _registered, 1) == 1)
        {
            return;
        }

        SqlMapper.AddTypeHandler(new UtcDateTimeHandler());
        SqlMapper.AddTypeHandler(new NullableUtcDateTimeHandler());
    }

    private sealed class UtcDateTimeHandler : SqlMapper.TypeHandler<DateTime>
    {
        public override void SetValue(IDbDataParameter parameter, DateTime value)
        {
            parameter.DbType = DbType.DateTime2;
            parameter.Value = DateTime.SpecifyKind(value, DateTimeKind.Utc);
        }

        public override DateTime Parse(object value) => ToUtc(value);
    }

    private sealed class NullableUtcDateTimeHandler : SqlMapper.TypeHandler<DateTime?>
    {
        public override void SetValue(IDbDataParameter parameter, DateTime? value)
        {
            parameter.DbType = DbType.DateTime2;
            parameter.Value = value is { } v ? DateTime.SpecifyKind(v, DateTimeKind.Utc) : DBNull.Value;
        }

        public override DateTime? Parse(object value) => value is null or DBNull ? null : ToUtc(value);
    }

    internal static DateTime ToUtc(object value) => value switch
    {
        DateTime d => DateTime.SpecifyKind(d, DateTimeKind.Utc),
        string s => DateTime.SpecifyKind(
            DateTime.Parse(s, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AdjustToUniversal | System.Globalization.DateTimeStyles.AssumeUniversal),
            DateTimeKind.Utc),
        _ => throw new DataException($"Cannot read a timestamp from {value.GetType().Name}."),
    };
}
