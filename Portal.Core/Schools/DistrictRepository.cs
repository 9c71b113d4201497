using System.Data.Common;
using Dapper;
using Portal.Core.Data;

namespace Portal.Core.Schools;

/// <summary>The only code that writes District and PoliceCentre; methods taking a transaction join the caller's.</summary>
public sealed class DistrictRepository(Db db)
{
    private const string SelectAll = "SELECT Id, Code, Name, NameEn FROM District ORDER BY Code";

    private const string SelectCentres =
        "SELECT Id, Name, NameEn, DistrictId, AnswerDeadlineSeconds FROM PoliceCentre ORDER BY COALESCE(DistrictId, 0)";

    private const string InsertDistrictSqlite =
        "INSERT INTO District (Code, Name, NameEn) VALUES (@Code, @Name, @NameEn) RETURNING Id";

    private const string InsertDistrictSqlServer =
        "INSERT INTO District (Code, Name, NameEn) OUTPUT INSERTED.Id VALUES (@Code, @Name, @NameEn)";

    private const string InsertCentre =
        "INSERT INTO PoliceCentre (Name, NameEn, DistrictId, AnswerDeadlineSeconds) VALUES (@Name, @NameEn, @DistrictId, @AnswerDeadlineSeconds)";

    private const string UpdateDeadline = "UPDATE PoliceCentre SET AnswerDeadlineSeconds = @Seconds WHERE Id = @Id";

    public async Task<IReadOnlyList<District>> GetAllAsync(CancellationToken ct = default)
    {
        await using var connection = db.Open();
        return [.. await connection.QueryAsync<District>(new CommandDefinition(SelectAll, cancellationToken: ct)).ConfigureAwait(false)];
    }

    internal static async Task<IReadOnlyList<District>> GetAllAsync(DbTransaction tx, CancellationToken ct) =>
        [.. await tx.Connection!.QueryAsync<District>(new CommandDefinition(SelectAll, transaction: tx, cancellationToken: ct)).ConfigureAwait(false)];

    public async Task<IReadOnlyList<PoliceCentre>> GetCentresAsync(CancellationToken ct = default)
    {
        await using var connection = db.Open();
        return [.. await connection.QueryAsync<PoliceCentre>(new CommandDefinition(SelectCentres, cancellationToken: ct)).ConfigureAwait(false)];
    }

    public async Task<int> CreateAsync(District district, CancellationToken ct = default)
    {
        await using var connection = db.Open();
        return await connection.ExecuteScalarAsync<int>(new CommandDefinition(
            db.Pick(InsertDistrictSqlServer, InsertDistrictSqlite), district, cancellationToken: ct)).ConfigureAwait(false);
    }

    internal Task<int> CreateAsync(DbTransaction tx, District district, CancellationToken ct) =>
        tx.Connection!.ExecuteScalarAsync<int>(new CommandDefinition(db.Pick(InsertDistrictSqlServer, InsertDistrictSqlite), district, tx, cancellationToken: ct));

    internal static Task CreateCentreAsync(DbTransaction tx, PoliceCentre centre, CancellationToken ct) =>
        tx.Connection!.ExecuteAsync(new CommandDefinition(InsertCentre, centre, tx, cancellationToken: ct));

    public async Task CreateCentreAsync(PoliceCentre centre, CancellationToken ct = default)
    {
        await using var connection = db.Open();
        await connection.ExecuteAsync(new CommandDefinition(InsertCentre, centre, cancellationToken: ct)).ConfigureAwait(false);
    }

    public async Task UpdateDeadlineAsync(int centreId, int seconds, CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(seconds, 5);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(seconds, 600);
        await using var connection = db.Open();
        await connection.ExecuteAsync(new CommandDefinition(UpdateDeadline, new { Id = centreId, Seconds = seconds }, cancellationToken: ct)).ConfigureAwait(false);
    }
}
