using Dapper;
using Portal.Core.Data;

namespace Portal.Core.Alerts;

/// <summary>Something an administrator must act on; repeats of the same kind and subject fold into one open alert.</summary>
public sealed record AdminAlert
{
    public int Id { get; init; }

    /// <summary>A stable code (see <see cref="AdminAlertKinds"/>); the UI words it.</summary>
    public required string Kind { get; init; }

    public required string Subject { get; init; }

    public string? Detail { get; init; }

    public DateTime FirstUtc { get; init; }

    public DateTime LastUtc { get; init; }

    public int Occurrences { get; init; }

    public DateTime? ClosedUtc { get; init; }

    public string? ClosedBy { get; init; }
}

public static class AdminAlertKinds
{
    /// <summary>A device's alarm was refused because no 110 centre covers its district (and there is no city centre).</summary>
    public const string NoCentre = "NoCentre";

    /// <summary>A district has no 110 centre of its own: its alarms are routed to the city centre.</summary>
    public const string DistrictWithoutCentre = "DistrictWithoutCentre";
}

/// <summary>
/// The AdminAlert table. Raising an alert that is already open adds to its count instead of a row, so a
/// misconfiguration hit by every press of a terminal stays one line on the administrator's list.
/// </summary>
public sealed class AdminAlertRepository(Db db)
{
    private const string Columns = "Id, Kind, Subject, Detail, FirstUtc, LastUtc, Occurrences, ClosedUtc, ClosedBy";

    private const string SelectOpen = "SELECT " + Columns + " FROM AdminAlert WHERE ClosedUtc IS NULL ORDER BY LastUtc DESC";

    private const string AddOccurrence = """
        UPDATE AdminAlert SET Occurrences = Occurrences + 1, LastUtc = @Now, Detail = @Detail
        WHERE Kind = @Kind AND Subject = @Subject AND ClosedUtc IS NULL
        """;

    private const string Insert = """
        INSERT INTO AdminAlert (Kind, Subject, Detail, FirstUtc, LastUtc, Occurrences)
        VALUES (@Kind, @Subject, @Detail, @Now, @Now, 1)
        """;

    private const string Close = "UPDATE AdminAlert SET ClosedUtc = @Now, ClosedBy = @By WHERE Id = @Id AND ClosedUtc IS NULL";

    public async Task RaiseAsync(string kind, string subject, string? detail, DateTime now, CancellationToken ct = default)
    {
        var args = new { Kind = kind, Subject = subject, Detail = detail is { Length: > 1000 } ? detail[..1000] : detail, Now = now };
        await using var connection = await db.OpenAsync(ct).ConfigureAwait(false);
        for (var attempt = 0; ; attempt++)
        {
            if (await connection.ExecuteAsync(new CommandDefinition(AddOccurrence, args, cancellationToken: ct)).ConfigureAwait(false) > 0)
            {
                return;
            }

            try
            {
                await connection.ExecuteAsync(new CommandDefinition(Insert, args, cancellationToken: ct)).ConfigureAwait(false);
                return;
            }
            catch (System.Data.Common.DbException) when (attempt == 0)
            {
                // Another raise opened it between our two statements (the unique index on open alerts refused a
                // second row): count this one on it.
            }
        }
    }

    public async Task<IReadOnlyList<AdminAlert>> GetOpenAsync(CancellationToken ct = default)
    {
        await using var connection = db.Open();
        return [.. await connection.QueryAsync<AdminAlert>(new CommandDefinition(SelectOpen, cancellationToken: ct)).ConfigureAwait(false)];
    }

    /// <summary>Marks an alert dealt with; true when it was open.</summary>
    public async Task<bool> CloseAsync(int id, string by, DateTime now, CancellationToken ct = default)
    {
        await using var connection = db.Open();
        return await connection.ExecuteAsync(new CommandDefinition(Close, new { Id = id, By = by, Now = now }, cancellationToken: ct)).ConfigureAwait(false) == 1;
    }
}
