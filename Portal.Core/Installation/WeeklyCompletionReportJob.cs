using System.Globalization;
using Microsoft.Extensions.Logging;
using Portal.Core.Schools;
using Portal.Core.Security;

namespace Portal.Core.Installation;

/// <summary>
/// Every week: the city report and one per district, each as xlsx and PDF, kept in the history. Reentrant:
/// a report already written for this ISO week is skipped, so a retry after a failure only fills the gaps.
/// </summary>
/// One report that fails (a full disk, a damaged font, a database error) is logged and the others are still written;
/// the run then fails as a whole, so Hangfire retries it and the retry writes only what is missing.
public sealed class WeeklyCompletionReportJob(CompletionReportService reports, DistrictRepository districts, TimeProvider time, ILogger<WeeklyCompletionReportJob>? logger = null)
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
        var failures = new List<Exception>();
        foreach (var districtId in targets)
        {
            foreach (var format in Enum.GetValues<ReportFormat>())
            {
                ct.ThrowIfCancellationRequested();
                try
                {
                    if (await reports.HasWeeklyAsync(period, districtId, format, ct).ConfigureAwait(false))
                    {
                        continue;
                    }

                    await reports.GenerateAsync(Scheduler, districtId, format, ReportOrigin.Weekly, period, ct).ConfigureAwait(false);
                    written++;
                }
                catch (Exception ex) when (ex is not OperationCanceledException and not OutOfMemoryException)
                {
                    logger?.LogError(ex, "Weekly report {Period} for district {DistrictId} ({Format}) failed; the others go on", period, districtId?.ToString(CultureInfo.InvariantCulture) ?? "city", format);
                    failures.Add(ex);
                }
            }
        }

        return failures.Count == 0 ? written
            : throw new AggregateException($"{failures.Count} weekly reports of {period} failed ({written} written); a retry writes the missing ones.", failures);
    }
}
