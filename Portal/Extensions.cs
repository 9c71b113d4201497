using System.Globalization;
using System.Security.Cryptography.X509Certificates;
using Hangfire;
using Hangfire.InMemory;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Localization;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using MudBlazor.Services;
using OpenIddict.Server;
using Microsoft.AspNetCore.Components.Authorization;
using OpenIddict.Validation.AspNetCore;
using Portal.Administration;
using Portal.Alarms;
using Portal.Core.Alarms;
using Portal.Core.Audit;
using Portal.Core.Data;
using Portal.Core.Demo;
using Portal.Core.Devices;
using Portal.Core.Health;
using Portal.Core.Installation;
using Portal.Core.Notifications;
using Portal.Core.Schools;
using Portal.Core.Security;
using Portal.Data;
using Portal.Endpoints;
using Portal.Health;
using Portal.Hosting;
using Portal.Notifications;
using Portal.Services;
using Portal.SignIn;

namespace Portal;

public static class Extensions
{
    /// <summary>The cookie that carries a signed-in user's session in the portal (the OpenID Connect relying party).</summary>
    public const string PortalCookie = "portal";

    public const string OidcScheme = "oidc";

    /// <summary>The portal's own OpenID Connect client, registered at start-up.</summary>
    public const string WebClientId = "portal-web";

    /// <summary>APIs accept the portal cookie (same browser) or an OpenIddict bearer token (outside systems).</summary>
    public const string ApiPolicy = "api";

    public static readonly CultureInfo[] Cultures = [new("zh-CN"), new("en")];

    /// <summary>Registers everything the portal needs: one place, read top to bottom (STYLE.md §5).</summary>
    public static WebApplicationBuilder AddPortal(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        var options = builder.Configuration.GetSection(PortalOptions.Section).Get<PortalOptions>() ?? new PortalOptions();
        var dataFolder = Path.GetFullPath(options.DataFolder, builder.Environment.ContentRootPath);
        Directory.CreateDirectory(dataFolder);
        var publicUrl = ResolvePublicUrl(options, builder.Configuration);
        services.Configure<PortalOptions>(builder.Configuration.GetSection(PortalOptions.Section));
        Portal.Core.Threading.OsThreadPriority.AlarmPathNice = options.AlarmPathNice;
        Portal.Core.Threading.OsThreadPriority.AlarmPathRealtimePriority = Math.Clamp(options.AlarmPathRealtimePriority, 0, 99);
        Portal.Core.Threading.OsThreadPriority.ConsoleNice = options.ConsoleNice;
        services.AddSingleton(new PortalEnvironment(dataFolder, publicUrl));

        // Data: one Db for Dapper, the same database for Identity's and OpenIddict's EF stores.
        var engine = string.Equals(options.DatabaseEngine, "SqlServer", StringComparison.OrdinalIgnoreCase) ? SqlDialect.SqlServer : SqlDialect.Sqlite;
        var connectionString = options.ConnectionString
            ?? (engine == SqlDialect.Sqlite ? Db.SqliteConnectionString(Path.Combine(dataFolder, "portal.db"))
                : throw new InvalidOperationException("Portal:ConnectionString is required for SQL Server."));
        var db = new Db(connectionString, engine);
        services.AddSingleton(db);
        services.AddSingleton(TimeProvider.System);
        services.AddDbContext<PortalIdentityDbContext>(o =>
        {
            if (engine == SqlDialect.SqlServer)
            {
                o.UseSqlServer(connectionString);
            }
            else
            {
                o.UseSqlite(connectionString);
            }

            o.UseOpenIddict();
        });

        // Issue 13: the Data Protection key ring lives in the database, shared by every instance and backed up with
        // it; a configured certificate encrypts each key there (StartupTasks moves an older install's keys folder in).
        var dataProtection = services.AddDataProtection().SetApplicationName("SchoolSafetyPortal");
        var keyStore = new DatabaseXmlRepository(db, TimeProvider.System);
        services.AddSingleton(keyStore);
        services.Configure<KeyManagementOptions>(o => o.XmlRepository = keyStore);
        if (!string.IsNullOrEmpty(options.DataProtectionCertificatePath))
        {
            dataProtection.ProtectKeysWithCertificate(X509CertificateLoader.LoadPkcs12FromFile(options.DataProtectionCertificatePath, options.DataProtectionCertificatePassword));
        }

        // Core
        services.AddSingleton<DistrictRepository>();
        services.AddSingleton<SchoolRepository>();
        services.AddSingleton<DeviceRepository>();
        services.AddSingleton<DeviceSecrets>();
        services.AddSingleton<DevicePasswordCache>(); // the health probes' decrypted camera passwords
        services.AddSingleton<DemoCity>();
        services.AddSingleton<ProgrammeQueries>();
        services.AddSingleton(new InstallationFiles(Path.Combine(dataFolder, "installation")));
        services.AddSingleton<InstallationRepository>();
        services.AddSingleton<InstallationService>();
        services.AddSingleton<AcceptanceTestService>();
        services.AddSingleton<CompletionReportService>();
        services.AddSingleton<ProgrammeSettingsService>();
        services.AddSingleton<WeeklyCompletionReportJob>();
        services.AddSingleton<SchoolService>();
        services.AddSingleton<DeviceService>();
        services.AddSingleton<Portal.Core.Registry.RegistryImporter>();
        services.AddSingleton<DeviceRequestVerifier>();
        services.AddTransient<DeviceNonceCleanupJob>();

        // The device door: one entry point for every device request (HTTP and SIP), sightings and refusals counted in
        // memory and written off its path, rate limits per source address (middleware) and per device.
        services.AddSingleton<Portal.Core.Alerts.AdminAlertRepository>();
        services.AddSingleton<DevicePresence>();
        services.AddHostedService(sp => sp.GetRequiredService<DevicePresence>());
        services.AddSingleton<DeviceRefusalCounter>();
        services.AddHostedService(sp => sp.GetRequiredService<DeviceRefusalCounter>());
        services.AddSingleton(sp => new DeviceRateLimiter(options.DeviceRateLimits, sp.GetRequiredService<TimeProvider>()));
        services.AddDeviceRateLimiting(options.DeviceRateLimits);
        services.AddSingleton<DeviceIntake>();
        services.AddTransient<DeviceRefusalRetentionJob>();
        services.AddTransient<SecurityLogRetentionJob>();

        services.AddSingleton<AlarmRepository>();
        services.AddSingleton<AlarmNotifier>();
        services.AddHostedService(sp => sp.GetRequiredService<AlarmNotifier>());
        services.AddSingleton<AlarmFlow>();
        services.AddSingleton<AlarmIntake>();
        services.AddHostedService(sp => sp.GetRequiredService<AlarmIntake>());
        services.AddSingleton<AlarmEscalator>();
        services.AddHostedService(sp => sp.GetRequiredService<AlarmEscalator>());
        services.AddSingleton<AlarmService>();
        services.AddSingleton<ConsoleDrawThread>();
        services.AddSingleton<AlarmStatistics>();
        services.AddSingleton<DemoAlarmService>();
        services.AddHttpClient(nameof(DemoAlarmService));
        services.AddScoped<CurrentUser>();
        services.AddScoped<Microsoft.AspNetCore.Components.Server.Circuits.CircuitHandler, ClientAddressCircuitHandler>();
        services.AddSingleton<StartupTasks>();

        // Issue 13: administration of a real city (audit, districts and centres, device credentials, users, outside
        // systems, the first-run setup link).
        services.AddSingleton<AuditRepository>();
        services.AddSingleton<DistrictService>();
        services.AddSingleton<Portal.Core.Registry.DistrictImporter>();
        services.AddSingleton(new DeviceCredentialOptions(options.ApiKeyRotationOverlap));
        services.AddSingleton<DeviceCredentialService>();
        services.AddSingleton<SerialConfirmationService>();
        services.AddSingleton<SetupTokenRepository>();
        services.AddSingleton<TokenKeyRepository>();
        services.AddScoped<OutsideClientService>();
        services.AddScoped<UserAdministration>();
        services.AddSingleton<FirstRunSetup>();

        // Media plane: gate cameras to browsers (WebRTC), steered over ONVIF.
        services.AddHttpClient(GateCameraService.OnvifHttpClient, c => c.Timeout = TimeSpan.FromSeconds(5));

        // Camera models' keyframe hooks (issue #15): the camera's credentials go in headers, which are never logged.
        services.AddHttpClient(GateCameraService.KeyframeHookHttpClient, c => c.Timeout = TimeSpan.FromSeconds(5)).RedactLoggedHeaders(_ => true);
        services.AddSingleton<GateCameraResolver>();
        services.AddHostedService(sp => sp.GetRequiredService<GateCameraResolver>());
        services.AddSingleton<GateCameraService>();

        // Issue #14: one audit of every camera view and command, kept CameraAuditRetentionDays (at least 180).
        services.AddSingleton<Portal.Core.Audit.CameraAuditRepository>();
        services.AddSingleton(new Portal.Core.Audit.CameraAuditSettings(options.CameraAuditRetentionDays));
        services.AddTransient<Portal.Core.Audit.CameraAuditRetentionJob>();
        services.AddHostedService(sp => sp.GetRequiredService<GateCameraService>());
        services.AddSingleton<GateCameraAlarmPulls>(); // the gate camera's pull starts at alarm intake (issue #15)
        services.AddHostedService(sp => sp.GetRequiredService<GateCameraAlarmPulls>());

        // Gate camera pre-warm (issue #15, item 3): sub-streams kept pulled for the schools that ask, bounded city-wide.
        services.AddSingleton<Portal.Core.Devices.GateCameraPrewarmRepository>();
        services.AddSingleton<Portal.Core.Devices.GateCameraPrewarmService>();
        services.AddSingleton<GateCameraPrewarm>();
        services.AddHostedService(sp => sp.GetRequiredService<GateCameraPrewarm>());

        // Device health and the notification centre (issue 12): scheduled checks, probes, notifications, Web Push.
        services.Configure<HealthOptions>(builder.Configuration.GetSection(HealthOptions.Section));
        services.AddSingleton<HealthRepository>();
        services.AddSingleton<HealthQueries>();
        services.AddSingleton<HealthMonitor>();
        services.AddHostedService<HealthSilenceWatch>(); // terminals' silence, every 5 s apart from the per-minute cycle
        services.AddTransient<DeviceHealthCheckJob>();
        services.AddTransient<HealthRetentionJob>();
        services.AddSingleton<ICameraProbe, CameraHealthProbe>();
        services.AddSingleton<ISipOptionsProbe, Portal.Intercom.SipOptionsProbe>(); // terminals without a fresh signal: SIP OPTIONS over their registration
        services.AddHttpClient(CameraHealthProbe.HttpClientName, c =>
        {
            c.Timeout = TimeSpan.FromSeconds(15);
            c.MaxResponseContentBufferSize = 256 * 1024; // a camera answering megabytes is refused, not read
        }).RemoveAllLoggers(); // the factory's loggers wrote 4 Information lines per ONVIF probe: 20,000 a minute for 5,000 cameras
        services.AddSingleton<NotificationRepository>();
        services.AddSingleton<NotificationCenter>();
        services.AddSingleton<PushSubscriptionRepository>();
        services.AddSingleton<VapidKeyStore>();
        services.AddHttpClient(WebPushSender.HttpClientName);
        services.AddSingleton<WebPushSender>();
        services.AddHostedService(sp => sp.GetRequiredService<WebPushSender>());
        services.AddHostedService<AlarmPushForwarder>();
        services.AddScoped<NotificationInbox>();
        // SIP intercom (issue 11): terminals register and call; operators talk on the cameras' WebRTC endpoint (started above).
        services.AddSingleton<Portal.Intercom.IntercomService>();
        services.AddHostedService(sp => sp.GetRequiredService<Portal.Intercom.IntercomService>());
        services.AddSingleton<Portal.Intercom.DemoIntercom>();
        services.AddHostedService(sp => sp.GetRequiredService<Portal.Intercom.DemoIntercom>());

        AddSignIn(services, options, publicUrl);
        services.AddPortalWebSecurity(options); // issue #14: CSP, no framing, forwarded headers, Secure cookies, HSTS

        services.AddLocalization(o => o.ResourcesPath = "Resources");
        services.Configure<RequestLocalizationOptions>(o =>
        {
            o.DefaultRequestCulture = new RequestCulture("zh-CN");
            o.SupportedCultures = Cultures;
            o.SupportedUICultures = Cultures;

            // Chinese unless the user picks English: the browser's language is not asked, since police consoles
            // often run English-language operating systems while their operators read Chinese.
            o.RequestCultureProviders = [new CookieRequestCultureProvider()];
        });

        services.AddHangfire(c =>
        {
            c.UseSimpleAssemblyNameTypeSerializer().UseRecommendedSerializerSettings();
            if (engine == SqlDialect.SqlServer)
            {
                c.UseSqlServerStorage(connectionString);
            }
            else
            {
                c.UseInMemoryStorage(new InMemoryStorageOptions());
            }
        });
        services.AddHangfireServer(o =>
        {
            o.WorkerCount = Math.Max(2, Environment.ProcessorCount);
            o.ShutdownTimeout = TimeSpan.FromSeconds(10); // well inside the host's 30 s, so a SIGTERM stop ends in time (issue #14)
        });

        services.AddRazorComponents().AddInteractiveServerComponents();
        services.AddCascadingAuthenticationState();
        services.AddMudServices();
        services.AddOpenApi();
        services.AddProblemDetails();
        services.AddAntiforgery();
        services.AddHttpContextAccessor();
        return builder;
    }

    private static void AddSignIn(IServiceCollection services, PortalOptions options, string publicUrl)
    {
        services.AddIdentityCore<PortalUser>(o =>
            {
                o.Password.RequiredLength = Math.Max(8, options.Security.PasswordMinLength);
                o.Password.RequireNonAlphanumeric = false;

                // Wrong passwords slow their source address down (LoginThrottle) and never lock the account: a stranger
                // could lock a whole shift out. Lock-out stays for wrong two-factor codes, which only someone who has
                // the password can send, and for administrators' locks.
                o.Lockout.MaxFailedAccessAttempts = 5;
                o.Lockout.DefaultLockoutTimeSpan = TimeSpan.FromMinutes(15);
                o.Lockout.AllowedForNewUsers = true;
                o.User.RequireUniqueEmail = false;
                o.SignIn.RequireConfirmedAccount = true; // asks DisabledUserConfirmation: a disabled account cannot sign in
            })
            .AddRoles<PortalRole>()
            .AddEntityFrameworkStores<PortalIdentityDbContext>()
            .AddSignInManager()
            .AddDefaultTokenProviders()
            .AddTokenProvider<SingleUseAuthenticatorTokenProvider>(TokenOptions.DefaultAuthenticatorProvider) // issue #14: a code is accepted once
            .AddUserConfirmation<DisabledUserConfirmation>()
            .AddPasswordValidator<CommonPasswordValidator>();
        services.AddScoped<IUserStore<PortalUser>, ProtectedUserStore>();

        // Issue #14: server-side sessions revalidated every interval (HTTP and circuits), sign-in policy, throttling.
        services.AddMemoryCache();
        services.AddSingleton<UserSessionRepository>();
        services.AddSingleton<UserSessions>();
        services.AddSingleton<SignInPolicy>();
        services.AddSingleton<LoginThrottle>();
        services.AddTransient<UserSessionCleanupJob>();
        services.AddScoped<AuthenticationStateProvider, RevalidatingSessionStateProvider>();

        services.AddAuthentication(o =>
            {
                o.DefaultScheme = PortalCookie;
                o.DefaultChallengeScheme = OidcScheme;
            })
            .AddCookie(PortalCookie, o =>
            {
                o.Cookie.Name = "ssp.session";
                o.Cookie.HttpOnly = true;
                o.Cookie.SameSite = SameSiteMode.Lax;
                o.ExpireTimeSpan = options.Security.AbsoluteLifetime; // the idle end is the session row's (UserSessions)
                o.SlidingExpiration = false;
                o.AccessDeniedPath = "/account/denied";

                // APIs answer with status codes; only pages redirect.
                o.Events.OnRedirectToLogin = ctx => ApiAwareRedirect(ctx, StatusCodes.Status401Unauthorized);
                o.Events.OnRedirectToAccessDenied = ctx => ApiAwareRedirect(ctx, StatusCodes.Status403Forbidden);
                UserSessions.Attach(o.Events, UserSessionKind.Portal);
            })
            .AddOpenIdConnect(OidcScheme, o =>
            {
                o.Authority = publicUrl;
                o.RequireHttpsMetadata = publicUrl.StartsWith("https:", StringComparison.OrdinalIgnoreCase);
                o.ClientId = WebClientId;
                o.ResponseType = OpenIdConnectResponseType.Code;

                // The code comes back in the query, not as an auto-posted form: that form posts itself with an inline
                // script, which the Content Security Policy refuses (PKCE protects the code either way).
                o.ResponseMode = OpenIdConnectResponseMode.Query;
                o.UsePkce = true;
                o.SaveTokens = false;
                o.MapInboundClaims = false;
                o.GetClaimsFromUserInfoEndpoint = false;
                o.Scope.Clear();
                o.Scope.Add("openid");
                o.Scope.Add("profile");
                o.Scope.Add("roles");
                o.SignInScheme = PortalCookie;
                o.CallbackPath = "/signin-oidc";
                o.SignedOutCallbackPath = "/signout-callback-oidc";
                o.TokenValidationParameters.NameClaimType = PortalClaims.Name;
                o.TokenValidationParameters.RoleClaimType = PortalClaims.Role;
                o.AccessDeniedPath = "/account/denied";
            })
            .AddIdentityCookies(o => o.ApplicationCookie?.Configure(c =>
            {
                c.LoginPath = "/account/login";
                c.Cookie.Name = "ssp.idp";
                c.ExpireTimeSpan = options.Security.AbsoluteLifetime;
                c.SlidingExpiration = false;

                // Replaces Identity's security stamp validator: the same check and more, in one place (UserSessions).
                UserSessions.Attach(c.Events, UserSessionKind.SignInServer);
            }));

        // Issue 13: a bearer token must carry the scope the API serves (ApiScopes); the portal's own session passes on role and scope.
        services.AddSingleton<IAuthorizationHandler, ApiScopeHandler>();
        services.AddAuthorizationBuilder()
            .AddPolicy(ApiPolicy, p => ApiScopePolicy(p, PortalClaims.ApiScope))
            .AddPolicy(ApiScopes.AlarmsPolicy, p => ApiScopePolicy(p, ApiScopes.AlarmsRead))
            .AddPolicy(ApiScopes.RegistryPolicy, p => ApiScopePolicy(p, ApiScopes.RegistryRead));

        services.AddOpenIddict()
            .AddCore(o => o.UseEntityFrameworkCore().UseDbContext<PortalIdentityDbContext>())
            .AddServer(o =>
            {
                o.SetIssuer(new Uri(publicUrl));
                o.SetAuthorizationEndpointUris("connect/authorize")
                    .SetTokenEndpointUris("connect/token")
                    .SetEndSessionEndpointUris("connect/logout")
                    .SetUserInfoEndpointUris("connect/userinfo");
                o.AllowAuthorizationCodeFlow().RequireProofKeyForCodeExchange();
                o.AllowRefreshTokenFlow();
                o.AllowClientCredentialsFlow();
                o.RegisterScopes("openid", "profile", "roles", PortalClaims.ApiScope, ApiScopes.AlarmsRead, ApiScopes.RegistryRead);
                o.RegisterClaims(PortalClaims.Role, PortalClaims.DistrictId, PortalClaims.SchoolId, PortalClaims.Name);
                if (!string.IsNullOrEmpty(options.TokenCertificatePath))
                {
                    var certificate = X509CertificateLoader.LoadPkcs12FromFile(options.TokenCertificatePath, options.TokenCertificatePassword);
                    o.AddSigningCertificate(certificate).AddEncryptionCertificate(certificate);
                }

                // Without a certificate: keys kept in the database by TokenKeyRing (registered below), not ephemeral ones.

                o.DisableAccessTokenEncryption();
                o.UseAspNetCore()
                    .EnableAuthorizationEndpointPassthrough()
                    .EnableTokenEndpointPassthrough()
                    .EnableEndSessionEndpointPassthrough()
                    .EnableUserInfoEndpointPassthrough()
                    .DisableTransportSecurityRequirement();
            })
            .AddValidation(o =>
            {
                o.UseLocalServer();
                o.UseAspNetCore();

                // A deleted outside client's tokens are revoked in the token table; look each one up so they stop at once.
                o.EnableTokenEntryValidation();
            });

        if (string.IsNullOrEmpty(options.TokenCertificatePath))
        {
            services.AddSingleton<TokenKeyRing>();
            services.AddSingleton<IConfigureOptions<OpenIddictServerOptions>, TokenKeyRingConfiguration>();
        }
    }

    private static void ApiScopePolicy(AuthorizationPolicyBuilder policy, string scope) => policy
        .AddAuthenticationSchemes(PortalCookie, OpenIddictValidationAspNetCoreDefaults.AuthenticationScheme)
        .RequireAuthenticatedUser()
        .AddRequirements(new ApiScopeRequirement(scope));

    private static Task ApiAwareRedirect(Microsoft.AspNetCore.Authentication.RedirectContext<CookieAuthenticationOptions> ctx, int status)
    {
        if (ctx.Request.Path.StartsWithSegments("/api", StringComparison.OrdinalIgnoreCase))
        {
            ctx.Response.StatusCode = status;
        }
        else
        {
            ctx.Response.Redirect(ctx.RedirectUri);
        }

        return Task.CompletedTask;
    }

    private static string ResolvePublicUrl(PortalOptions options, ConfigurationManager configuration)
    {
        var url = options.PublicUrl
            ?? configuration["urls"]?.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault()
            ?? "http://127.0.0.1:5080";
        return url.TrimEnd('/') + "/";
    }
}
