using Portal.Core.Data;
using Portal.Core.Devices;
using Portal.Core.Health;
using Portal.Core.Security;
using Portal.Services;

namespace Portal.Endpoints;

/// <summary>Device health for integrations and the browser, in the caller's scope (a school outside it: 404).</summary>
public static class HealthApi
{
    public static void MapHealthApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/health").RequireAuthorization(Extensions.ApiPolicy).WithTags("Health");

        api.MapGet("/districts", async (HttpContext http, HealthQueries health, CancellationToken ct) =>
            http.User.ToScope() is { Role: Roles.Bureau or Roles.Admin } scope ? Results.Ok(await health.GetDistrictsAsync(scope, ct)) : Results.Forbid())
            .WithSummary("Online, degraded, offline and unknown devices per district (bureau, administrators).");

        api.MapGet("/devices", async (HttpContext http, HealthQueries health, int? districtId, DeviceKind? kind, DeviceHealthState? state, int? skip, int? take, CancellationToken ct) =>
            http.User.ToScope() is { } scope
                ? Results.Ok(await health.GetByStateAsync(scope, new PageRequest(skip ?? 0, take ?? 50), districtId, kind, state ?? DeviceHealthState.Offline, ct))
                : Results.Forbid())
            .WithSummary("Devices in one state (offline by default) in the caller's scope, the longest in it first.");

        api.MapGet("/schools/{id:int}", async (HttpContext http, HealthQueries health, int id, int? skip, int? take, CancellationToken ct) =>
        {
            if (http.User.ToScope() is not { } scope)
            {
                return Results.Forbid();
            }

            var devices = await health.GetSchoolDevicesAsync(scope, id, ct);
            return devices is null
                ? Results.NotFound()
                : Results.Ok(new { devices, history = await health.GetSchoolHistoryAsync(scope, id, new PageRequest(skip ?? 0, take ?? 50), ct) });
        }).WithSummary("A school's devices with their health and transitions.");
    }
}
