using Microsoft.AspNetCore.CookiePolicy;
using Microsoft.AspNetCore.HttpOverrides;
using Portal.SignIn;

namespace Portal.Hosting;

/// <summary>
/// What every response carries and what the portal believes about the connection (issue #14): a Content Security
/// Policy that the console, the camera's WebRTC, MudBlazor and Blazor's scripts all keep working under; no framing
/// (an operator cannot be clickjacked into answering, closing or switching on the siren); forwarded headers from
/// the configured proxies only, so behind a proxy the audit records the client's address and cookies are Secure
/// when the browser's connection is HTTPS; HSTS and HTTPS redirection where configured.
/// </summary>
public static class WebSecurity
{
    public static IServiceCollection AddPortalWebSecurity(this IServiceCollection services, PortalOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var security = options.Security;
        services.AddSecurityHeaderPolicies().SetDefaultPolicy(p => Headers(p, options));

        services.Configure<ForwardedHeadersOptions>(o =>
        {
            o.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
            o.ForwardLimit = Math.Max(1, security.ForwardLimit);
            if (security.KnownProxies.Length > 0 || security.KnownNetworks.Length > 0)
            {
                // Configured proxies replace the framework's default (loopback only).
                o.KnownProxies.Clear();
                o.KnownIPNetworks.Clear();
                foreach (var address in security.KnownProxyAddresses)
                {
                    o.KnownProxies.Add(address);
                }

                foreach (var network in security.KnownProxyNetworks)
                {
                    o.KnownIPNetworks.Add(network);
                }
            }
        });

        // Every cookie (session, antiforgery, language) is Secure when the browser's connection is HTTPS, as the
        // forwarded Proto header tells it behind a proxy; always, once HTTPS redirection is on.
        services.Configure<CookiePolicyOptions>(o =>
        {
            o.Secure = security.HttpsRedirection ? CookieSecurePolicy.Always : CookieSecurePolicy.SameAsRequest;
            o.HttpOnly = HttpOnlyPolicy.None;
        });
        services.AddHsts(o =>
        {
            o.MaxAge = TimeSpan.FromDays(Math.Max(1, security.HstsMaxAgeDays));
            o.IncludeSubDomains = false;
        });
        return services;
    }

    /// <summary>Goes first in the pipeline: the proxies' headers, then the headers, HSTS and redirection.</summary>
    public static WebApplication UsePortalWebSecurity(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var security = app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<PortalOptions>>().Value.Security;
        if (security.ForwardedHeaders)
        {
            app.UseForwardedHeaders();
        }

        app.UseSecurityHeaders();
        if (security.Hsts)
        {
            app.UseHsts();
        }

        if (security.HttpsRedirection)
        {
            app.UseHttpsRedirection();
        }

        app.UseCookiePolicy();
        return app;
    }

    private static void Headers(HeaderPolicyCollection policy, PortalOptions options)
    {
        policy.AddFrameOptionsDeny()
            .AddContentTypeOptionsNoSniff()
            .AddReferrerPolicyStrictOriginWhenCrossOrigin()
            .AddCrossOriginOpenerPolicy(x => x.SameOrigin())
            .AddPermissionsPolicy(p =>
            {
                // The console talks and listens (intercom), and shows notifications; nothing else is needed.
                p.AddMicrophone().Self();
                p.AddCamera().Self();
                p.AddGeolocation().None();
                p.AddPayment().None();
                p.AddUsb().None();
            })
            .AddContentSecurityPolicy(csp =>
            {
                csp.AddDefaultSrc().Self();

                // Blazor (blazor.web.js), MudBlazor and our scripts are files from the portal; no inline script, no eval.
                csp.AddScriptSrc().Self();

                // MudBlazor writes style attributes and its theme as a <style> element at run time.
                csp.AddStyleSrc().Self().UnsafeInline();
                var images = csp.AddImgSrc().Self().Data().Blob();
                foreach (var source in ImageSources(options))
                {
                    images.From(source);
                }

                // The circuit's WebSocket is same-origin ('self' covers ws: and wss: of the portal's own host).
                csp.AddConnectSrc().Self();

                // The camera's video arrives as a MediaStream over WebRTC (not governed by media-src); the ring is Web Audio.
                csp.AddMediaSrc().Self().Blob();
                csp.AddFontSrc().Self().Data();
                csp.AddWorkerSrc().Self();
                csp.AddManifestSrc().Self();
                csp.AddObjectSrc().None();
                csp.AddBaseUri().Self();
                csp.AddFormAction().Self();
                csp.AddFrameAncestors().None();
                csp.AddFrameSrc().None();
            });
    }

    /// <summary>The map tile server (from its URL template) and any configured extra image origins.</summary>
    internal static IEnumerable<string> ImageSources(PortalOptions options)
    {
        if (options.MapTileUrl is { Length: > 0 } template
            && Uri.TryCreate(template.Replace("{z}", "0", StringComparison.Ordinal).Replace("{x}", "0", StringComparison.Ordinal).Replace("{y}", "0", StringComparison.Ordinal), UriKind.Absolute, out var tiles))
        {
            yield return tiles.GetLeftPart(UriPartial.Authority);
        }

        foreach (var extra in SecurityOptions.Split(options.Security.ExtraImageSources))
        {
            yield return extra;
        }
    }
}
