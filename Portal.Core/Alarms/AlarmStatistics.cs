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
    public async Task<IReadOnlyList<DistrictAlarmStats>> GetByDistrictAsync(UserScope scope, DateTime fromUtc, DateTime toUtc, CancellationToken ct = default)
    {
        scope.Require(Roles.Bureau, Roles.Admin, Roles.CityOperator, Roles.DistrictOperator);
        var rows = await alarms.GetStatisticRowsAsync(scope.DistrictId, fromUtc, toUtc, ct).ConfigureAwait(false);
        return [.. rows.GroupBy(r => (r.DistrictId, r.DistrictName)).OrderBy(g => g.Key.DistrictId).Select(g =>
        {
            var answered = g.Where(r => r.AnsweredUtc is not null).Select(r => (r.AnsweredUtc!.Value - r.RaisedUtc).TotalSeconds).Order().ToArray();
            return new DistrictAlarmStats
            {
                DistrictId = g.Key.DistrictId,
                DistrictName = g.Key.DistrictName,
                Total = g.Count(),
                Real = g.Count(r => r.Disposition == AlarmDisposition.RealEmergency),
                FalseAlarms = g.Count(r => r.Disposition == AlarmDisposition.FalseAlarm),
                Tests = g.Count(r => r.IsTest),
                Malfunctions = g.Count(r => r.Disposition == AlarmDisposition.Malfunction),
                Open = g.Count(r => r.State != AlarmState.Closed),
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
}
