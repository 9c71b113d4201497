using Portal.Core.Installation;
using Portal.Services;

namespace Portal.Endpoints;

/// <summary>
/// Files of the installation programme: kept reports and photo evidence. Both are served only through here,
/// after the caller's scope has been checked; anything outside it answers 404 like a missing file.
/// </summary>
public static class InstallationApi
{
    public static void MapInstallationApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/installation").RequireAuthorization(Extensions.ApiPolicy).WithTags("Installation");

        api.MapGet("/reports/{id:int}/file", async (HttpContext http, CompletionReportService reports, int id, CancellationToken ct) =>
        {
            if (http.User.ToScope() is not { } scope)
            {
                return Results.Forbid();
            }

            return await reports.OpenAsync(scope, id, ct) is { } found
                ? Results.File(found.Path, found.Report.ContentType, found.Report.DownloadName)
                : Results.NotFound();
        });

        api.MapGet("/photos/{id:int}", async (HttpContext http, InstallationService installation, int id, CancellationToken ct) =>
        {
            if (http.User.ToScope() is not { } scope)
            {
                return Results.Forbid();
            }

            if (await installation.GetPhotoAsync(scope, id, ct) is not { } found || !File.Exists(found.Path))
            {
                return Results.NotFound();
            }

            http.Response.Headers.XContentTypeOptions = "nosniff";
            http.Response.Headers.CacheControl = "private, max-age=3600";
            return Results.File(found.Path, found.Photo.ContentType);
        });
    }
}
