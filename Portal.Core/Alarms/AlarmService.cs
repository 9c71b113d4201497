using Portal.Core.Data;
using Portal.Core.Schools;
using Portal.Core.Security;

namespace Portal.Core.Alarms;

/// <summary>The outcome of an operator's action: done, or the stable code of why not (the UI words it).</summary>
public sealed record AlarmActionResult(bool Succeeded, string? Error = null, string? Detail = null)
{
    public static readonly AlarmActionResult Ok = new(true);

    public static AlarmActionResult Fail(string error, string? detail = null) => new(false, error, detail);
}

/// <summary>
/// Everything people do with alarms, each call checked against the caller's role and scope: a district
/// operator never touches another district's alarm, a principal only tests their own school.
/// </summary>
public sealed class AlarmService(AlarmRepository alarms, AlarmIntake intake, AlarmNotifier notifier, SchoolRepository schools, DistrictRepository districts, TimeProvider time)
{
    /// <summary>A school may start one test alarm a minute, and none while another of its tests is open.</summary>
    public static readonly TimeSpan TestAlarmInterval = TimeSpan.FromMinutes(1);

    public const int MaxTextLength = 1000;

    public Task<IReadOnlyList<AlarmView>> GetOpenAsync(UserScope scope, CancellationToken ct = default) => alarms.GetOpenAsync(scope, ct);

    public Task<AlarmView?> GetAsync(UserScope scope, int id, CancellationToken ct = default) => alarms.GetViewAsync(scope, id, ct);

    public Task<Page<AlarmView>> GetHistoryAsync(UserScope scope, AlarmQuery query, PageRequest page, CancellationToken ct = default) =>
        alarms.GetPageAsync(scope, query, page, ct);

    /// <summary>The alarm's whole timeline, or null when it is outside the scope.</summary>
    public async Task<IReadOnlyList<AlarmEvent>?> GetTimelineAsync(UserScope scope, int id, CancellationToken ct = default) =>
        await alarms.GetViewAsync(scope, id, ct).ConfigureAwait(false) is null ? null : await alarms.GetEventsAsync(id, ct).ConfigureAwait(false);

    /// <summary>Starts a test alarm for a school (principal: their own; admin: any). Returns the alarm id.</summary>
    public async Task<int> RaiseTestAsync(UserScope scope, int schoolId, bool acceptance, string? remoteAddress, CancellationToken ct = default)
    {
        scope.Require(Roles.Principal, Roles.Admin);
        var school = await schools.GetByIdAsync(schoolId, ct).ConfigureAwait(false);
        if (school is null || !scope.CanSee(school.DistrictId, school.Id))
        {
            throw new ScopeDeniedException("The school is outside the caller's scope.");
        }

        if (await alarms.CountRecentTestsAsync(schoolId, time.GetUtcNow().UtcDateTime - TestAlarmInterval, ct).ConfigureAwait(false) > 0)
        {
            throw new AlarmRateLimitException();
        }

        var receipt = await intake.SubmitAsync(new AlarmSignal(school.Id, school.DistrictId, null, AlarmSource.PortalTest, true, acceptance,
            remoteAddress, scope.UserId, scope.UserName), ct).ConfigureAwait(false);
        return receipt.NoCentre ? throw new AlarmRoutingException() : receipt.AlarmId;
    }

    public async Task<AlarmActionResult> AnswerAsync(UserScope scope, int id, string? remoteAddress, CancellationToken ct = default)
    {
        var alarm = await PoliceAlarmAsync(scope, id, ct).ConfigureAwait(false);
        if (alarm is null)
        {
            return AlarmActionResult.Fail("NotFound");
        }

        if (!await alarms.TryAnswerAsync(id, scope, remoteAddress, Now, ct).ConfigureAwait(false))
        {
            var now = await alarms.GetViewAsync(id, ct).ConfigureAwait(false);
            return AlarmActionResult.Fail("AlreadyAnswered", now?.AnsweredByName);
        }

        notifier.Publish(id, AlarmEventKind.Answered);
        return AlarmActionResult.Ok;
    }

    public Task<AlarmActionResult> AddNoteAsync(UserScope scope, int id, string text, string? remoteAddress, CancellationToken ct = default) =>
        AddTextEventAsync(scope, id, AlarmEventKind.Note, text, remoteAddress, ct);

    /// <summary>Records units sent and when (local time as the operator typed it, kept in the text).</summary>
    public Task<AlarmActionResult> DispatchAsync(UserScope scope, int id, string units, string? remoteAddress, CancellationToken ct = default) =>
        AddTextEventAsync(scope, id, AlarmEventKind.Dispatch, units, remoteAddress, ct);

    public async Task<AlarmActionResult> TransferAsync(UserScope scope, int id, int centreId, string? note, string? remoteAddress, CancellationToken ct = default)
    {
        var alarm = await PoliceAlarmAsync(scope, id, ct).ConfigureAwait(false);
        if (alarm is null || !alarm.IsOpen)
        {
            return AlarmActionResult.Fail("NotFound");
        }

        var centre = (await districts.GetCentresAsync(ct).ConfigureAwait(false)).FirstOrDefault(c => c.Id == centreId);
        if (centre is null || centre.Id == alarm.CentreId)
        {
            return AlarmActionResult.Fail("UnknownCentre");
        }

        if (note is { Length: > MaxTextLength })
        {
            return AlarmActionResult.Fail("TooLong");
        }

        if (!await alarms.TryTransferAsync(id, centre.Id, centre.Name, scope, remoteAddress, note?.Trim(), Now, ct).ConfigureAwait(false))
        {
            return AlarmActionResult.Fail("NotFound");
        }

        notifier.Publish(id, AlarmEventKind.Transferred);
        return AlarmActionResult.Ok;
    }

    public async Task<AlarmActionResult> CloseAsync(UserScope scope, int id, AlarmDisposition disposition, string? note, string? remoteAddress, CancellationToken ct = default)
    {
        var alarm = await PoliceAlarmAsync(scope, id, ct).ConfigureAwait(false);
        if (alarm is null)
        {
            return AlarmActionResult.Fail("NotFound");
        }

        if (!Enum.IsDefined(disposition))
        {
            return AlarmActionResult.Fail("UnknownDisposition");
        }

        if (disposition == AlarmDisposition.RealEmergency && string.IsNullOrWhiteSpace(note))
        {
            return AlarmActionResult.Fail("NoteRequired");
        }

        if (note is { Length: > MaxTextLength })
        {
            return AlarmActionResult.Fail("TooLong");
        }

        if (alarm.State != AlarmState.Answered)
        {
            return AlarmActionResult.Fail(alarm.State == AlarmState.Closed ? "AlreadyClosed" : "AnswerFirst");
        }

        if (!await alarms.TryCloseAsync(id, disposition, scope, remoteAddress, note?.Trim(), Now, ct).ConfigureAwait(false))
        {
            return AlarmActionResult.Fail("AlreadyClosed");
        }

        notifier.Publish(id, AlarmEventKind.Closed);
        return AlarmActionResult.Ok;
    }

    /// <summary>Records a camera action (PTZ preset, warning light) in the alarm's audit trail.</summary>
    public Task<AlarmActionResult> RecordCameraActionAsync(UserScope scope, int id, string what, string? remoteAddress, CancellationToken ct = default) =>
        AddTextEventAsync(scope, id, AlarmEventKind.Camera, what, remoteAddress, ct);

    private async Task<AlarmActionResult> AddTextEventAsync(UserScope scope, int id, AlarmEventKind kind, string text, string? remoteAddress, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return AlarmActionResult.Fail("Required");
        }

        if (text.Length > MaxTextLength)
        {
            return AlarmActionResult.Fail("TooLong");
        }

        if (await PoliceAlarmAsync(scope, id, ct).ConfigureAwait(false) is null)
        {
            return AlarmActionResult.Fail("NotFound");
        }

        await alarms.AddEventAsync(new AlarmEvent
        {
            AlarmId = id,
            Kind = kind,
            AtUtc = Now,
            UserId = scope.UserId,
            UserName = scope.UserName,
            RemoteAddress = remoteAddress,
            Text = text.Trim(),
        }, ct).ConfigureAwait(false);
        notifier.Publish(id, kind);
        return AlarmActionResult.Ok;
    }

    /// <summary>Only police act on alarms, and only on alarms their scope covers.</summary>
    private async Task<AlarmView?> PoliceAlarmAsync(UserScope scope, int id, CancellationToken ct)
    {
        scope.Require(Roles.CityOperator, Roles.DistrictOperator);
        return await alarms.GetViewAsync(scope, id, ct).ConfigureAwait(false);
    }

    private DateTime Now => time.GetUtcNow().UtcDateTime;
}

/// <summary>A test alarm asked for too soon after the last one.</summary>
public sealed class AlarmRateLimitException : Exception
{
    public AlarmRateLimitException()
        : base("A test alarm for this school is open or was started less than a minute ago.")
    {
    }

    public AlarmRateLimitException(string message)
        : base(message)
    {
    }

    public AlarmRateLimitException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>No 110 centre covers the school's district and the city has none: the alarm could not be routed.</summary>
public sealed class AlarmRoutingException : Exception
{
    public AlarmRoutingException()
        : base("No 110 centre covers this school's district, and there is no city centre.")
    {
    }

    public AlarmRoutingException(string message)
        : base(message)
    {
    }

    public AlarmRoutingException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
