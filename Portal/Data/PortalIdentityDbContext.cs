using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Identity.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;

namespace Portal.Data;

/// <summary>A portal user: the Identity account plus the scope it works in (DESIGN.md "Who uses it").</summary>
public sealed class PortalUser : IdentityUser<int>
{
    public string DisplayName { get; set; } = string.Empty;

    /// <summary>District operators and district bureau staff; principals carry their school's district too.</summary>
    public int? DistrictId { get; set; }

    /// <summary>Principals only.</summary>
    public int? SchoolId { get; set; }

    /// <summary>Switched off by an administrator: the user cannot sign in and every open session ends.</summary>
    public bool IsDisabled { get; set; }

    /// <summary>Set by a password reset: the next sign-in must choose a new password before anything else.</summary>
    public bool MustChangePassword { get; set; }

    /// <summary>An administrator requires two-factor sign-in for this user, whatever the role policy says.</summary>
    public bool RequireTwoFactor { get; set; }
}

public sealed class PortalRole : IdentityRole<int>
{
    public PortalRole()
    {
    }

    public PortalRole(string name)
        : base(name)
    {
    }
}

/// <summary>
/// Identity's and OpenIddict's own EF Core store (their convention). Its tables are created by the db/
/// scripts, generated once per engine with <c>dotnet ef dbcontext script</c>, so DbUp owns the whole schema;
/// EF never migrates anything at run time.
/// </summary>
public sealed class PortalIdentityDbContext(DbContextOptions<PortalIdentityDbContext> options)
    : IdentityDbContext<PortalUser, PortalRole, int>(options)
{
    protected override void OnModelCreating(ModelBuilder builder)
    {
        base.OnModelCreating(builder);
        builder.UseOpenIddict();
        builder.Entity<PortalUser>().Property(u => u.DisplayName).HasMaxLength(64);
    }
}
