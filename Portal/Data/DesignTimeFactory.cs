using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace Portal.Data;

/// <summary>
/// Used only by <c>dotnet ef dbcontext script</c> to write db/&lt;engine&gt;/..._Identity.sql:
/// <c>PORTAL_EF_ENGINE=sqlserver dotnet ef dbcontext script -p Portal</c> (default sqlite).
/// </summary>
internal sealed class DesignTimeFactory : IDesignTimeDbContextFactory<PortalIdentityDbContext>
{
    public PortalIdentityDbContext CreateDbContext(string[] args)
    {
        var options = new DbContextOptionsBuilder<PortalIdentityDbContext>();
        if (Environment.GetEnvironmentVariable("PORTAL_EF_ENGINE") == "sqlserver")
        {
            options.UseSqlServer("Server=.;Database=Portal;Trusted_Connection=True");
        }
        else
        {
            options.UseSqlite("Data Source=design.db");
        }

        return new PortalIdentityDbContext(options.Options);
    }
}
