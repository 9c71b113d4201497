using Dapper;
using Portal.Core.Data;
using Portal.Core.Devices;
using Portal.Core.Schools;
using Portal.Services;

namespace Portal.Endpoints;

/// <summary>
/// Read APIs over the registry for integrations and the browser. Every call runs in the caller's scope:
/// another scope's id answers 404, exactly like an id that does not exist.
/// </summary>
public static class RegistryApi
{
    public static void MapRegistryApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api").RequireAuthorization(SignIn.ApiScopes.RegistryPolicy).WithTags("Registry");

        api.MapGet("/districts", async (HttpContext http, SchoolService schools, CancellationToken ct) =>
            http.User.ToScope() is { } scope ? Results.Ok(await schools.GetDistrictsAsync(scope, ct)) : Results.Forbid());

        api.MapGet("/schools", async (HttpContext http, SchoolService schools, string? search, int? districtId, SchoolType? type, int? skip, int? take, CancellationToken ct) =>
            http.User.ToScope() is { } scope
                ? Results.Ok(await schools.GetPageAsync(scope, new SchoolQuery(search, districtId, type), new PageRequest(skip ?? 0, take ?? 50), ct))
                : Results.Forbid());

        api.MapGet("/schools/{id:int}", async (HttpContext http, SchoolService schools, int id, CancellationToken ct) =>
            http.User.ToScope() is not { } scope ? Results.Forbid()
                : await schools.GetAsync(scope, id, ct) is { } school ? Results.Ok(school) : Results.NotFound());

        api.MapGet("/schools/{id:int}/devices", async (HttpContext http, SchoolService schools, DeviceService devices, int id, CancellationToken ct) =>
        {
            if (http.User.ToScope() is not { } scope)
            {
                return Results.Forbid();
            }

            return await schools.GetAsync(scope, id, ct) is null
                ? Results.NotFound()
                : Results.Ok(await devices.GetViewsBySchoolAsync(scope, id, ct));
        });

        api.MapGet("/devices", async (HttpContext http, DeviceService devices, string? search, int? districtId, int? schoolId, DeviceKind? kind,
            DeviceInstallState? installState, DeviceHealthState? health, int? skip, int? take, CancellationToken ct) =>
            http.User.ToScope() is { } scope
                ? Results.Ok(await devices.GetPageAsync(scope, new DeviceQuery(search, districtId, schoolId, kind, installState, health), new PageRequest(skip ?? 0, take ?? 50), ct))
                : Results.Forbid());

        api.MapGet("/devices/{id:int}", async (HttpContext http, DeviceService devices, int id, CancellationToken ct) =>
            http.User.ToScope() is not { } scope ? Results.Forbid()
                : await devices.GetViewAsync(scope, id, ct) is { } device ? Results.Ok(device) : Results.NotFound());

        app.MapGet("/healthz", async (Db db, CancellationToken ct) =>
        {
            try
            {
                await using var connection = await db.OpenAsync(ct);
                await connection.ExecuteScalarAsync<int>(new CommandDefinition("SELECT 1", cancellationToken: ct));
                return Results.Ok(new { status = "healthy", database = db.Dialect.ToString() });
            }
            catch (Exception ex) when (ex is System.Data.Common.DbException or InvalidOperationException or TimeoutException)
            {
                return Results.Json(new { status = "unhealthy", database = db.Dialect.ToString(), error = ex.GetType().Name }, statusCode: StatusCodes.Status503ServiceUnavailable);
            }
        }).WithTags("Health").AllowAnonymous();
    }
}
