using Portal.Core.Diagnostics;
using Portal.Endpoints;

namespace Portal.Hosting;

/// <summary>
/// Diagnostics (issue 15), on with <c>Portal:DeviceServerTiming</c>: times each device alarm request from the first
/// middleware to its answer's headers (<see cref="RequestStamps"/>), counts the garbage collections that paused the
/// process meanwhile, and answers with a <c>Server-Timing</c> header.
/// </summary>
public static class DeviceServerTiming
{
    public static WebApplication UseDeviceServerTiming(this WebApplication app)
    {
        app.Use(async (http, next) =>
        {
            if (!http.Request.Path.Equals(DeviceApi.AlarmsPath, StringComparison.Ordinal))
            {
                await next(http);
                return;
            }

            // Set inside this async method, so the stamps flow down this request's path only.
            var stamps = new RequestStamps { Arrived = RequestStamps.Now() };
            var gcCount = GC.CollectionCount(0);
            var gcPause = GC.GetTotalPauseDuration();
            RequestStamps.CurrentFlow.Value = stamps;
            http.Response.OnStarting(() =>
            {
                var pausedSoFar = GC.GetTotalPauseDuration();
                var answered = RequestStamps.Now();
                stamps.GcCount = GC.CollectionCount(0) - gcCount;
                stamps.GcPauseMs = (pausedSoFar - gcPause).TotalMilliseconds;
                stamps.GcPauseClock = (gcPause.TotalMilliseconds, pausedSoFar.TotalMilliseconds);
                http.Response.Headers["Server-Timing"] = stamps.ToServerTiming(answered);
                return Task.CompletedTask;
            });
            await next(http);
        });
        return app;
    }
}
