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
