using System.Globalization;
using Portal.Core.Schools;
using Portal.Core.Security;

namespace Portal.Core.Installation;

/// <summary>
/// Every week: the city report and one per district, each as xlsx and PDF, kept in the history. Reentrant:
/// a report already written for this ISO week is skipped, so a retry after a failure only fills the gaps.
/// </summary>
public sealed class WeeklyCompletionReportJob(CompletionReportService reports, DistrictRepository districts, TimeProvider time)
{
    private static readonly UserScope Scheduler = new(0, "weekly-report", Roles.Admin, null, null);

    /// <summary>Runs the week's reports; returns how many it wrote.</summary>
    public async Task<int> RunAsync(CancellationToken ct)
    {
        var local = time.GetUtcNow().UtcDateTime + ProgrammeSnapshot.LocalOffset;
        var period = string.Create(CultureInfo.InvariantCulture, $"{ISOWeek.GetYear(local)}-W{ISOWeek.GetWeekOfYear(local):D2}");
        var targets = new List<int?> { null };
        targets.AddRange((await districts.GetAllAsync(ct).ConfigureAwait(false)).Select(d => (int?)d.Id));
        var written = 0;
        foreach (var districtId in targets)
        {
            foreach (var format in Enum.GetValues<ReportFormat>())
            {
                ct.ThrowIfCancellationRequested();
                if (await reports.HasWeeklyAsync(period, districtId, format, ct).ConfigureAwait(false))
                {
                    continue;
                }

                await reports.GenerateAsync(Scheduler, districtId, format, ReportOrigin.Weekly, period, ct).ConfigureAwait(false);
                written++;
            }
        }

        return written;
    }
}
