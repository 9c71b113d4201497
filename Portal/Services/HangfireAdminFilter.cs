using Hangfire.Dashboard;
using Portal.Core.Security;

namespace Portal.Services;

/// <summary>The jobs dashboard is for administrators only.</summary>
public sealed class HangfireAdminFilter : IDashboardAuthorizationFilter
{
    public bool Authorize(DashboardContext context) =>
        context.GetHttpContext().User.ToScope()?.Role == Roles.Admin;
}
