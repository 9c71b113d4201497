using Portal.Core.Schools;

namespace Portal.Core.Installation;

/// <summary>One school's place in the programme: the date of each step it has done.</summary>
public sealed record SchoolProgress
{
    public int SchoolId { get; init; }

    public required string Code { get; init; }

    public required string Name { get; init; }

    public SchoolType SchoolType { get; init; }

    public int DistrictId { get; init; }

    public required string DistrictName { get; init; }

    public required string DistrictNameEn { get; init; }

    public required string PrincipalName { get; init; }

    public required string Phone { get; init; }

    public DateTime? SurveyedUtc { get; init; }

    public DateTime? TerminalUtc { get; init; }

    public DateTime? CameraUtc { get; init; }

    public DateTime? OnlineUtc { get; init; }

    public DateTime? AcceptedUtc { get; init; }

    public DateTime? SignedOffUtc { get; init; }

    /// <summary>The date the school must be signed off by: its district's target, else the programme deadline.</summary>
    public DateTime DueUtc { get; init; }

    /// <summary>Not signed off and past its due date (at the snapshot's time).</summary>
    public bool IsOverdue { get; init; }

    public DateTime? DoneUtc(InstallationStepKind step) => step switch
    {
        InstallationStepKind.SiteSurveyed => SurveyedUtc,
        InstallationStepKind.TerminalInstalled => TerminalUtc,
        InstallationStepKind.CameraInstalled => CameraUtc,
        InstallationStepKind.DevicesOnline => OnlineUtc,
        InstallationStepKind.AcceptancePassed => AcceptedUtc,
        _ => SignedOffUtc,
    };

    /// <summary>How many steps are done, counted from the first (steps are recorded only in order).</summary>
    public int StepsDone => InstallationSteps.All.TakeWhile(s => DoneUtc(s) is not null).Count();

    public bool IsComplete => SignedOffUtc is not null;

    /// <summary>The steps still to do, in order.</summary>
    public IEnumerable<InstallationStepKind> Missing => InstallationSteps.All.Where(s => DoneUtc(s) is null);

    /// <summary>The step the school is waiting for, or null when it is complete.</summary>
    public InstallationStepKind? NextStep => IsComplete ? null : (InstallationStepKind)StepsDone;
}

/// <summary>A line of a progress table: a district, a school type, or the total.</summary>
public sealed record ProgressRow
{
    public int Key { get; init; }

    public required string Name { get; init; }

    public required string NameEn { get; init; }

    public int Schools { get; init; }

    /// <summary>Schools that have reached each step, indexed by <see cref="InstallationStepKind"/>.</summary>
    public required IReadOnlyList<int> Reached { get; init; }

    public int Overdue { get; init; }

    public DateTime? TargetUtc { get; init; }

    public int TargetPercent { get; init; } = 100;

    public int Done => Reached[(int)InstallationStepKind.SignedOff];

    public int Accepted => Reached[(int)InstallationStepKind.AcceptancePassed];

    public int Installed => Reached[(int)InstallationStepKind.CameraInstalled];

    public int Online => Reached[(int)InstallationStepKind.DevicesOnline];

    public double DonePercent => Percent(Done, Schools);

    public static double Percent(int part, int whole) => whole == 0 ? 0 : Math.Round(100.0 * part / whole, 1);
}

/// <summary>One day of the burn-up chart: schools signed off (and accepted) by the end of that day, and the target line.</summary>
public sealed record BurnUpPoint(DateOnly Day, int Done, int Accepted, double Target);

/// <summary>
/// The programme as seen from one scope at one moment. Dashboards and report files are both drawn from it,
/// and every figure is computed here from the same school list, so the screen and the files never disagree.
/// </summary>
public sealed class ProgrammeSnapshot
{
    /// <summary>The city's local time (Beijing, UTC+8): days in the burn-up and dates in the reports are local days.</summary>
    public static readonly TimeSpan LocalOffset = TimeSpan.FromHours(8);

    public ProgrammeSnapshot(DateTime asOfUtc, ProgrammeSettings settings, IReadOnlyList<District> districts,
        IReadOnlyDictionary<int, DistrictTarget> targets, IReadOnlyList<SchoolProgress> schools, int? districtId)
    {
        AsOfUtc = asOfUtc;
        Settings = settings;
        DistrictId = districtId;
        Schools = schools;
        Targets = targets;
        ByDistrict = [.. districts.Select(d => Row(d.Id, d.Name, d.NameEn, schools.Where(s => s.DistrictId == d.Id).ToList(), targets.GetValueOrDefault(d.Id)))];
        ByType = [.. Enum.GetValues<SchoolType>().Select(t => Row((int)t, SchoolTypeNames.Chinese[t], t.ToString(), schools.Where(s => s.SchoolType == t).ToList(), null))];
        Total = Row(0, "合计", "Total", schools, null);
    }

    public DateTime AsOfUtc { get; }

    public ProgrammeSettings Settings { get; }

    /// <summary>Null for the city (or a city-wide scope), else the one district the snapshot covers.</summary>
    public int? DistrictId { get; }

    public IReadOnlyList<SchoolProgress> Schools { get; }

    public IReadOnlyDictionary<int, DistrictTarget> Targets { get; }

    public IReadOnlyList<ProgressRow> ByDistrict { get; }

    public IReadOnlyList<ProgressRow> ByType { get; }

    public ProgressRow Total { get; }

    public IEnumerable<SchoolProgress> Unfinished => Schools.Where(s => !s.IsComplete);

    public IEnumerable<SchoolProgress> Late => Schools.Where(s => s.IsOverdue);

    public static DateOnly LocalDay(DateTime utc) => DateOnly.FromDateTime(utc + LocalOffset);

    /// <summary>
    /// Cumulative schools signed off and accepted per local day from the programme start to the later of today
    /// and the deadline; the target line climbs straight from zero at the start to every school at the deadline.
    /// </summary>
    public IReadOnlyList<BurnUpPoint> BurnUp()
    {
        var first = LocalDay(Settings.StartUtc);
        var deadline = LocalDay(Settings.DeadlineUtc.AddTicks(-1));
        var today = LocalDay(AsOfUtc);
        var last = today > deadline ? today : deadline;
        var done = CountByDay(Schools.Select(s => s.SignedOffUtc));
        var accepted = CountByDay(Schools.Select(s => s.AcceptedUtc));
        var span = Math.Max(1, deadline.DayNumber - first.DayNumber);
        var points = new List<BurnUpPoint>();
        int doneSoFar = done.Where(kv => kv.Key < first).Sum(kv => kv.Value), acceptedSoFar = accepted.Where(kv => kv.Key < first).Sum(kv => kv.Value);
        for (var day = first; day <= last; day = day.AddDays(1))
        {
            doneSoFar += done.GetValueOrDefault(day);
            acceptedSoFar += accepted.GetValueOrDefault(day);
            var target = Math.Round(Schools.Count * Math.Min(1.0, (double)(day.DayNumber - first.DayNumber) / span), 1);
            points.Add(day <= today ? new BurnUpPoint(day, doneSoFar, acceptedSoFar, target) : new BurnUpPoint(day, -1, -1, target));
        }

        return points;
    }

    private static Dictionary<DateOnly, int> CountByDay(IEnumerable<DateTime?> dates) =>
        dates.Where(d => d is not null).GroupBy(d => LocalDay(d!.Value)).ToDictionary(g => g.Key, g => g.Count());

    private static ProgressRow Row(int key, string name, string nameEn, IReadOnlyList<SchoolProgress> schools, DistrictTarget? target)
    {
        var reached = new int[InstallationSteps.All.Count];
        foreach (var school in schools)
        {
            for (var i = 0; i < school.StepsDone; i++)
            {
                reached[i]++;
            }
        }

        return new ProgressRow
        {
            Key = key,
            Name = name,
            NameEn = nameEn,
            Schools = schools.Count,
            Reached = reached,
            Overdue = schools.Count(s => s.IsOverdue),
            TargetUtc = target?.TargetUtc,
            TargetPercent = target?.TargetPercent ?? 100,
        };
    }
}
