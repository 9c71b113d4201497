using Portal.Core.Security;

namespace Portal.Core.Installation;

/// <summary>
/// The programme's deadline (city bureau) and each district's target and contact (the district's own bureau
/// or the city). Deadline changes are appended, so the history of the order stays in the table.
/// </summary>
public sealed class ProgrammeSettingsService(InstallationRepository installation, TimeProvider time)
{
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

        await installation.AddSettingsAsync(settings, time.GetUtcNow().UtcDateTime, scope.UserName, ct).ConfigureAwait(false);
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

        await installation.SaveDistrictTargetAsync(target with { ContactName = target.ContactName.Trim(), ContactPhone = target.ContactPhone.Trim() },
            time.GetUtcNow().UtcDateTime, ct).ConfigureAwait(false);
        return InstallationResult.Ok;
    }
}
