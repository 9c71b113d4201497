using Hangfire;
using Portal;
using Portal.Components;
using Portal.Endpoints;
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

if (!app.Environment.IsDevelopment())
{
    app.UseExceptionHandler("/error", createScopeForErrors: true);
}

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

await app.RunAsync();

/// <summary>Exposed so tests can reference the entry assembly.</summary>
public partial class Program;
