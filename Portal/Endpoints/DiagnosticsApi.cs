using Portal.Core.Devices;
using Portal.Core.Security;
using Portal.Services;

namespace Portal.Endpoints;

/// <summary>Administrators' view of the media plane; in demo mode also what the simulated gate camera was told to do.</summary>
public static class DiagnosticsApi
{
    public static void MapDiagnosticsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/diagnostics").RequireAuthorization(Extensions.ApiPolicy).WithTags("Diagnostics");

        api.MapGet("/media", (HttpContext http, GateCameraService media, GateCameraResolver resolver, GateCameraAlarmPulls alarmPulls, GateCameraPrewarm prewarm) =>
        {
            if (http.User.ToScope()?.Role != Roles.Admin)
            {
                return Results.Forbid();
            }

            var demo = resolver.DemoCameraState;
            return Results.Ok(new
            {
                webRtcPort = media.WebRtcPort,

                // Gate camera pulls (issue #15): each camera pulled now or before, and whether it honours keyframe requests.
                alarmPulls = alarmPulls.AlarmIds,

                // Pre-warm (issue #15, item 3): the bound, the gate cameras (device ids) whose sub-stream is held, those refused.
                prewarm = new { max = prewarm.Status.Max, devices = prewarm.Status.DeviceIds, refused = prewarm.Status.RefusedDeviceIds, readings = prewarm.Status.Readings },
                cameras = media.GetPulls().Select(p => new
                {
                    camera = p.Camera.ToString(),
                    state = p.State?.ToString(),
                    p.Viewers,
                    p.Sessions,
                    p.LastError,
                    keyframes = p.Keyframes,
                    prewarm = p.Prewarm, // this pull is a pre-warmed sub-stream
                    prewarmCached = p.PrewarmCached, // ... with a GOP cached now
                    prewarmStarts = p.PrewarmStarts, // viewers of this camera started on its pre-warmed sub-stream's GOP
                }),
                demoCamera = demo is null ? null : new
                {
                    pan = demo.Position.Pan,
                    tilt = demo.Position.Tilt,
                    zoom = demo.Position.Zoom,
                    moveCommands = demo.MoveCommands,
                    stopCommands = demo.StopCommands,
                    lastPreset = demo.LastPreset,
                    warningLightOn = demo.WarningLightOn,
                },
            });
        });

        // Issue #14: what a user still holds open: consoles subscribed to alarms, and server-side sessions. A locked,
        // disabled or signed-out user's count drops to zero within a revalidation interval.
        api.MapGet("/users/{userId:int}/sessions", async (HttpContext http, int userId, Portal.Core.Alarms.AlarmNotifier notifier, UserSessionRepository sessions, CancellationToken ct) =>
            http.User.ToScope()?.Role != Roles.Admin
                ? Results.Forbid()
                : Results.Ok(new { consoles = notifier.CountSubscriptions(userId), sessions = await sessions.CountByUserAsync(userId, ct) }));

        // Demo mode: take one demo school's camera down, hung, ONVIF-less or up again (health checks and their tests).
        api.MapPost("/demo-cameras/{serial}/{availability}", async (HttpContext http, GateCameraResolver resolver, DeviceRepository devices,
            string serial, Portal.Simulator.Cameras.CameraAvailability availability, CancellationToken ct) =>
        {
            if (http.User.ToScope()?.Role != Roles.Admin)
            {
                return Results.Forbid();
            }

            var device = await devices.GetBySerialNumberAsync(serial, ct);
            if (resolver.DemoFleet is not { } fleet || device is null || GateCameraResolver.DemoName(device.RtspUrl) is not { } name)
            {
                return Results.NotFound();
            }

            fleet.Set(name, availability);
            return Results.NoContent();
        });
    }
}
