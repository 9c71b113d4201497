using Dapper;
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
public sealed class SerialConfirmationService(Db db, AuditRepository audit, TimeProvider time)
{
    private const string HoldFrom = """
        FROM InstallationHold h JOIN School s ON s.Id = h.SchoolId
        WHERE h.State = @Waiting
        """;

    private const string HoldColumns = """
        h.Id, h.SchoolId, s.Code AS SchoolCode, s.Name AS SchoolName, h.Step, h.DeviceId, h.RegistrySerial, h.InstalledSerial,
        h.DoneUtc, h.DoneBy, h.Notes
        """;

    private const string SelectHold = """
        SELECT Id, SchoolId, Step, DeviceId, RegistrySerial, InstalledSerial, DoneUtc, DoneBy, Notes, CreatedUtc, State, ResolvedUtc, ResolvedBy
        FROM InstallationHold WHERE Id = @Id
        """;

    private const string SelectOtherSerial = "SELECT COUNT(*) FROM Device WHERE SerialNumber = @SerialNumber AND Id <> @DeviceId";

    private const string SelectStepDone = "SELECT COUNT(*) FROM InstallationStep WHERE SchoolId = @SchoolId AND Step = @Step";

    private const string Resolve = """
        UPDATE InstallationHold SET State = @State, ResolvedUtc = @Now, ResolvedBy = @By WHERE Id = @Id AND State = @Waiting
        """;

    public async Task<Page<InstallationHoldItem>> GetWaitingAsync(UserScope scope, PageRequest page, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(scope);
        scope.Require(Roles.Admin);
        page = page.Clamp();
        await using var connection = db.Open();
        await using var grid = await connection.QueryMultipleAsync(new CommandDefinition(PageSql(db),
            new { Waiting = (int)InstallationHoldState.Waiting, page.Skip, page.Take }, cancellationToken: ct)).ConfigureAwait(false);
        var total = await grid.ReadSingleAsync<int>().ConfigureAwait(false);
        return new Page<InstallationHoldItem>([.. await grid.ReadAsync<InstallationHoldItem>().ConfigureAwait(false)], total);
    }

    /// <summary>Applies a held step: the device takes the installed serial and the step is recorded. Nothing changes on an error.</summary>
    public async Task<InstallationResult> ConfirmAsync(Actor actor, int holdId, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(actor);
        actor.Scope.Require(Roles.Admin);
        var now = time.GetUtcNow().UtcDateTime;
        await using var connection = await db.OpenAsync(ct).ConfigureAwait(false);
        await using var tx = await connection.BeginTransactionAsync(ct).ConfigureAwait(false);
        var hold = await connection.QuerySingleOrDefaultAsync<InstallationHold>(new CommandDefinition(SelectHold, new { Id = holdId }, tx, cancellationToken: ct)).ConfigureAwait(false);
        if (hold is not { State: InstallationHoldState.Waiting })
        {
            return InstallationResult.Fail(InstallationErrors.HoldNotFound);
        }

        if (await connection.ExecuteScalarAsync<int>(new CommandDefinition(SelectOtherSerial, new { SerialNumber = hold.InstalledSerial, hold.DeviceId }, tx, cancellationToken: ct)).ConfigureAwait(false) > 0)
        {
            return InstallationResult.Fail(InstallationErrors.DuplicateSerial);
        }

        if (await connection.ExecuteScalarAsync<int>(new CommandDefinition(SelectStepDone, new { hold.SchoolId, Step = (int)hold.Step }, tx, cancellationToken: ct)).ConfigureAwait(false) > 0)
        {
            return InstallationResult.Fail(InstallationErrors.AlreadyDone);
        }

        if (!await DeviceRepository.ChangeSerialAsync(tx, hold.DeviceId, hold.InstalledSerial, now, ct).ConfigureAwait(false))
        {
            return InstallationResult.Fail(InstallationErrors.HoldNotFound);
        }

        await connection.ExecuteAsync(new CommandDefinition(InstallationService.InsertStep, new
        {
            hold.SchoolId,
            Step = (int)hold.Step,
            hold.DoneUtc,
            hold.DoneBy,
            hold.Notes,
            SerialNumber = hold.InstalledSerial,
            CreatedUtc = now,
        }, tx, cancellationToken: ct)).ConfigureAwait(false);
        if (hold.Step == InstallationStepKind.CameraInstalled)
        {
            await InstallationService.TryMarkOnlineAsync(connection, tx, hold.SchoolId, now, ct).ConfigureAwait(false);
        }

        await ResolveAsync(connection, tx, hold, InstallationHoldState.Confirmed, actor, now, ct).ConfigureAwait(false);
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
        var hold = await connection.QuerySingleOrDefaultAsync<InstallationHold>(new CommandDefinition(SelectHold, new { Id = holdId }, tx, cancellationToken: ct)).ConfigureAwait(false);
        if (hold is not { State: InstallationHoldState.Waiting })
        {
            return InstallationResult.Fail(InstallationErrors.HoldNotFound);
        }

        await ResolveAsync(connection, tx, hold, InstallationHoldState.Rejected, actor, now, ct).ConfigureAwait(false);
        await audit.WriteAsync(tx, actor, AuditActions.DeviceSerialRejected, "device " + hold.RegistrySerial + " ≠ " + hold.InstalledSerial,
            "step " + hold.Step + " by " + hold.DoneBy, ct).ConfigureAwait(false);
        await tx.CommitAsync(ct).ConfigureAwait(false);
        return InstallationResult.Ok;
    }

    internal static string PageSql(Db db) =>
        "SELECT COUNT(*) " + HoldFrom + ";\n"
        + "SELECT " + HoldColumns + " " + HoldFrom + " ORDER BY h.CreatedUtc, h.Id " + db.Paging + ";";

    private static Task<int> ResolveAsync(System.Data.Common.DbConnection connection, System.Data.Common.DbTransaction tx, InstallationHold hold, InstallationHoldState state, Actor actor, DateTime now, CancellationToken ct) =>
        connection.ExecuteAsync(new CommandDefinition(Resolve, new
        {
            hold.Id,
            State = (int)state,
            Now = now,
            By = actor.Scope.UserName,
            Waiting = (int)InstallationHoldState.Waiting,
        }, tx, cancellationToken: ct));
}
