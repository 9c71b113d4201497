using Dapper;
using Portal.Core.Security;

namespace Portal.Core.Alarms;

public sealed record DistrictAlarmStats
{
    public int DistrictId { get; init; }

    public required string DistrictName { get; init; }

    public int Total { get; init; }

    public int Real { get; init; }

    public int FalseAlarms { get; init; }

    public int Tests { get; init; }

    public int Malfunctions { get; init; }

    public int Open { get; init; }

    public int Escalated { get; init; }

    /// <summary>Seconds from raised to answered, in percentiles; null when nothing was answered.</summary>
    public double? AnswerP50 { get; init; }

    public double? AnswerP90 { get; init; }

    public double? AnswerP99 { get; init; }
}

/// <summary>The bureau's and the city centre's alarm figures for a period, by district.</summary>
public sealed class AlarmStatistics(AlarmRepository alarms)
{
    private const string Rows = """
        SELECT a.DistrictId, d.Name AS DistrictName, a.State, a.Disposition, a.IsTest, a.RaisedUtc, a.AnsweredUtc, a.EscalatedUtc
        FROM Alarm a JOIN District d ON d.Id = a.DistrictId
        WHERE (@ScopeDistrictId IS NULL OR a.DistrictId = @ScopeDistrictId)
          AND a.RaisedUtc >= @FromUtc AND a.RaisedUtc < @ToUtc
        """;

    public async Task<IReadOnlyList<DistrictAlarmStats>> GetByDistrictAsync(UserScope scope, DateTime fromUtc, DateTime toUtc, CancellationToken ct = default)
    {
        scope.Require(Roles.Bureau, Roles.Admin, Roles.CityOperator, Roles.DistrictOperator);
        await using var connection = alarms.Db.Open();
        var rows = await connection.QueryAsync<Row>(new CommandDefinition(Rows,
            new { ScopeDistrictId = scope.DistrictId, FromUtc = fromUtc, ToUtc = toUtc }, cancellationToken: ct)).ConfigureAwait(false);
        return [.. rows.GroupBy(r => (r.DistrictId, r.DistrictName)).OrderBy(g => g.Key.DistrictId).Select(g =>
        {
            var answered = g.Where(r => r.AnsweredUtc is not null).Select(r => (r.AnsweredUtc!.Value - r.RaisedUtc).TotalSeconds).Order().ToArray();
            return new DistrictAlarmStats
            {
                DistrictId = g.Key.DistrictId,
                DistrictName = g.Key.DistrictName,
                Total = g.Count(),
                Real = g.Count(r => r.Disposition == (int)AlarmDisposition.RealEmergency),
                FalseAlarms = g.Count(r => r.Disposition == (int)AlarmDisposition.FalseAlarm),
                Tests = g.Count(r => r.IsTest),
                Malfunctions = g.Count(r => r.Disposition == (int)AlarmDisposition.Malfunction),
                Open = g.Count(r => r.State != (int)AlarmState.Closed),
                Escalated = g.Count(r => r.EscalatedUtc is not null),
                AnswerP50 = Percentile(answered, 0.50),
                AnswerP90 = Percentile(answered, 0.90),
                AnswerP99 = Percentile(answered, 0.99),
            };
        })];
    }

    /// <summary>Nearest-rank percentile of sorted values; null for none.</summary>
    public static double? Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? null : Math.Round(sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)], 1);

    private sealed record Row
    {
        public int DistrictId { get; init; }

        public string DistrictName { get; init; } = string.Empty;

        public int State { get; init; }

        public int? Disposition { get; init; }

        public bool IsTest { get; init; }

        public DateTime RaisedUtc { get; init; }

        public DateTime? AnsweredUtc { get; init; }

        public DateTime? EscalatedUtc { get; init; }
    }
}
