using Portal.Core.Alarms;
using Portal.Core.Data;
using Portal.Services;

namespace Portal.Endpoints;

/// <summary>Alarm history for integrations and the browser, in the caller's scope (another scope's id: 404).</summary>
public static class AlarmApi
{
    public static void MapAlarmApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/alarms").RequireAuthorization(SignIn.ApiScopes.AlarmsPolicy).WithTags("Alarms");

        api.MapGet("/", async (HttpContext http, AlarmService alarms, int? districtId, int? schoolId, DateTime? fromUtc, DateTime? toUtc,
            AlarmDisposition? disposition, bool? isTest, bool? openOnly, int? skip, int? take, CancellationToken ct) =>
            http.User.ToScope() is { } scope
                ? Results.Ok(await alarms.GetHistoryAsync(scope, new AlarmQuery(districtId, schoolId, fromUtc, toUtc, disposition, isTest, openOnly ?? false),
                    new PageRequest(skip ?? 0, take ?? 50), ct))
                : Results.Forbid());

        api.MapGet("/{id:int}", async (HttpContext http, AlarmService alarms, int id, CancellationToken ct) =>
        {
            if (http.User.ToScope() is not { } scope)
            {
                return Results.Forbid();
            }

            var alarm = await alarms.GetAsync(scope, id, ct);
            return alarm is null ? Results.NotFound() : Results.Ok(new { alarm, timeline = await alarms.GetTimelineAsync(scope, id, ct) });
        });
    }
}
