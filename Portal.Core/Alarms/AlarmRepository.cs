using System.Data.Common;
using Dapper;
using Portal.Core.Data;
using Portal.Core.Schools;
using Portal.Core.Security;

namespace Portal.Core.Alarms;

/// <summary>One alarm as the statistics read it.</summary>
public sealed record AlarmStatisticRow
{
    public int DistrictId { get; init; }

    public string DistrictName { get; init; } = string.Empty;

    public AlarmState State { get; init; }

    public AlarmDisposition? Disposition { get; init; }

    public bool IsTest { get; init; }

    public DateTime RaisedUtc { get; init; }

    public DateTime? AnsweredUtc { get; init; }

    public DateTime? EscalatedUtc { get; init; }
}

public sealed record AlarmQuery(
    int? DistrictId = null,
    int? SchoolId = null,
    DateTime? FromUtc = null,
    DateTime? ToUtc = null,
    AlarmDisposition? Disposition = null,
    bool? IsTest = null,
    bool OpenOnly = false);

/// <summary>An alarm escalated past its deadline, and the district of the centre that held it before (null: the city's).</summary>
public sealed record Escalation
{
    public int Id { get; init; }

    public int? FormerCentreDistrictId { get; init; }

    /// <summary>The centre that held it when it fell due.</summary>
    public int FormerCentreId { get; init; }

    /// <summary>That centre's own escalation target (null: the city centre).</summary>
    public int? EscalatesToCentreId { get; init; }
}

/// <summary>
/// Reads alarms in a user's scope, and the conditional writes that make each step happen once. (New alarms and
/// joined signals are written by <see cref="AlarmIntake"/>, the single group-commit writer.)
/// </summary>
public sealed class AlarmRepository(Db db)
{
    internal const string ViewColumns = """
        a.Id, a.SchoolId, a.DistrictId, a.DeviceId, a.CentreId, c.DistrictId AS CentreDistrictId, a.Source, a.IsTest, a.IsAcceptance,
        a.State, a.RaisedUtc, a.LastSignalUtc, a.SignalCount, a.AnswerDeadlineUtc, a.EscalatedUtc, a.AnsweredUtc,
        a.AnsweredByUserId, a.AnsweredByName, a.ClosedUtc, a.Disposition,
        s.Name AS SchoolName, s.Code AS SchoolCode, s.Address, s.PrincipalName, s.Phone, s.Longitude, s.Latitude,
        d.Name AS DistrictName, d.NameEn AS DistrictNameEn, dv.SerialNumber AS DeviceSerial, dv.Model AS DeviceModel,
        c.Name AS CentreName, c.NameEn AS CentreNameEn
        """;

    internal const string ViewFrom = """
        FROM Alarm a
        JOIN School s ON s.Id = a.SchoolId
        JOIN District d ON d.Id = a.DistrictId
        JOIN PoliceCentre c ON c.Id = a.CentreId
        LEFT JOIN Device dv ON dv.Id = a.DeviceId
        """;

    // A district sees its schools' alarms and any transferred to its centre; a principal, the school's.
    private const string ScopeWhere = """
        WHERE (@ScopeDistrictId IS NULL OR a.DistrictId = @ScopeDistrictId OR c.DistrictId = @ScopeDistrictId)
          AND (@ScopeSchoolId IS NULL OR a.SchoolId = @ScopeSchoolId)
        """;

    private const string QueryWhere = """
          AND (@DistrictId IS NULL OR a.DistrictId = @DistrictId)
          AND (@SchoolId IS NULL OR a.SchoolId = @SchoolId)
          AND (@FromUtc IS NULL OR a.RaisedUtc >= @FromUtc)
          AND (@ToUtc IS NULL OR a.RaisedUtc < @ToUtc)
          AND (@Disposition IS NULL OR a.Disposition = @Disposition)
          AND (@IsTest IS NULL OR a.IsTest = @IsTest)
          AND (@OpenOnly = 0 OR a.State < @Closed)
        """;

    private const string SelectEvents = """
        SELECT e.Id, e.AlarmId, e.Kind, e.AtUtc, e.UserId, e.UserName, e.RemoteAddress, e.Text, e.Code, e.CentreId,
               c.Name AS CentreName, c.NameEn AS CentreNameEn
        FROM AlarmEvent e LEFT JOIN PoliceCentre c ON c.Id = e.CentreId
        WHERE e.AlarmId = @AlarmId ORDER BY e.Id
        """;

    /// <summary>Also the alarm intake's writer's (a prepared statement on its own connection).</summary>
    internal const string InsertEvent = """
        INSERT INTO AlarmEvent (AlarmId, Kind, AtUtc, UserId, UserName, RemoteAddress, Text, Code, CentreId)
        VALUES (@AlarmId, @Kind, @AtUtc, @UserId, @UserName, @RemoteAddress, @Text, @Code, @CentreId)
        """;

    // Exactly one operator wins: the update only matches while nobody has answered. AnsweredUtc keeps the first
    // answer when a transferred alarm is answered again at the receiving centre (statistics measure the first).
    private const string Answer = """
        UPDATE Alarm SET State = @Answered, AnsweredUtc = COALESCE(AnsweredUtc, @Now), AnsweredByUserId = @UserId, AnsweredByName = @UserName, AnswerDeadlineUtc = NULL
        WHERE Id = @Id AND State < @Answered
        """;

    private const string Close = """
        UPDATE Alarm SET State = @Closed, ClosedUtc = @Now, Disposition = @Disposition, AnswerDeadlineUtc = NULL
        WHERE Id = @Id AND State = @Answered
        """;

    // The receiving centre must answer it now: it rings there with that centre's own deadline. Only from the centre
    // that held it, so two transfers at once cannot both take.
    private const string Transfer = """
        UPDATE Alarm SET CentreId = @CentreId, State = @Ringing, AnswerDeadlineUtc = @Deadline, AnsweredByUserId = NULL, AnsweredByName = NULL
        WHERE Id = @Id AND State < @Closed AND CentreId = @FromCentreId
        """;

    private const string SelectDue = """
        SELECT a.Id, c.DistrictId AS FormerCentreDistrictId, a.CentreId AS FormerCentreId, c.EscalatesToCentreId
        FROM Alarm a JOIN PoliceCentre c ON c.Id = a.CentreId
        WHERE a.State = @Ringing AND a.AnswerDeadlineUtc <= @Now
        """;

    // To the target read with the due alarm (the centre's own, else the city's); conditional on the alarm still
    // ringing at the centre it was read at, so a transfer or an answer in between wins and nothing is misrecorded.
    private const string Escalate = """
        UPDATE Alarm SET State = @Escalated, EscalatedUtc = @Now, AnswerDeadlineUtc = NULL, CentreId = @ToCentreId
        WHERE Id = @Id AND State = @Ringing AND CentreId = @FormerCentreId
        """;

    private const string SelectCityCentre = "SELECT Id FROM PoliceCentre WHERE DistrictId IS NULL";

    private const string CountRecentTests = "SELECT COUNT(*) FROM Alarm WHERE SchoolId = @SchoolId AND IsTest = 1 AND (State < @Closed OR RaisedUtc >= @Since)";

    private const string SelectStatisticRows = """
        SELECT a.DistrictId, d.Name AS DistrictName, a.State, a.Disposition, a.IsTest, a.RaisedUtc, a.AnsweredUtc, a.EscalatedUtc
        FROM Alarm a JOIN District d ON d.Id = a.DistrictId
        WHERE (@ScopeDistrictId IS NULL OR a.DistrictId = @ScopeDistrictId)
          AND a.RaisedUtc >= @FromUtc AND a.RaisedUtc < @ToUtc
        """;

    internal static string ViewByIdSql => "SELECT " + ViewColumns + " " + ViewFrom + " WHERE a.Id = @Id";

    internal static string PageSql(Db db) =>
        "SELECT COUNT(*) " + ViewFrom + " " + ScopeWhere + QueryWhere + ";\n"
        + "SELECT " + ViewColumns + " " + ViewFrom + " " + ScopeWhere + QueryWhere + " ORDER BY a.RaisedUtc DESC, a.Id DESC " + db.Paging + ";";

    internal static string OpenSql => "SELECT " + ViewColumns + " " + ViewFrom + " " + ScopeWhere + " AND a.State < @Closed ORDER BY a.RaisedUtc DESC";

    internal static string ScopedByIdSql => "SELECT " + ViewColumns + " " + ViewFrom + " " + ScopeWhere + " AND a.Id = @Id";

    public async Task<AlarmView?> GetViewAsync(int id, CancellationToken ct = default)
    {
        await using var connection = db.Open();
        return await connection.QuerySingleOrDefaultAsync<AlarmView>(new CommandDefinition(ViewByIdSql, new { Id = id }, cancellationToken: ct)).ConfigureAwait(false);
    }

    /// <summary>
    /// The views of several alarms by id, read over one connection (ids no longer there are missing). Synchronous:
    /// the notifier reads on its own thread.
    /// </summary>
    public IReadOnlyDictionary<int, AlarmView> GetViews(IReadOnlyCollection<int> ids)
    {
        var views = new Dictionary<int, AlarmView>(ids.Count);
        using var connection = db.Open();
        connection.Open();
        foreach (var id in ids)
        {
            if (connection.QuerySingleOrDefault<AlarmView>(ViewByIdSql, new { Id = id }) is { } view)
            {
                views[id] = view;
            }
        }

        return views;
    }

    public async Task<AlarmView?> GetViewAsync(UserScope scope, int id, CancellationToken ct = default)
    {
        await using var connection = db.Open();
        return await connection.QuerySingleOrDefaultAsync<AlarmView>(new CommandDefinition(ScopedByIdSql,
            new { Id = id, ScopeDistrictId = scope.DistrictId, ScopeSchoolId = scope.SchoolId }, cancellationToken: ct)).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<AlarmView>> GetOpenAsync(UserScope scope, CancellationToken ct = default)
    {
        await using var connection = db.Open();
        return [.. await connection.QueryAsync<AlarmView>(new CommandDefinition(OpenSql,
            new { ScopeDistrictId = scope.DistrictId, ScopeSchoolId = scope.SchoolId, Closed = (int)AlarmState.Closed }, cancellationToken: ct)).ConfigureAwait(false)];
    }

    public async Task<Page<AlarmView>> GetPageAsync(UserScope scope, AlarmQuery query, PageRequest page, CancellationToken ct = default)
    {
        page = page.Clamp();
        var args = new
        {
            ScopeDistrictId = scope.DistrictId,
            ScopeSchoolId = scope.SchoolId,
            query.DistrictId,
            query.SchoolId,
            query.FromUtc,
            query.ToUtc,
            Disposition = (int?)query.Disposition,
            query.IsTest,
            OpenOnly = query.OpenOnly ? 1 : 0,
            Closed = (int)AlarmState.Closed,
            page.Skip,
            page.Take,
        };
        await using var connection = db.Open();
        await using var grid = await connection.QueryMultipleAsync(new CommandDefinition(PageSql(db), args, cancellationToken: ct)).ConfigureAwait(false);
        var total = await grid.ReadSingleAsync<int>().ConfigureAwait(false);
        return new Page<AlarmView>([.. await grid.ReadAsync<AlarmView>().ConfigureAwait(false)], total);
    }

    /// <summary>A school's test alarms that are open or were raised since <paramref name="since"/>.</summary>
    public async Task<int> CountRecentTestsAsync(int schoolId, DateTime since, CancellationToken ct = default)
    {
        await using var connection = db.Open();
        return await connection.ExecuteScalarAsync<int>(new CommandDefinition(CountRecentTests,
            new { SchoolId = schoolId, Since = since, Closed = (int)AlarmState.Closed }, cancellationToken: ct)).ConfigureAwait(false);
    }

    /// <summary>The alarms raised in a period (of one district, or all when null), as the statistics need them.</summary>
    public async Task<IReadOnlyList<AlarmStatisticRow>> GetStatisticRowsAsync(int? districtId, DateTime fromUtc, DateTime toUtc, CancellationToken ct = default)
    {
        await using var connection = db.Open();
        return [.. await connection.QueryAsync<AlarmStatisticRow>(new CommandDefinition(SelectStatisticRows,
            new { ScopeDistrictId = districtId, FromUtc = fromUtc, ToUtc = toUtc }, cancellationToken: ct)).ConfigureAwait(false)];
    }

    public async Task<IReadOnlyList<AlarmEvent>> GetEventsAsync(int alarmId, CancellationToken ct = default)
    {
        await using var connection = db.Open();
        return [.. await connection.QueryAsync<AlarmEvent>(new CommandDefinition(SelectEvents, new { AlarmId = alarmId }, cancellationToken: ct)).ConfigureAwait(false)];
    }

    public async Task AddEventAsync(AlarmEvent e, CancellationToken ct = default)
    {
        await using var connection = db.Open();
        await connection.ExecuteAsync(new CommandDefinition(InsertEvent, e, cancellationToken: ct)).ConfigureAwait(false);
    }

    internal static Task AddEventAsync(DbConnection connection, DbTransaction tx, AlarmEvent e, CancellationToken ct) =>
        connection.ExecuteAsync(new CommandDefinition(InsertEvent, e, tx, cancellationToken: ct));

    /// <summary>True for the one caller whose answer took; false when someone else had it already.</summary>
    public Task<bool> TryAnswerAsync(int id, UserScope user, string? remoteAddress, DateTime now, CancellationToken ct = default) =>
        ChangeWithEventAsync(Answer, new { Id = id, Now = now, user.UserId, user.UserName, Answered = (int)AlarmState.Answered },
            new AlarmEvent { AlarmId = id, Kind = AlarmEventKind.Answered, AtUtc = now, UserId = user.UserId, UserName = user.UserName, RemoteAddress = remoteAddress }, ct);

    public Task<bool> TryCloseAsync(int id, AlarmDisposition disposition, UserScope user, string? remoteAddress, string? note, DateTime now, CancellationToken ct = default) =>
        ChangeWithEventAsync(Close, new { Id = id, Now = now, Disposition = (int)disposition, Answered = (int)AlarmState.Answered, Closed = (int)AlarmState.Closed },
            new AlarmEvent { AlarmId = id, Kind = AlarmEventKind.Closed, AtUtc = now, UserId = user.UserId, UserName = user.UserName, RemoteAddress = remoteAddress, Code = (int)disposition, Text = note }, ct);

    /// <summary>Hands an open alarm from <paramref name="fromCentreId"/> to <paramref name="centre"/>, ringing there with its deadline.</summary>
    public Task<bool> TryTransferAsync(int id, int fromCentreId, PoliceCentre centre, UserScope user, string? remoteAddress, string? note, DateTime now, CancellationToken ct = default) =>
        ChangeWithEventAsync(Transfer, new { Id = id, CentreId = centre.Id, FromCentreId = fromCentreId, Deadline = now.AddSeconds(centre.AnswerDeadlineSeconds), Ringing = (int)AlarmState.Ringing, Closed = (int)AlarmState.Closed },
            new AlarmEvent { AlarmId = id, Kind = AlarmEventKind.Transferred, AtUtc = now, UserId = user.UserId, UserName = user.UserName, RemoteAddress = remoteAddress, CentreId = centre.Id, Text = note }, ct);

    /// <summary>
    /// Escalates every alarm whose answer deadline has passed, in one transaction (one lock and one sync for
    /// the lot, not one per alarm, so the alarm intake is not kept waiting); if that fails, each alarm in its own,
    /// so one alarm that cannot be escalated holds none of the others back. Returns what this call escalated, each
    /// with the district of the centre that held it before (whose consoles are told).
    /// </summary>
    public async Task<IReadOnlyList<Escalation>> EscalateDueAsync(DateTime now, Action<int, Exception>? onFailure = null, CancellationToken ct = default)
    {
        List<Escalation> due;
        int? city;
        await using (var connection = await db.OpenAsync(ct).ConfigureAwait(false))
        {
            due = [.. await connection.QueryAsync<Escalation>(new CommandDefinition(SelectDue, new { Now = now, Ringing = (int)AlarmState.Ringing }, cancellationToken: ct)).ConfigureAwait(false)];
            if (due.Count == 0)
            {
                return [];
            }

            city = await connection.ExecuteScalarAsync<int?>(new CommandDefinition(SelectCityCentre, cancellationToken: ct)).ConfigureAwait(false);
        }

        try
        {
            return await EscalateAsync(due, city, now, ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (due.Count > 1 && ex is DbException or InvalidOperationException)
        {
            var escalated = new List<Escalation>();
            foreach (var one in due)
            {
                try
                {
                    escalated.AddRange(await EscalateAsync([one], city, now, ct).ConfigureAwait(false));
                }
                catch (Exception oneEx) when (oneEx is DbException or InvalidOperationException)
                {
                    onFailure?.Invoke(one.Id, oneEx);
                }
            }

            return escalated;
        }
    }

    private async Task<List<Escalation>> EscalateAsync(List<Escalation> due, int? city, DateTime now, CancellationToken ct)
    {
        await using var connection = await db.OpenAsync(ct).ConfigureAwait(false);
        var escalated = new List<Escalation>();
        await using var tx = await connection.BeginTransactionAsync(ct).ConfigureAwait(false);
        foreach (var one in due)
        {
            // An alarm with nowhere to go (no city centre yet) keeps ringing where it is rather than failing the pass.
            if ((one.EscalatesToCentreId ?? city) is not { } to)
            {
                continue;
            }

            // Conditional: another instance (or an operator's answer) may have got there first.
            if (await connection.ExecuteAsync(new CommandDefinition(Escalate, new { one.Id, one.FormerCentreId, ToCentreId = to, Now = now, Ringing = (int)AlarmState.Ringing, Escalated = (int)AlarmState.Escalated }, tx, cancellationToken: ct)).ConfigureAwait(false) == 1)
            {
                await AddEventAsync(connection, tx, new AlarmEvent { AlarmId = one.Id, Kind = AlarmEventKind.Escalated, AtUtc = now, UserName = "system", CentreId = to }, ct).ConfigureAwait(false);
                escalated.Add(one);
            }
        }

        await tx.CommitAsync(ct).ConfigureAwait(false);
        return escalated;
    }

    private async Task<bool> ChangeWithEventAsync(string sql, object args, AlarmEvent e, CancellationToken ct)
    {
        await using var connection = await db.OpenAsync(ct).ConfigureAwait(false);
        return await ChangeWithEventAsync(connection, sql, args, e, ct).ConfigureAwait(false);
    }

    private static async Task<bool> ChangeWithEventAsync(DbConnection connection, string sql, object args, AlarmEvent e, CancellationToken ct)
    {
        await using var tx = await connection.BeginTransactionAsync(ct).ConfigureAwait(false);
        var changed = await connection.ExecuteAsync(new CommandDefinition(sql, args, tx, cancellationToken: ct)).ConfigureAwait(false);
        if (changed == 1)
        {
            await AddEventAsync(connection, tx, e, ct).ConfigureAwait(false);
        }

        await tx.CommitAsync(ct).ConfigureAwait(false);
        return changed == 1;
    }
}
