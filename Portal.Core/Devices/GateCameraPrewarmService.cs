using Portal.Core.Audit;
using Portal.Core.Security;

namespace Portal.Core.Devices;

/// <summary>
/// Administrators set whether a district's or a school's gate cameras are pre-warmed (issue #15): only administrators,
/// each change with its audit entry in one transaction. <see cref="Changed"/> tells the media plane to look again.
/// </summary>
public sealed class GateCameraPrewarmService(GateCameraPrewarmRepository settings, AuditRepository audit, TimeProvider time)
{
    /// <summary>Raised after a change is committed.</summary>
    public event Action? Changed;

    public Task<IReadOnlyList<GateCameraPrewarmSetting>> GetAllAsync(UserScope scope, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(scope);
        scope.Require(Roles.Admin);
        return settings.GetAllAsync(ct);
    }

    /// <summary>Turns a district's pre-warm on or off (null: no setting, which is off).</summary>
    /// <exception cref="ScopeDeniedException">The user is not an administrator.</exception>
    public Task SetDistrictAsync(Actor actor, int districtId, bool? enabled, CancellationToken ct = default) =>
        SetAsync(actor, "district " + districtId, enabled, (tx, now, by) => GateCameraPrewarmRepository.SetDistrictAsync(tx, districtId, enabled, now, by, ct), ct);

    /// <summary>Turns a school's pre-warm on or off, or (null) lets it follow its district.</summary>
    /// <exception cref="ScopeDeniedException">The user is not an administrator.</exception>
    public Task SetSchoolAsync(Actor actor, int schoolId, bool? enabled, CancellationToken ct = default) =>
        SetAsync(actor, "school " + schoolId, enabled, (tx, now, by) => GateCameraPrewarmRepository.SetSchoolAsync(tx, schoolId, enabled, now, by, ct), ct);

    private async Task SetAsync(Actor actor, string target, bool? enabled, Func<System.Data.Common.DbTransaction, DateTime, string, Task> write, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(actor);
        actor.Scope.Require(Roles.Admin);
        var now = time.GetUtcNow().UtcDateTime;
        await using (var connection = settings.Db.Open())
        {
            await connection.OpenAsync(ct).ConfigureAwait(false);
            await using var tx = await connection.BeginTransactionAsync(ct).ConfigureAwait(false);
            await write(tx, now, actor.Scope.UserName).ConfigureAwait(false);
            await audit.WriteAsync(tx, actor, AuditActions.PrewarmChanged, target, enabled switch { true => "on", false => "off", null => "inherit" }, ct).ConfigureAwait(false);
            await tx.CommitAsync(ct).ConfigureAwait(false);
        }

        Changed?.Invoke();
    }
}
