using Portal.Core.Alarms;
using Portal.Core.Data;
using Portal.Core.Devices;
using Portal.Core.Schools;
using Portal.Core.Security;

namespace Portal.Core.Installation;

/// <summary>
/// The joint acceptance test (联调验收): the principal requests it, it reaches the district 110 centre as a
/// test alarm through the alarm intake, and the operator records whether audio and video were fine. A pass
/// writes the school's "acceptance passed" step and moves its devices to Accepted; a failure keeps the record.
/// </summary>
public sealed class AcceptanceTestService(Db db, InstallationRepository installation, SchoolRepository schools, AlarmService alarms, TimeProvider time)
{
    /// <summary>
    /// Requests the test for the principal's school: refused unless the devices are online, the test has not
    /// passed yet and no request is waiting. Returns the test's id in <see cref="InstallationResult.Id"/>.
    /// </summary>
    public async Task<InstallationResult> RequestAsync(UserScope scope, int schoolId, string? remoteAddress = null, CancellationToken ct = default)
    {
        if (scope.Role is not (Roles.Principal or Roles.Admin))
        {
            return InstallationResult.Fail(InstallationErrors.NotAllowed);
        }

        var school = await schools.GetByIdAsync(schoolId, ct).ConfigureAwait(false);
        if (school is null || !scope.CanSee(school.DistrictId, school.Id))
        {
            return InstallationResult.Fail(InstallationErrors.OutOfScope);
        }

        var now = time.GetUtcNow().UtcDateTime;
        int testId;
        await using (var connection = await db.OpenAsync(ct).ConfigureAwait(false))
        await using (var tx = await connection.BeginTransactionAsync(ct).ConfigureAwait(false))
        {
            var done = (await InstallationRepository.GetStepsAsync(tx, schoolId, ct).ConfigureAwait(false)).Select(s => s.Step).ToHashSet();
            if (done.Contains(InstallationStepKind.AcceptancePassed))
            {
                return InstallationResult.Fail(InstallationErrors.AlreadyDone);
            }

            if (!done.Contains(InstallationStepKind.DevicesOnline))
            {
                return InstallationResult.Fail(InstallationErrors.DevicesNotOnline);
            }

            if (await InstallationRepository.CountTestsAsync(tx, schoolId, AcceptanceOutcome.Requested, ct).ConfigureAwait(false) > 0)
            {
                return InstallationResult.Fail(InstallationErrors.TestPending);
            }

            testId = await installation.AddTestAsync(tx, new AcceptanceTest
            {
                SchoolId = schoolId,
                Outcome = AcceptanceOutcome.Requested,
                RequestedUtc = now,
                RequestedBy = scope.UserName,
            }, ct).ConfigureAwait(false);
            await tx.CommitAsync(ct).ConfigureAwait(false);
        }

        // The request row exists before the alarm, so the operator's panel finds the test as soon as the alarm rings.
        int alarmId;
        try
        {
            alarmId = await alarms.RaiseTestAsync(scope, school.Id, acceptance: true, remoteAddress, ct).ConfigureAwait(false);
        }
        catch (AlarmRateLimitException)
        {
            await installation.DeleteUnraisedTestAsync(testId, CancellationToken.None).ConfigureAwait(false);
            return InstallationResult.Fail(InstallationErrors.RateLimited);
        }
        catch (AlarmRoutingException)
        {
            await installation.DeleteUnraisedTestAsync(testId, CancellationToken.None).ConfigureAwait(false);
            return InstallationResult.Fail(InstallationErrors.NoCentre);
        }
        catch
        {
            await installation.DeleteUnraisedTestAsync(testId, CancellationToken.None).ConfigureAwait(false);
            throw;
        }

        await installation.SetTestAlarmAsync(testId, alarmId, ct).ConfigureAwait(false);
        return new InstallationResult(null, testId);
    }

    /// <summary>The test behind an alarm, when the alarm is an acceptance test inside the operator's scope.</summary>
    public async Task<AcceptanceTest?> GetByAlarmIdAsync(UserScope scope, int alarmId, CancellationToken ct = default)
    {
        var test = await installation.GetTestByAlarmIdAsync(alarmId, ct).ConfigureAwait(false);
        if (test is null || await schools.GetByIdAsync(test.SchoolId, ct).ConfigureAwait(false) is not { } school || !scope.CanSee(school.DistrictId, school.Id))
        {
            return null;
        }

        return test;
    }

    /// <summary>
    /// The 110 operator's verdict on the test alarm <paramref name="alarmId"/>: passed when audio and video were
    /// both fine, otherwise failed with <paramref name="notes"/> saying what failed (required then).
    /// </summary>
    public async Task<InstallationResult> RecordResultAsync(UserScope scope, int alarmId, bool audioOk, bool videoOk, string? notes, CancellationToken ct = default)
    {
        if (scope.Role is not (Roles.CityOperator or Roles.DistrictOperator))
        {
            return InstallationResult.Fail(InstallationErrors.NotAllowed);
        }

        var test = await GetByAlarmIdAsync(scope, alarmId, ct).ConfigureAwait(false);
        if (test is null)
        {
            return InstallationResult.Fail(InstallationErrors.TestNotFound);
        }

        if (test.Outcome != AcceptanceOutcome.Requested)
        {
            return InstallationResult.Fail(InstallationErrors.AlreadyDone);
        }

        var passed = audioOk && videoOk;
        notes = string.IsNullOrWhiteSpace(notes) ? null : notes.Trim();
        if (!passed && notes is null)
        {
            return InstallationResult.Fail(InstallationErrors.NotesRequired);
        }

        var now = time.GetUtcNow().UtcDateTime;
        await using var connection = await db.OpenAsync(ct).ConfigureAwait(false);
        await using var tx = await connection.BeginTransactionAsync(ct).ConfigureAwait(false);
        var recorded = test with
        {
            Outcome = passed ? AcceptanceOutcome.Passed : AcceptanceOutcome.Failed,
            AudioOk = audioOk,
            VideoOk = videoOk,
            Notes = notes,
            RecordedUtc = now,
            RecordedBy = scope.UserName,
        };
        if (!await InstallationRepository.RecordTestResultAsync(tx, recorded, ct).ConfigureAwait(false))
        {
            return InstallationResult.Fail(InstallationErrors.AlreadyDone);
        }

        if (passed)
        {
            await InstallationRepository.AddStepAsync(tx, new InstallationStepRecord
            {
                SchoolId = test.SchoolId,
                Step = InstallationStepKind.AcceptancePassed,
                DoneUtc = now,
                DoneBy = scope.UserName,
                Notes = notes,
                CreatedUtc = now,
            }, ct).ConfigureAwait(false);
            await DeviceRepository.SetAcceptedAsync(tx, test.SchoolId, now, ct).ConfigureAwait(false);
        }

        await tx.CommitAsync(ct).ConfigureAwait(false);
        return new InstallationResult(null, test.Id);
    }
}
