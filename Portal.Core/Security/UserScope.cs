namespace Portal.Core.Security;

/// <summary>
/// Who is asking and what they may see. Every Core service takes one and filters or refuses by it, so the
/// rule "a user sees only their own scope" does not depend on what the UI happens to hide.
/// </summary>
/// <param name="UserId">The Identity user id (0 for the system itself and for devices).</param>
/// <param name="UserName">The sign-in name, for the audit trail.</param>
/// <param name="Role">One of <see cref="Roles"/>.</param>
/// <param name="DistrictId">Set for district operators and district bureau staff; null means the whole city.</param>
/// <param name="SchoolId">Set for principals.</param>
public sealed record UserScope(int UserId, string UserName, string Role, int? DistrictId, int? SchoolId)
{
    public static readonly UserScope System = new(0, "system", Roles.Admin, null, null);

    public bool IsCityWide => SchoolId is null && DistrictId is null;

    public bool IsAdmin => Role == Roles.Admin;

    /// <summary>True when a school in <paramref name="districtId"/> with id <paramref name="schoolId"/> is inside this scope.</summary>
    public bool CanSee(int districtId, int schoolId) =>
        (SchoolId is null || SchoolId == schoolId) && (DistrictId is null || DistrictId == districtId);

    public bool CanSeeDistrict(int districtId) => SchoolId is null && (DistrictId is null || DistrictId == districtId);

    /// <summary>Refuses unless the user holds one of <paramref name="roles"/>.</summary>
    public void Require(params string[] roles)
    {
        if (!roles.Contains(Role))
        {
            throw new ScopeDeniedException($"Role {Role} may not do this.");
        }
    }

    /// <summary>A scope is well-formed when its role and its ids agree; sign-in refuses any other.</summary>
    public bool IsWellFormed => Role switch
    {
        Roles.Admin or Roles.CityOperator => DistrictId is null && SchoolId is null,
        Roles.DistrictOperator => DistrictId is not null && SchoolId is null,
        Roles.Bureau => SchoolId is null,
        Roles.Principal => SchoolId is not null && DistrictId is not null,
        _ => false,
    };
}

/// <summary>Thrown when a user asks for something outside their scope or role; the web layer answers 403.</summary>
public sealed class ScopeDeniedException : Exception
{
    public ScopeDeniedException()
    {
    }

    public ScopeDeniedException(string message)
        : base(message)
    {
    }

    public ScopeDeniedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
