using System.Data.Common;
using Dapper;
using Portal.Core.Data;

namespace Portal.Core.Devices;

/// <summary>A district's or a school's own pre-warm setting (issue #15): exactly one of the two ids is set.</summary>
public sealed record GateCameraPrewarmSetting
{
    public int? DistrictId { get; init; }

    public int? SchoolId { get; init; }

    public bool Enabled { get; init; }

    public DateTime UpdatedUtc { get; init; }

    public required string UpdatedBy { get; init; }
}

/// <summary>
/// The <c>GateCameraPrewarm</c> table: whether a district's or a school's gate cameras keep their sub-stream pulled. A
/// school's own row wins over its district's; no row means the school follows its district, and a district without a
/// row is off.
/// </summary>
public sealed class GateCameraPrewarmRepository(Db db)
{
    private const string SelectAll = "SELECT DistrictId, SchoolId, Enabled, UpdatedUtc, UpdatedBy FROM GateCameraPrewarm";

    private const string DeleteDistrict = "DELETE FROM GateCameraPrewarm WHERE DistrictId = @Id";

    private const string DeleteSchool = "DELETE FROM GateCameraPrewarm WHERE SchoolId = @Id";

    private const string InsertDistrict = """
        INSERT INTO GateCameraPrewarm (DistrictId, SchoolId, Enabled, UpdatedUtc, UpdatedBy) VALUES (@Id, NULL, @Enabled, @Now, @By)
        """;

    private const string InsertSchool = """
        INSERT INTO GateCameraPrewarm (DistrictId, SchoolId, Enabled, UpdatedUtc, UpdatedBy) VALUES (NULL, @Id, @Enabled, @Now, @By)
        """;

    // The gate cameras to pre-warm: enabled, with a sub-stream, in a school whose own setting (else its district's) is on.
    // In school order, so the city-wide bound keeps the same cameras from one reading to the next.
    private const string SelectCameras = """
        SELECT d.Id
        FROM Device d JOIN School s ON s.Id = d.SchoolId
        LEFT JOIN GateCameraPrewarm ps ON ps.SchoolId = s.Id
        LEFT JOIN GateCameraPrewarm pd ON pd.DistrictId = s.DistrictId
        WHERE d.Kind = @GateCamera AND d.Enabled = @On AND d.RtspSubStreamUrl IS NOT NULL
          AND COALESCE(ps.Enabled, pd.Enabled, @Off) = @On
        ORDER BY s.Id, d.Id
        """;

    public async Task<IReadOnlyList<GateCameraPrewarmSetting>> GetAllAsync(CancellationToken ct = default)
    {
        await using var connection = db.Open();
        return [.. await connection.QueryAsync<GateCameraPrewarmSetting>(new CommandDefinition(SelectAll, cancellationToken: ct)).ConfigureAwait(false)];
    }

    /// <summary>The ids of the gate cameras whose school pre-warms them, in school order.</summary>
    public async Task<IReadOnlyList<int>> GetCameraIdsAsync(CancellationToken ct = default)
    {
        await using var connection = db.Open();
        return [.. await connection.QueryAsync<int>(new CommandDefinition(SelectCameras, new { GateCamera = DeviceKind.GateCamera, On = true, Off = false }, cancellationToken: ct)).ConfigureAwait(false)];
    }

    /// <summary>Sets (true/false) or clears (null) a district's setting, in the caller's transaction.</summary>
    internal static async Task SetDistrictAsync(DbTransaction tx, int districtId, bool? enabled, DateTime now, string by, CancellationToken ct)
    {
        await tx.Connection!.ExecuteAsync(new CommandDefinition(DeleteDistrict, new { Id = districtId }, tx, cancellationToken: ct)).ConfigureAwait(false);
        if (enabled is { } on)
        {
            await tx.Connection!.ExecuteAsync(new CommandDefinition(InsertDistrict, new { Id = districtId, Enabled = on, Now = now, By = by }, tx, cancellationToken: ct)).ConfigureAwait(false);
        }
    }

    /// <summary>Sets (true/false) or clears (null: follow the district) a school's setting, in the caller's transaction.</summary>
    internal static async Task SetSchoolAsync(DbTransaction tx, int schoolId, bool? enabled, DateTime now, string by, CancellationToken ct)
    {
        await tx.Connection!.ExecuteAsync(new CommandDefinition(DeleteSchool, new { Id = schoolId }, tx, cancellationToken: ct)).ConfigureAwait(false);
        if (enabled is { } on)
        {
            await tx.Connection!.ExecuteAsync(new CommandDefinition(InsertSchool, new { Id = schoolId, Enabled = on, Now = now, By = by }, tx, cancellationToken: ct)).ConfigureAwait(false);
        }
    }

    internal Db Db => db;
}
