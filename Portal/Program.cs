using Hangfire;
using Portal;
using Portal.Components;
using Portal.Endpoints;
using Portal.Hosting;
using Portal.Services;

// Microsoft.Data.Sqlite runs its "async" calls synchronously (SQLite has no async I/O), so each database
// call holds a pool thread. Under a burst of alarms the pool's slow growth (about one thread per half
// second) showed up as 300-500 ms stalls on the device answer; start with enough threads instead.
ThreadPool.GetMinThreads(out var minWorkers, out var minIo);
ThreadPool.SetMinThreads(Math.Max(minWorkers, 64), Math.Max(minIo, 64));

var builder = WebApplication.CreateBuilder(args);

// Serve wwwroot and package assets (MudBlazor) straight from a build output in every environment, so the
// README's run command works without a publish step; in a published app there is no manifest and this is a no-op.
builder.WebHost.UseStaticWebAssets();
builder.AddPortal();

var app = builder.Build();
await app.Services.GetRequiredService<StartupTasks>().RunAsync();
RecurringJobs.Register(app.Services.GetRequiredService<IRecurringJobManager>(), app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<Portal.Core.Health.HealthOptions>>().Value);

if (app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<PortalOptions>>().Value.DeviceServerTiming)
{
    app.UseDeviceServerTiming(); // diagnostics, issue #15: where a device alarm's answer time goes (first, to see the whole pipeline)
}

app.UsePortalWebSecurity(); // issue #14: forwarded headers, CSP and other headers, HSTS, HTTPS redirection, Secure cookies
if (!app.Environment.IsDevelopment())
{
    app.UseExceptionHandler("/error", createScopeForErrors: true);
}

// Device API rate limits first: a flood is answered 429 before anything else runs for it.
app.UseRateLimiter();

app.UseStatusCodePagesWithReExecute("/not-found", createScopeForStatusCodePages: true);
app.UseRequestLocalization();
app.UseAuthentication();
app.UseAuthorization();
app.UseAntiforgery();

app.MapStaticAssets();
app.MapOpenApi();
app.MapAuthEndpoints();
app.MapRegistryApi();
app.MapDeviceApi();
app.MapAlarmApi();
app.MapInstallationApi();
app.MapDiagnosticsApi();
app.MapHealthApi();
app.MapNotificationApi();
app.MapHangfireDashboard("/admin/jobs", new DashboardOptions
{
    Authorization = [new HangfireAdminFilter()],
    DisplayStorageConnectionString = false,
    AppPath = "/admin",
});
app.MapRazorComponents<App>().AddInteractiveServerRenderMode();

// Clean stop (issue #14): a stop that outlasts HostOptions.ShutdownTimeout ends RunAsync with an OperationCanceledException
// (seen from Hangfire's server on a loaded machine); unhandled, it aborted the process (SIGABRT, exit 134) after
// "Application is shutting down...". What had not stopped by then holds nothing that must survive (our state is in the
// database; Hangfire holds only work planned again at start-up), so say so and exit normally.
// (The stopping token and logger are taken before RunAsync: it disposes the host, and a filter that throws is false.)
var stopping = app.Lifetime.ApplicationStopping;
var log = app.Logger;

// Read before the host runs: once it has failed to start it is disposed, and so are its services.
var (urls, webRtcPort) = (app.Configuration["urls"], app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<PortalOptions>>().Value.WebRtcPort);
try
{
    await app.RunAsync();
}
catch (Exception ex) when (PortInUse.Describe(ex, urls, webRtcPort) is { } message)
{
    // Issue #14: a port another program holds ends the start with one clear line, not an abort.
    await Console.Error.WriteLineAsync(message);
    return PortInUse.ExitCode;
}
catch (OperationCanceledException) when (stopping.IsCancellationRequested)
{
    log.LogWarning("The portal did not stop within the shutdown timeout; exiting anyway");
}

return 0;

/// <summary>Exposed so tests can reference the entry assembly.</summary>
public partial class Program;
