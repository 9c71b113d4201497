using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;
using OpenIddict.Abstractions;
using Portal.Administration;
using Portal.Core.Data;
using Portal.Core.Demo;
using Portal.Core.Schools;
using Portal.Core.Security;
using Portal.Data;
using Portal.SignIn;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Portal.Services;

/// <summary>
/// Runs once before the portal listens: brings the schema up to date, makes sure the roles and the
/// portal's own OpenID Connect client exist, and in demo mode fills an empty database with the demo city.
/// </summary>
public sealed class StartupTasks(
    Db db,
    IServiceProvider services,
    PortalEnvironment environment,
    IOptions<PortalOptions> options,
    ILogger<StartupTasks> logger)
{
    public async Task RunAsync(CancellationToken ct = default)
    {
        DbMigrator.Migrate(db);

        // Issue 13: keys in the database. An install that kept Data Protection keys in its folder brings them along
        // before anything is protected, and the token keys exist before the sign-in server first needs them.
        var moved = services.GetRequiredService<DatabaseXmlRepository>().ImportFolder(Path.Combine(environment.DataFolder, "keys"));
        if (moved > 0)
        {
            logger.LogInformation("Moved {Count} Data Protection keys from the data folder into the database", moved);
        }

        if (string.IsNullOrEmpty(options.Value.DataProtectionCertificatePath) && !options.Value.DemoMode)
        {
            logger.LogWarning("Data Protection keys are stored unencrypted in the database: set Portal:DataProtectionCertificatePath to encrypt them, and protect the database's backups");
        }

        _ = services.GetService<TokenKeyRing>()?.Keys;

        await using var scope = services.CreateAsyncScope();
        var provider = scope.ServiceProvider;
        await EnsureRolesAsync(provider.GetRequiredService<RoleManager<PortalRole>>()).ConfigureAwait(false);
        await EnsureWebClientAsync(provider.GetRequiredService<IOpenIddictApplicationManager>(), ct).ConfigureAwait(false);

        if (options.Value.DemoMode)
        {
            var city = provider.GetRequiredService<DemoCity>();
            if (await city.IsEmptyAsync(ct).ConfigureAwait(false))
            {
                logger.LogInformation("Seeding the demo city with {Count} schools", options.Value.DemoSchoolCount);
                await city.SeedAsync(options.Value.DemoSchoolCount, ct: ct).ConfigureAwait(false);
            }

            await DemoUsers.EnsureAsync(
                provider.GetRequiredService<UserManager<PortalUser>>(),
                provider.GetRequiredService<IUserStore<PortalUser>>(),
                provider.GetRequiredService<DistrictRepository>(),
                provider.GetRequiredService<SchoolRepository>(),
                ct,
                logger).ConfigureAwait(false);
        }
        else
        {
            // Issue 13: a production install without an administrator prints its one-time setup link.
            await services.GetRequiredService<FirstRunSetup>().IssueLinkIfNeededAsync(ct).ConfigureAwait(false);
        }
    }

    private static async Task EnsureRolesAsync(RoleManager<PortalRole> roles)
    {
        foreach (var name in Roles.All)
        {
            if (!await roles.RoleExistsAsync(name).ConfigureAwait(false))
            {
                await roles.CreateAsync(new PortalRole(name)).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// The Blazor UI signs in through our own OpenID Connect server as a public client with PKCE: no
    /// client secret exists to leak. Its redirect addresses follow the configured public URL.
    /// </summary>
    private async Task EnsureWebClientAsync(IOpenIddictApplicationManager manager, CancellationToken ct)
    {
        var descriptor = new OpenIddictApplicationDescriptor
        {
            ClientId = Extensions.WebClientId,
            ClientType = ClientTypes.Public,
            ConsentType = ConsentTypes.Implicit,
            DisplayName = "SchoolSafetyPortal",
            RedirectUris = { new Uri(environment.PublicUrl + "signin-oidc") },
            PostLogoutRedirectUris = { new Uri(environment.PublicUrl + "signout-callback-oidc") },
            Permissions =
            {
                Permissions.Endpoints.Authorization,
                Permissions.Endpoints.Token,
                Permissions.Endpoints.EndSession,
                Permissions.GrantTypes.AuthorizationCode,
                Permissions.GrantTypes.RefreshToken,
                Permissions.ResponseTypes.Code,
                Permissions.Scopes.Profile,
                Permissions.Scopes.Roles,
                Permissions.Prefixes.Scope + PortalClaims.ApiScope,
            },
            Requirements = { Requirements.Features.ProofKeyForCodeExchange },
        };

        var existing = await manager.FindByClientIdAsync(Extensions.WebClientId, ct).ConfigureAwait(false);
        if (existing is null)
        {
            await manager.CreateAsync(descriptor, ct).ConfigureAwait(false);
        }
        else
        {
            await manager.UpdateAsync(existing, descriptor, ct).ConfigureAwait(false);
        }
    }
}
