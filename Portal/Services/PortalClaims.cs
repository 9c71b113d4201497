using System.Globalization;
using System.Security.Claims;
using Portal.Core.Security;

namespace Portal.Services;

/// <summary>The claims the portal issues in its tokens and reads back from its cookie.</summary>
public static class PortalClaims
{
    public const string Subject = "sub";
    public const string Name = "name";
    public const string DisplayName = "display_name";
    public const string Role = "role";
    public const string DistrictId = "district_id";
    public const string SchoolId = "school_id";
    public const string ApiScope = "portal.api";

    /// <summary>Set (to the client id) in tokens an outside system gets with its own credentials: no person behind it.</summary>
    public const string Client = "portal_client";

    /// <summary>
    /// The caller's scope from a signed-in principal, or null when the principal does not carry a
    /// well-formed one (then the caller gets nothing).
    /// </summary>
    public static UserScope? ToScope(this ClaimsPrincipal principal)
    {
        if (principal.Identity?.IsAuthenticated != true)
        {
            return null;
        }

        var roles = principal.FindAll(Role).Select(c => c.Value).Where(Roles.All.Contains).ToList();
        if (roles.Count != 1)
        {
            return null;
        }

        var subject = principal.FindFirstValue(Subject);
        int userId;
        if (principal.FindFirstValue(Client) is { Length: > 0 } client && client == subject && roles[0] != Roles.Admin)
        {
            // An outside system (client credentials): user id 0, named by its client id in the audit trail.
            userId = 0;
        }
        else if (!int.TryParse(subject, CultureInfo.InvariantCulture, out userId))
        {
            return null;
        }

        var scope = new UserScope(
            userId,
            principal.FindFirstValue(Name) ?? string.Empty,
            roles[0],
            ParseId(principal.FindFirstValue(DistrictId)),
            ParseId(principal.FindFirstValue(SchoolId)));
        return scope.IsWellFormed ? scope : null;
    }

    private static int? ParseId(string? value) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var id) ? id : null;
}
