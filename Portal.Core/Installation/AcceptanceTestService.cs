using Dapper;
using Portal.Core.Alarms;
using Portal.Core.Data;
using Portal.Core.Schools;
using Portal.Core.Security;

namespace Portal.Core.Installation;

/// <summary>
/// The joint acceptance test (联调验收): the principal requests it, it reaches the district 110 centre as a
/// test alarm through the alarm intake, and the operator records whether audio and video were fine. A pass
/// writes the school's "acceptance passed" step and moves its devices to Accepted; a failure keeps the record.
/// </summary>
public sealed class AcceptanceTestService(Db db, SchoolRepository schools, AlarmService alarms, TimeProvider time)
{
    private const string SelectPending = "SELECT COUNT(*) FROM AcceptanceTest WHERE SchoolId = @SchoolId AND Outcome = 0";

    private const string SelectStepsDone = "SELECT Step FROM InstallationStep WHERE SchoolId = @SchoolId";

    private const string InsertSqlServer = """
        INSERT INTO AcceptanceTest (SchoolId, AlarmId, Outcome, RequestedUtc, RequestedBy)
        OUTPUT INSERTED.Id
        VALUES (@SchoolId, NULL, 0, @Now, @RequestedBy)
        """;

    private const string InsertSqlite = """
        INSERT INTO AcceptanceTest (SchoolId, AlarmId, Outcome, RequestedUtc, RequestedBy)
        VALUES (@SchoolId, NULL, 0, @Now, @RequestedBy)
        RETURNING Id
        """;

    private const string UpdateAlarmId = "UPDATE AcceptanceTest SET AlarmId = @AlarmId WHERE Id = @Id";

    private const string DeleteUnraised = "DELETE FROM AcceptanceTest WHERE Id = @Id AND AlarmId IS NULL";

    private const string SelectByAlarm = """
        SELECT Id, SchoolId, AlarmId, Outcome, RequestedUtc, RequestedBy, AudioOk, VideoOk, Notes, RecordedUtc, RecordedBy
        FROM AcceptanceTest WHERE AlarmId = @AlarmId
        """;

    private const string UpdateResult = """
        UPDATE AcceptanceTest SET Outcome = @Outcome, AudioOk = @AudioOk, VideoOk = @VideoOk, Notes = @Notes,
            RecordedUtc = @Now, RecordedBy = @RecordedBy
        WHERE Id = @Id AND Outcome = 0
        """;

    private const string UpdateDevicesAccepted = "UPDATE Device SET InstallState = 3, UpdatedUtc = @Now WHERE SchoolId = @SchoolId AND InstallState >= 2";

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
            var done = (await connection.QueryAsync<int>(new CommandDefinition(SelectStepsDone, new { SchoolId = schoolId }, tx, cancellationToken: ct)).ConfigureAwait(false)).ToHashSet();
            if (done.Contains((int)InstallationStepKind.AcceptancePassed))
            {
                return InstallationResult.Fail(InstallationErrors.AlreadyDone);
            }

            if (!done.Contains((int)InstallationStepKind.DevicesOnline))
            {
                return InstallationResult.Fail(InstallationErrors.DevicesNotOnline);
            }

            if (await connection.ExecuteScalarAsync<int>(new CommandDefinition(SelectPending, new { SchoolId = schoolId }, tx, cancellationToken: ct)).ConfigureAwait(false) > 0)
            {
                return InstallationResult.Fail(InstallationErrors.TestPending);
            }

            testId = await connection.ExecuteScalarAsync<int>(new CommandDefinition(db.Pick(InsertSqlServer, InsertSqlite),
                new { SchoolId = schoolId, Now = now, RequestedBy = scope.UserName }, tx, cancellationToken: ct)).ConfigureAwait(false);
            await tx.CommitAsync(ct).ConfigureAwait(false);
        }

        // The request row exists before the alarm, so the operator's panel finds the test as soon as the alarm rings.
        await using var link = await db.OpenAsync(ct).ConfigureAwait(false);
        int alarmId;
        try
        {
            alarmId = await alarms.RaiseTestAsync(scope, school.Id, acceptance: true, remoteAddress, ct).ConfigureAwait(false);
        }
        catch (AlarmRateLimitException)
        {
            await link.ExecuteAsync(new CommandDefinition(DeleteUnraised, new { Id = testId }, cancellationToken: CancellationToken.None)).ConfigureAwait(false);
            return InstallationResult.Fail(InstallationErrors.RateLimited);
        }
        catch
        {
            await link.ExecuteAsync(new CommandDefinition(DeleteUnraised, new { Id = testId }, cancellationToken: CancellationToken.None)).ConfigureAwait(false);
            throw;
        }

        await link.ExecuteAsync(new CommandDefinition(UpdateAlarmId, new { Id = testId, AlarmId = alarmId }, cancellationToken: ct)).ConfigureAwait(false);
        return new InstallationResult(null, testId);
    }

    /// <summary>
    /// The test behind an alarm, when the alarm is an acceptance test inside the user's scope (an alarm transferred
    /// to another district's centre is in that centre's scope, and so is its test).
    /// </summary>
    public async Task<AcceptanceTest?> GetByAlarmIdAsync(UserScope scope, int alarmId, CancellationToken ct = default)
    {
        await using var connection = await db.OpenAsync(ct).ConfigureAwait(false);
        var test = await connection.QuerySingleOrDefaultAsync<AcceptanceTest>(new CommandDefinition(SelectByAlarm, new { AlarmId = alarmId }, cancellationToken: ct)).ConfigureAwait(false);
        if (test is null || await alarms.GetAsync(scope, alarmId, ct).ConfigureAwait(false) is not { } alarm || alarm.SchoolId != test.SchoolId)
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
        var changed = await connection.ExecuteAsync(new CommandDefinition(UpdateResult, new
        {
            test.Id,
            Outcome = (int)(passed ? AcceptanceOutcome.Passed : AcceptanceOutcome.Failed),
            AudioOk = audioOk,
            VideoOk = videoOk,
            Notes = notes,
            Now = now,
            RecordedBy = scope.UserName,
        }, tx, cancellationToken: ct)).ConfigureAwait(false);
        if (changed == 0)
        {
            return InstallationResult.Fail(InstallationErrors.AlreadyDone);
        }

        if (passed)
        {
            await connection.ExecuteAsync(new CommandDefinition(InstallationService.InsertStep, new
            {
                test.SchoolId,
                Step = (int)InstallationStepKind.AcceptancePassed,
                DoneUtc = now,
                DoneBy = scope.UserName,
                Notes = notes,
                SerialNumber = (string?)null,
                CreatedUtc = now,
            }, tx, cancellationToken: ct)).ConfigureAwait(false);
            await connection.ExecuteAsync(new CommandDefinition(UpdateDevicesAccepted, new { test.SchoolId, Now = now }, tx, cancellationToken: ct)).ConfigureAwait(false);
        }

        await tx.CommitAsync(ct).ConfigureAwait(false);
        return new InstallationResult(null, test.Id);
    }
}
