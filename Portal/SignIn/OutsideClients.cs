using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using OpenIddict.Abstractions;
using OpenIddict.EntityFrameworkCore.Models;
using Portal.Core.Audit;
using Portal.Core.Data;
using Portal.Core.Schools;
using Portal.Core.Security;
using Portal.Data;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Portal.SignIn;

/// <summary>An outside system registered to read the portal's APIs with its own credentials (client credentials).</summary>
/// <param name="ClientId">Generated, "ext-" and 12 hex digits.</param>
/// <param name="DisplayName">Whom it is for, for people (the police CAD, the city platform).</param>
/// <param name="Role">The role its tokens act in: city 110, a district's 110 or the education bureau (read-only APIs).</param>
/// <param name="DistrictId">The district it is limited to, or null for the whole city.</param>
/// <param name="Scopes">The API scopes it may ask for (<see cref="ApiScopes.Grantable"/>).</param>
/// <param name="CreatedUtc">When it was registered.</param>
public sealed record OutsideClient(string ClientId, string DisplayName, string Role, int? DistrictId, IReadOnlyList<string> Scopes, DateTime? CreatedUtc);

/// <summary>What an administrator fills in to register a client.</summary>
public sealed record OutsideClientInput(string DisplayName, string Role, int? DistrictId, IReadOnlyList<string> Scopes);

/// <summary>The outcome of a registration or a secret rotation: the secret is there exactly once, on success.</summary>
public sealed record OutsideClientResult(IReadOnlyList<FieldError> Errors, string? ClientId = null, string? Secret = null)
{
    public bool Succeeded => Errors.Count == 0;
}

/// <summary>
/// Registers outside systems as confidential OpenIddict clients limited to the client credentials grant and the
/// scopes an administrator grants. Their secret is generated here, returned once and stored only as OpenIddict's
/// hash; their data scope (role and district) rides in the application's properties and becomes the token's claims.
/// </summary>
public sealed class OutsideClientService(
    IOpenIddictApplicationManager applications,
    IOpenIddictTokenManager tokens,
    PortalIdentityDbContext context,
    DistrictRepository districts,
    AuditRepository audit,
    TimeProvider time)
{
    public const string RoleProperty = "portal_role";
    public const string DistrictProperty = "portal_district_id";
    public const string CreatedProperty = "portal_created_utc";

    /// <summary>The roles an outside client may act in: all of them only read.</summary>
    public static readonly IReadOnlyList<string> Roles = [Core.Security.Roles.CityOperator, Core.Security.Roles.DistrictOperator, Core.Security.Roles.Bureau];

    public async Task<Page<OutsideClient>> GetPageAsync(UserScope scope, PageRequest page, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(scope);
        scope.Require(Core.Security.Roles.Admin);
        page = page.Clamp();
        var query = context.Set<OpenIddictEntityFrameworkCoreApplication>().AsNoTracking().Where(a => a.ClientId != Extensions.WebClientId);
        var total = await query.CountAsync(ct).ConfigureAwait(false);
        var rows = await query.OrderBy(a => a.DisplayName).ThenBy(a => a.ClientId).Skip(page.Skip).Take(page.Take).ToListAsync(ct).ConfigureAwait(false);
        var items = new List<OutsideClient>(rows.Count);
        foreach (var row in rows)
        {
            items.Add(await DescribeAsync(row, ct).ConfigureAwait(false));
        }

        return new Page<OutsideClient>(items, total);
    }

    /// <summary>Reads a client's data scope for its token; null when the client is not an outside client.</summary>
    public async Task<OutsideClient?> FindAsync(string? clientId, CancellationToken ct = default)
    {
        if (string.IsNullOrEmpty(clientId) || clientId == Extensions.WebClientId
            || await applications.FindByClientIdAsync(clientId, ct).ConfigureAwait(false) is not { } application)
        {
            return null;
        }

        var client = await DescribeAsync(application, ct).ConfigureAwait(false);
        return Roles.Contains(client.Role) ? client : null;
    }

    public async Task<OutsideClientResult> CreateAsync(Actor actor, OutsideClientInput input, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(actor);
        ArgumentNullException.ThrowIfNull(input);
        actor.Scope.Require(Core.Security.Roles.Admin);
        var errors = await ValidateAsync(input, ct).ConfigureAwait(false);
        if (errors.Count > 0)
        {
            return new OutsideClientResult(errors);
        }

        var clientId = "ext-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        var secret = NewSecret();
        var descriptor = new OpenIddictApplicationDescriptor
        {
            ClientId = clientId,
            ClientSecret = secret,
            ClientType = ClientTypes.Confidential,
            DisplayName = input.DisplayName.Trim(),
            Permissions = { Permissions.Endpoints.Token, Permissions.GrantTypes.ClientCredentials },
        };
        foreach (var scope in input.Scopes.Distinct(StringComparer.Ordinal))
        {
            descriptor.Permissions.Add(Permissions.Prefixes.Scope + scope);
        }

        descriptor.Properties[RoleProperty] = JsonSerializer.SerializeToElement(input.Role);
        descriptor.Properties[DistrictProperty] = JsonSerializer.SerializeToElement(input.Role == Core.Security.Roles.CityOperator ? null : input.DistrictId);
        descriptor.Properties[CreatedProperty] = JsonSerializer.SerializeToElement(time.GetUtcNow().UtcDateTime);
        await applications.CreateAsync(descriptor, ct).ConfigureAwait(false);
        await audit.WriteAsync(actor, AuditActions.ClientCreated, "client " + clientId + " " + descriptor.DisplayName,
            string.Create(CultureInfo.InvariantCulture, $"role {input.Role}, district {input.DistrictId?.ToString(CultureInfo.InvariantCulture) ?? "city"}, scopes {string.Join(' ', input.Scopes)}"), ct).ConfigureAwait(false);
        return new OutsideClientResult([], clientId, secret);
    }

    /// <summary>Gives the client a new secret (returned once); tokens it already holds run out on their own.</summary>
    public async Task<OutsideClientResult> RotateSecretAsync(Actor actor, string clientId, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(actor);
        actor.Scope.Require(Core.Security.Roles.Admin);
        if (await FindApplicationAsync(clientId, ct).ConfigureAwait(false) is not { } application)
        {
            return new OutsideClientResult([new FieldError("ClientId", "NotFound")]);
        }

        var secret = NewSecret();
        await applications.UpdateAsync(application, secret, ct).ConfigureAwait(false);
        await audit.WriteAsync(actor, AuditActions.ClientSecretRotated, "client " + clientId, null, ct).ConfigureAwait(false);
        return new OutsideClientResult([], clientId, secret);
    }

    /// <summary>Removes the client and revokes every token it was issued: its next API call is refused.</summary>
    public async Task<bool> DeleteAsync(Actor actor, string clientId, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(actor);
        actor.Scope.Require(Core.Security.Roles.Admin);
        if (await FindApplicationAsync(clientId, ct).ConfigureAwait(false) is not { } application)
        {
            return false;
        }

        var id = await applications.GetIdAsync(application, ct).ConfigureAwait(false);
        if (id is not null)
        {
            await tokens.RevokeByApplicationIdAsync(id, ct).ConfigureAwait(false);
        }

        await applications.DeleteAsync(application, ct).ConfigureAwait(false);
        await audit.WriteAsync(actor, AuditActions.ClientDeleted, "client " + clientId, null, ct).ConfigureAwait(false);
        return true;
    }

    private async Task<object?> FindApplicationAsync(string clientId, CancellationToken ct) =>
        string.IsNullOrEmpty(clientId) || clientId == Extensions.WebClientId ? null : await applications.FindByClientIdAsync(clientId, ct).ConfigureAwait(false);

    private async Task<List<FieldError>> ValidateAsync(OutsideClientInput input, CancellationToken ct)
    {
        var errors = new List<FieldError>();
        var name = input.DisplayName?.Trim() ?? string.Empty;
        if (name.Length == 0)
        {
            errors.Add(new FieldError(nameof(input.DisplayName), "Required"));
        }
        else if (name.Length > 100)
        {
            errors.Add(new FieldError(nameof(input.DisplayName), "TooLong"));
        }

        if (!Roles.Contains(input.Role))
        {
            errors.Add(new FieldError(nameof(input.Role), "UnknownRole"));
        }
        else if (input.Role == Core.Security.Roles.DistrictOperator && input.DistrictId is null)
        {
            errors.Add(new FieldError(nameof(input.DistrictId), "Required"));
        }

        if (input.DistrictId is { } districtId && input.Role != Core.Security.Roles.CityOperator
            && await districts.GetByIdAsync(districtId, ct).ConfigureAwait(false) is null)
        {
            errors.Add(new FieldError(nameof(input.DistrictId), "UnknownDistrict"));
        }

        if (input.Scopes is null || input.Scopes.Count == 0)
        {
            errors.Add(new FieldError(nameof(input.Scopes), "Required"));
        }
        else if (input.Scopes.Any(s => !ApiScopes.Grantable.Contains(s)))
        {
            errors.Add(new FieldError(nameof(input.Scopes), "UnknownScope"));
        }

        return errors;
    }

    private async Task<OutsideClient> DescribeAsync(object application, CancellationToken ct)
    {
        var properties = await applications.GetPropertiesAsync(application, ct).ConfigureAwait(false);
        var permissions = await applications.GetPermissionsAsync(application, ct).ConfigureAwait(false);
        string? role = properties.TryGetValue(RoleProperty, out var r) && r.ValueKind == JsonValueKind.String ? r.GetString() : null;
        int? district = properties.TryGetValue(DistrictProperty, out var d) && d.ValueKind == JsonValueKind.Number ? d.GetInt32() : null;
        DateTime? created = properties.TryGetValue(CreatedProperty, out var c) && c.ValueKind == JsonValueKind.String ? c.GetDateTime() : null;
        return new OutsideClient(
            await applications.GetClientIdAsync(application, ct).ConfigureAwait(false) ?? string.Empty,
            await applications.GetDisplayNameAsync(application, ct).ConfigureAwait(false) ?? string.Empty,
            role ?? string.Empty,
            district,
            [.. permissions.Where(p => p.StartsWith(Permissions.Prefixes.Scope, StringComparison.Ordinal)).Select(p => p[Permissions.Prefixes.Scope.Length..])],
            created);
    }

    private static string NewSecret() =>
        Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
