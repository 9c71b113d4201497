using System.Data.Common;
using Dapper;
using Portal.Core.Data;
using Portal.Core.Security;

namespace Portal.Core.Schools;

/// <summary>Filters for the school list; scope is applied on top and cannot be widened by these.</summary>
public sealed record SchoolQuery(string? Search = null, int? DistrictId = null, SchoolType? SchoolType = null);

/// <summary>The only code that writes the School table; methods taking a transaction join the caller's.</summary>
public sealed class SchoolRepository(Db db)
{
    private const string Columns =
        "Id, Code, Name, SchoolType, DistrictId, Address, Longitude, Latitude, PrincipalName, Phone, CreatedUtc, UpdatedUtc";

    // Scope and filters in one WHERE: a NULL parameter means "no restriction".
    private const string Where = """
        WHERE (@ScopeDistrictId IS NULL OR DistrictId = @ScopeDistrictId)
          AND (@ScopeSchoolId IS NULL OR Id = @ScopeSchoolId)
          AND (@DistrictId IS NULL OR DistrictId = @DistrictId)
          AND (@SchoolType IS NULL OR SchoolType = @SchoolType)
          AND (@Search IS NULL OR Name LIKE @Search ESCAPE '\' OR Code LIKE @Search ESCAPE '\' OR Address LIKE @Search ESCAPE '\' OR PrincipalName LIKE @Search ESCAPE '\')
        """;

    private const string SelectById = "SELECT " + Columns + " FROM School WHERE Id = @Id";

    private const string SelectByCode = "SELECT " + Columns + " FROM School WHERE Code = @Code";

    private const string SelectAll = "SELECT " + Columns + " FROM School";

    private const string InsertSqlite = """
        INSERT INTO School (Code, Name, SchoolType, DistrictId, Address, Longitude, Latitude, PrincipalName, Phone, CreatedUtc, UpdatedUtc)
        VALUES (@Code, @Name, @SchoolType, @DistrictId, @Address, @Longitude, @Latitude, @PrincipalName, @Phone, @CreatedUtc, @UpdatedUtc)
        RETURNING Id
        """;

    private const string InsertSqlServer = """
        INSERT INTO School (Code, Name, SchoolType, DistrictId, Address, Longitude, Latitude, PrincipalName, Phone, CreatedUtc, UpdatedUtc)
        OUTPUT INSERTED.Id
        VALUES (@Code, @Name, @SchoolType, @DistrictId, @Address, @Longitude, @Latitude, @PrincipalName, @Phone, @CreatedUtc, @UpdatedUtc)
        """;

    private const string Update = """
        UPDATE School SET Name = @Name, SchoolType = @SchoolType, DistrictId = @DistrictId, Address = @Address,
            Longitude = @Longitude, Latitude = @Latitude, PrincipalName = @PrincipalName, Phone = @Phone, UpdatedUtc = @UpdatedUtc
        WHERE Id = @Id
        """;

    public async Task<School?> GetByIdAsync(int id, CancellationToken ct = default)
    {
        await using var connection = db.Open();
        return await connection.QuerySingleOrDefaultAsync<School>(new CommandDefinition(SelectById, new { Id = id }, cancellationToken: ct)).ConfigureAwait(false);
    }

    public async Task<School?> GetByCodeAsync(string code, CancellationToken ct = default)
    {
        await using var connection = db.Open();
        return await connection.QuerySingleOrDefaultAsync<School>(new CommandDefinition(SelectByCode, new { Code = code }, cancellationToken: ct)).ConfigureAwait(false);
    }

    public async Task<Page<School>> GetPageAsync(UserScope scope, SchoolQuery query, PageRequest page, CancellationToken ct = default)
    {
        page = page.Clamp();
        var args = new
        {
            ScopeDistrictId = scope.DistrictId,
            ScopeSchoolId = scope.SchoolId,
            query.DistrictId,
            SchoolType = (int?)query.SchoolType,
            Search = string.IsNullOrWhiteSpace(query.Search) ? null : "%" + EscapeLike(query.Search.Trim()) + "%",
            page.Skip,
            page.Take,
        };
        await using var connection = db.Open();
        await using var grid = await connection.QueryMultipleAsync(new CommandDefinition(PageSql(db), args, cancellationToken: ct)).ConfigureAwait(false);
        var total = await grid.ReadSingleAsync<int>().ConfigureAwait(false);
        var items = (await grid.ReadAsync<School>().ConfigureAwait(false)).ToList();
        return new Page<School>(items, total);
    }

    public async Task<int> CreateAsync(School school, CancellationToken ct = default)
    {
        await using var connection = db.Open();
        return await connection.ExecuteScalarAsync<int>(new CommandDefinition(db.Pick(InsertSqlServer, InsertSqlite), school, cancellationToken: ct)).ConfigureAwait(false);
    }

    public async Task UpdateAsync(School school, CancellationToken ct = default)
    {
        await using var connection = db.Open();
        await connection.ExecuteAsync(new CommandDefinition(Update, school, cancellationToken: ct)).ConfigureAwait(false);
    }

    internal Task<int> CreateAsync(DbTransaction tx, School school, CancellationToken ct) =>
        tx.Connection!.ExecuteScalarAsync<int>(new CommandDefinition(db.Pick(InsertSqlServer, InsertSqlite), school, tx, cancellationToken: ct));

    /// <summary>Every school, for the registry import's snapshot (inside its transaction).</summary>
    internal static async Task<IReadOnlyList<School>> GetAllAsync(DbTransaction tx, CancellationToken ct) =>
        [.. await tx.Connection!.QueryAsync<School>(new CommandDefinition(SelectAll, transaction: tx, cancellationToken: ct)).ConfigureAwait(false)];

    /// <summary>
    /// Writes a registry import's schools with prepared statements re-bound per row (thousands of rows, one compile
    /// each). Returns the new schools' ids by code.
    /// </summary>
    internal async Task<Dictionary<string, int>> ImportAsync(DbTransaction tx, IReadOnlyList<School> added, IReadOnlyList<School> changed, CancellationToken ct)
    {
        var ids = new Dictionary<string, int>(StringComparer.Ordinal);
        using (var insert = new PreparedCommand(db, tx, db.Pick(InsertSqlServer, InsertSqlite)))
        {
            foreach (var school in added)
            {
                ids[school.Code] = Convert.ToInt32(await insert.BindAll(name => ValueOf(school, name)).ScalarAsync(ct).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        using var update = new PreparedCommand(db, tx, Update);
        foreach (var school in changed)
        {
            await update.BindAll(name => ValueOf(school, name)).ExecuteAsync(ct).ConfigureAwait(false);
        }

        return ids;
    }

    internal static string PageSql(Db db) =>
        "SELECT COUNT(*) FROM School " + Where + ";\n"
        + "SELECT " + Columns + " FROM School " + Where + " ORDER BY DistrictId, Code " + db.Paging + ";";

    /// <summary>
    /// LIKE treats % and _ as wildcards; a search for "50%" means the text. Both engines honour
    /// <c>ESCAPE '\'</c>, so escape with a backslash (SQL Server's [%] classes do not exist in SQLite).
    /// </summary>
    internal static string EscapeLike(string text) =>
        text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("%", "\\%", StringComparison.Ordinal).Replace("_", "\\_", StringComparison.Ordinal);

    private static object? ValueOf(School s, string name) => name switch
    {
        "Id" => s.Id,
        "Code" => s.Code,
        "Name" => s.Name,
        "SchoolType" => s.SchoolType,
        "DistrictId" => s.DistrictId,
        "Address" => s.Address,
        "Longitude" => s.Longitude,
        "Latitude" => s.Latitude,
        "PrincipalName" => s.PrincipalName,
        "Phone" => s.Phone,
        "CreatedUtc" => s.CreatedUtc,
        "UpdatedUtc" => s.UpdatedUtc,
        _ => throw new InvalidOperationException($"School SQL names an unknown parameter @{name}."),
    };
}
