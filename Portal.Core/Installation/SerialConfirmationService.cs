using Portal.Core.Audit;
using Portal.Core.Data;
using Portal.Core.Devices;
using Portal.Core.Security;

namespace Portal.Core.Installation;

/// <summary>
/// Administrators confirm or reject installation steps held because their serial differs from the registry's
/// device (issue 13). Confirmed: in one transaction the device takes the new serial (a terminal is flagged for a new
/// key), the step is recorded as the school reported it, and the change is audited. Rejected: nothing changes and
/// the school records the step again with the right serial.
/// </summary>
public sealed class SerialConfirmationService(Db db, InstallationRepository installation, AuditRepository audit, TimeProvider time)
{
    public Task<Page<InstallationHoldItem>> GetWaitingAsync(UserScope scope, PageRequest page, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(scope);
        scope.Require(Roles.Admin);
        return installation.GetWaitingHoldPageAsync(page, ct);
    }

    /// <summary>Applies a held step: the device takes the installed serial and the step is recorded. Nothing changes on an error.</summary>
    public async Task<InstallationResult> ConfirmAsync(Actor actor, int holdId, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(actor);
        actor.Scope.Require(Roles.Admin);
        var now = time.GetUtcNow().UtcDateTime;
        await using var connection = await db.OpenAsync(ct).ConfigureAwait(false);
        await using var tx = await connection.BeginTransactionAsync(ct).ConfigureAwait(false);
        var hold = await InstallationRepository.GetHoldAsync(tx, holdId, ct).ConfigureAwait(false);
        if (hold is not { State: InstallationHoldState.Waiting })
        {
            return InstallationResult.Fail(InstallationErrors.HoldNotFound);
        }

        if (await DeviceRepository.GetBySerialNumberAsync(tx, hold.InstalledSerial, ct).ConfigureAwait(false) is { } holder && holder.Id != hold.DeviceId)
        {
            return InstallationResult.Fail(InstallationErrors.DuplicateSerial);
        }

        if ((await InstallationRepository.GetStepsAsync(tx, hold.SchoolId, ct).ConfigureAwait(false)).Any(s => s.Step == hold.Step))
        {
            return InstallationResult.Fail(InstallationErrors.AlreadyDone);
        }

        if (!await InstallationRepository.ResolveHoldAsync(tx, hold.Id, InstallationHoldState.Confirmed, now, actor.Scope.UserName, ct).ConfigureAwait(false)
            || !await DeviceRepository.ChangeSerialAsync(tx, hold.DeviceId, hold.InstalledSerial, now, ct).ConfigureAwait(false))
        {
            return InstallationResult.Fail(InstallationErrors.HoldNotFound);
        }

        await InstallationRepository.AddStepAsync(tx, new InstallationStepRecord
        {
            SchoolId = hold.SchoolId,
            Step = hold.Step,
            DoneUtc = hold.DoneUtc,
            DoneBy = hold.DoneBy,
            Notes = hold.Notes,
            SerialNumber = hold.InstalledSerial,
            CreatedUtc = now,
        }, ct).ConfigureAwait(false);
        if (hold.Step == InstallationStepKind.CameraInstalled)
        {
            await InstallationService.TryMarkOnlineAsync(tx, hold.SchoolId, now, ct).ConfigureAwait(false);
        }

        await audit.WriteAsync(tx, actor, AuditActions.DeviceSerialConfirmed, "device " + hold.RegistrySerial + " → " + hold.InstalledSerial,
            "step " + hold.Step + " by " + hold.DoneBy, ct).ConfigureAwait(false);
        await tx.CommitAsync(ct).ConfigureAwait(false);
        return InstallationResult.Ok;
    }

    /// <summary>Drops a held step: the device keeps its serial and the school records the step again.</summary>
    public async Task<InstallationResult> RejectAsync(Actor actor, int holdId, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(actor);
        actor.Scope.Require(Roles.Admin);
        var now = time.GetUtcNow().UtcDateTime;
        await using var connection = await db.OpenAsync(ct).ConfigureAwait(false);
        await using var tx = await connection.BeginTransactionAsync(ct).ConfigureAwait(false);
        var hold = await InstallationRepository.GetHoldAsync(tx, holdId, ct).ConfigureAwait(false);
        if (hold is not { State: InstallationHoldState.Waiting }
            || !await InstallationRepository.ResolveHoldAsync(tx, hold.Id, InstallationHoldState.Rejected, now, actor.Scope.UserName, ct).ConfigureAwait(false))
        {
            return InstallationResult.Fail(InstallationErrors.HoldNotFound);
        }

        await audit.WriteAsync(tx, actor, AuditActions.DeviceSerialRejected, "device " + hold.RegistrySerial + " ≠ " + hold.InstalledSerial,
            "step " + hold.Step + " by " + hold.DoneBy, ct).ConfigureAwait(false);
        await tx.CommitAsync(ct).ConfigureAwait(false);
        return InstallationResult.Ok;
    }
}
