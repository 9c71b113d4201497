using Dapper;
using Portal.Core.Data;
using Portal.Core.Security;

namespace Portal.Core.Installation;

/// <summary>
/// The programme's deadline (city bureau) and each district's target and contact (the district's own bureau
/// or the city). Deadline changes are appended, so the history of the order stays in the table.
/// </summary>
public sealed class ProgrammeSettingsService(Db db, TimeProvider time)
{
    private const string InsertSettings = "INSERT INTO InstallationProgramme (StartUtc, DeadlineUtc, UpdatedUtc, UpdatedBy) VALUES (@StartUtc, @DeadlineUtc, @Now, @By)";

    private const string UpdateTarget = """
        UPDATE DistrictTarget SET TargetUtc = @TargetUtc, TargetPercent = @TargetPercent, ContactName = @ContactName, ContactPhone = @ContactPhone, UpdatedUtc = @Now
        WHERE DistrictId = @DistrictId
        """;

    private const string InsertTarget = """
        INSERT INTO DistrictTarget (DistrictId, TargetUtc, TargetPercent, ContactName, ContactPhone, UpdatedUtc)
        VALUES (@DistrictId, @TargetUtc, @TargetPercent, @ContactName, @ContactPhone, @Now)
        """;

    public async Task<InstallationResult> SaveSettingsAsync(UserScope scope, ProgrammeSettings settings, CancellationToken ct = default)
    {
        if (scope.Role is not (Roles.Bureau or Roles.Admin) || !scope.IsCityWide)
        {
            return InstallationResult.Fail(InstallationErrors.NotAllowed);
        }

        if (settings.DeadlineUtc <= settings.StartUtc)
        {
            return InstallationResult.Fail(InstallationErrors.InvalidDates);
        }

        await using var connection = await db.OpenAsync(ct).ConfigureAwait(false);
        await connection.ExecuteAsync(new CommandDefinition(InsertSettings,
            new { settings.StartUtc, settings.DeadlineUtc, Now = time.GetUtcNow().UtcDateTime, By = scope.UserName }, cancellationToken: ct)).ConfigureAwait(false);
        return InstallationResult.Ok;
    }

    public async Task<InstallationResult> SaveDistrictTargetAsync(UserScope scope, DistrictTarget target, CancellationToken ct = default)
    {
        if (scope.Role is not (Roles.Bureau or Roles.Admin))
        {
            return InstallationResult.Fail(InstallationErrors.NotAllowed);
        }

        if (!scope.CanSeeDistrict(target.DistrictId))
        {
            return InstallationResult.Fail(InstallationErrors.OutOfScope);
        }

        if (target.TargetPercent is < 1 or > 100)
        {
            return InstallationResult.Fail(InstallationErrors.InvalidDates);
        }

        var args = new
        {
            target.DistrictId,
            target.TargetUtc,
            target.TargetPercent,
            ContactName = target.ContactName.Trim(),
            ContactPhone = target.ContactPhone.Trim(),
            Now = time.GetUtcNow().UtcDateTime,
        };
        await using var connection = await db.OpenAsync(ct).ConfigureAwait(false);
        await using var tx = await connection.BeginTransactionAsync(ct).ConfigureAwait(false);
        if (await connection.ExecuteAsync(new CommandDefinition(UpdateTarget, args, tx, cancellationToken: ct)).ConfigureAwait(false) == 0)
        {
            await connection.ExecuteAsync(new CommandDefinition(InsertTarget, args, tx, cancellationToken: ct)).ConfigureAwait(false);
        }

        await tx.CommitAsync(ct).ConfigureAwait(false);
        return InstallationResult.Ok;
    }
}
