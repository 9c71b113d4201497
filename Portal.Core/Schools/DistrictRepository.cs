using System.Data.Common;
using Dapper;
using Portal.Core.Data;

namespace Portal.Core.Schools;

/// <summary>The only code that writes District and PoliceCentre; methods taking a transaction join the caller's.</summary>
public sealed class DistrictRepository(Db db)
{
    private const string SelectAll = "SELECT Id, Code, Name, NameEn FROM District ORDER BY Code";

    private const string SelectById = "SELECT Id, Code, Name, NameEn FROM District WHERE Id = @Id";

    private const string CentreColumns = "Id, Name, NameEn, DistrictId, AnswerDeadlineSeconds, EscalatesToCentreId";

    private const string SelectCentres =
        "SELECT " + CentreColumns + " FROM PoliceCentre ORDER BY COALESCE(DistrictId, 0)";

    private const string SelectCentreById = "SELECT " + CentreColumns + " FROM PoliceCentre WHERE Id = @Id";

    private const string InsertDistrictSqlite =
        "INSERT INTO District (Code, Name, NameEn) VALUES (@Code, @Name, @NameEn) RETURNING Id";

    private const string InsertDistrictSqlServer =
        "INSERT INTO District (Code, Name, NameEn) OUTPUT INSERTED.Id VALUES (@Code, @Name, @NameEn)";

    private const string UpdateDistrict = "UPDATE District SET Code = @Code, Name = @Name, NameEn = @NameEn WHERE Id = @Id";

    private const string InsertCentreSqlite = """
        INSERT INTO PoliceCentre (Name, NameEn, DistrictId, AnswerDeadlineSeconds, EscalatesToCentreId)
        VALUES (@Name, @NameEn, @DistrictId, @AnswerDeadlineSeconds, @EscalatesToCentreId) RETURNING Id
        """;

    private const string InsertCentreSqlServer = """
        INSERT INTO PoliceCentre (Name, NameEn, DistrictId, AnswerDeadlineSeconds, EscalatesToCentreId) OUTPUT INSERTED.Id
        VALUES (@Name, @NameEn, @DistrictId, @AnswerDeadlineSeconds, @EscalatesToCentreId)
        """;

    private const string UpdateCentre = """
        UPDATE PoliceCentre SET Name = @Name, NameEn = @NameEn, DistrictId = @DistrictId, AnswerDeadlineSeconds = @AnswerDeadlineSeconds,
            EscalatesToCentreId = @EscalatesToCentreId
        WHERE Id = @Id
        """;

    private const string UpdateDeadline = "UPDATE PoliceCentre SET AnswerDeadlineSeconds = @Seconds WHERE Id = @Id";

    private const string ListWhere = """
        WHERE (@Search IS NULL OR d.Code LIKE @Search ESCAPE '\' OR d.Name LIKE @Search ESCAPE '\' OR d.NameEn LIKE @Search ESCAPE '\'
               OR c.Name LIKE @Search ESCAPE '\')
        """;

    private const string ListFrom = "FROM District d LEFT JOIN PoliceCentre c ON c.DistrictId = d.Id ";

    private const string ListColumns = """
        d.Id, d.Code, d.Name, d.NameEn, c.Id AS CentreId, c.Name AS CentreName, c.AnswerDeadlineSeconds, c.EscalatesToCentreId,
        (SELECT COUNT(*) FROM School s WHERE s.DistrictId = d.Id) AS SchoolCount
        """;

    public async Task<IReadOnlyList<District>> GetAllAsync(CancellationToken ct = default)
    {
        await using var connection = db.Open();
        return [.. await connection.QueryAsync<District>(new CommandDefinition(SelectAll, cancellationToken: ct)).ConfigureAwait(false)];
    }

    internal static async Task<IReadOnlyList<District>> GetAllAsync(DbTransaction tx, CancellationToken ct) =>
        [.. await tx.Connection!.QueryAsync<District>(new CommandDefinition(SelectAll, transaction: tx, cancellationToken: ct)).ConfigureAwait(false)];

    internal static async Task<IReadOnlyList<PoliceCentre>> GetCentresAsync(DbTransaction tx, CancellationToken ct) =>
        [.. await tx.Connection!.QueryAsync<PoliceCentre>(new CommandDefinition(SelectCentres, transaction: tx, cancellationToken: ct)).ConfigureAwait(false)];

    public async Task<District?> GetByIdAsync(int id, CancellationToken ct = default)
    {
        await using var connection = db.Open();
        return await connection.QuerySingleOrDefaultAsync<District>(new CommandDefinition(SelectById, new { Id = id }, cancellationToken: ct)).ConfigureAwait(false);
    }

    /// <summary>Districts with their centres, server-paged, ordered by code.</summary>
    public async Task<Page<DistrictWithCentre>> GetPageAsync(string? search, PageRequest page, CancellationToken ct = default)
    {
        page = page.Clamp();
        var args = new
        {
            Search = string.IsNullOrWhiteSpace(search) ? null : "%" + SchoolRepository.EscapeLike(search.Trim()) + "%",
            page.Skip,
            page.Take,
        };
        await using var connection = db.Open();
        await using var grid = await connection.QueryMultipleAsync(new CommandDefinition(PageSql(db), args, cancellationToken: ct)).ConfigureAwait(false);
        var total = await grid.ReadSingleAsync<int>().ConfigureAwait(false);
        return new Page<DistrictWithCentre>([.. await grid.ReadAsync<DistrictWithCentre>().ConfigureAwait(false)], total);
    }

    public async Task<IReadOnlyList<PoliceCentre>> GetCentresAsync(CancellationToken ct = default)
    {
        await using var connection = db.Open();
        return [.. await connection.QueryAsync<PoliceCentre>(new CommandDefinition(SelectCentres, cancellationToken: ct)).ConfigureAwait(false)];
    }

    public async Task<PoliceCentre?> GetCentreByIdAsync(int id, CancellationToken ct = default)
    {
        await using var connection = db.Open();
        return await connection.QuerySingleOrDefaultAsync<PoliceCentre>(new CommandDefinition(SelectCentreById, new { Id = id }, cancellationToken: ct)).ConfigureAwait(false);
    }

    public async Task<int> CreateAsync(District district, CancellationToken ct = default)
    {
        await using var connection = db.Open();
        return await connection.ExecuteScalarAsync<int>(new CommandDefinition(
            db.Pick(InsertDistrictSqlServer, InsertDistrictSqlite), district, cancellationToken: ct)).ConfigureAwait(false);
    }

    /// <summary>Inserts inside the caller's transaction (the district and centre import); returns the new id.</summary>
    internal Task<int> CreateAsync(DbTransaction tx, District district, CancellationToken ct) =>
        tx.Connection!.ExecuteScalarAsync<int>(new CommandDefinition(db.Pick(InsertDistrictSqlServer, InsertDistrictSqlite), district, tx, cancellationToken: ct));

    public async Task UpdateAsync(District district, CancellationToken ct = default)
    {
        await using var connection = db.Open();
        await connection.ExecuteAsync(new CommandDefinition(UpdateDistrict, district, cancellationToken: ct)).ConfigureAwait(false);
    }

    internal static Task<int> UpdateAsync(DbTransaction tx, District district, CancellationToken ct) =>
        tx.Connection!.ExecuteAsync(new CommandDefinition(UpdateDistrict, district, tx, cancellationToken: ct));

    /// <summary>Inserts a centre with its escalation target; returns the new id.</summary>
    public async Task<int> CreateCentreAsync(PoliceCentre centre, CancellationToken ct = default)
    {
        await using var connection = db.Open();
        return await connection.ExecuteScalarAsync<int>(new CommandDefinition(
            db.Pick(InsertCentreSqlServer, InsertCentreSqlite), centre, cancellationToken: ct)).ConfigureAwait(false);
    }

    internal Task<int> CreateCentreAsync(DbTransaction tx, PoliceCentre centre, CancellationToken ct) =>
        tx.Connection!.ExecuteScalarAsync<int>(new CommandDefinition(db.Pick(InsertCentreSqlServer, InsertCentreSqlite), centre, tx, cancellationToken: ct));

    public async Task UpdateCentreAsync(PoliceCentre centre, CancellationToken ct = default)
    {
        await using var connection = db.Open();
        await connection.ExecuteAsync(new CommandDefinition(UpdateCentre, centre, cancellationToken: ct)).ConfigureAwait(false);
    }

    internal static Task<int> UpdateCentreAsync(DbTransaction tx, PoliceCentre centre, CancellationToken ct) =>
        tx.Connection!.ExecuteAsync(new CommandDefinition(UpdateCentre, centre, tx, cancellationToken: ct));

    public async Task UpdateDeadlineAsync(int centreId, int seconds, CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(seconds, 5);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(seconds, 600);
        await using var connection = db.Open();
        await connection.ExecuteAsync(new CommandDefinition(UpdateDeadline, new { Id = centreId, Seconds = seconds }, cancellationToken: ct)).ConfigureAwait(false);
    }

    internal static string PageSql(Db db) =>
        "SELECT COUNT(*) " + ListFrom + ListWhere + ";\n"
        + "SELECT " + ListColumns + " " + ListFrom + ListWhere + " ORDER BY d.Code " + db.Paging + ";";
}
