using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.Administration;
using Portal.Core.Audit;
using Portal.Core.Data;
using Portal.Core.Notifications;
using Portal.Core.Schools;
using Portal.Core.Security;
using Portal.Data;
using Portal.Tests.Data;
using Xunit;

namespace Portal.Tests.Portal.Administration;

/// <summary>
/// User administration through Identity's real EF store on a migrated SQLite file: bad input is refused with nothing
/// changed, and every change that ends a right ends the user's sessions (a new security stamp).
/// </summary>
public sealed class UserAdministrationTests : IAsyncLifetime
{
    private readonly SqliteDb _database = new();
    private ServiceProvider _services = default!;
    private RegistrySeed.Seeded _seeded = default!;
    private Actor _admin = default!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddDataProtection().UseEphemeralDataProtectionProvider();
        services.AddDbContext<PortalIdentityDbContext>(o => o.UseSqlite(_database.Db.ConnectionString).UseOpenIddict());
        services.AddIdentityCore<PortalUser>(o => (o.Password.RequiredLength, o.Password.RequireNonAlphanumeric) = (8, false))
            .AddRoles<PortalRole>()
            .AddEntityFrameworkStores<PortalIdentityDbContext>()
            .AddDefaultTokenProviders();
        services.AddScoped<IUserStore<PortalUser>, ProtectedUserStore>();
        services.AddSingleton(_database.Db);
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<DistrictRepository>();
        services.AddSingleton<SchoolRepository>();
        services.AddSingleton<AuditRepository>();
        services.AddSingleton<PushSubscriptionRepository>();
        services.AddScoped<UserAdministration>();
        _services = services.BuildServiceProvider();

        await using var scope = _services.CreateAsyncScope();
        var roles = scope.ServiceProvider.GetRequiredService<RoleManager<PortalRole>>();
        foreach (var role in Roles.All)
        {
            await roles.CreateAsync(new PortalRole(role));
        }

        var users = scope.ServiceProvider.GetRequiredService<UserManager<PortalUser>>();
        var admin = new PortalUser { UserName = "root", DisplayName = "Root" };
        await users.CreateAsync(admin, "Root-Pass-1");
        await users.AddToRoleAsync(admin, Roles.Admin);
        _admin = new Actor(new UserScope(admin.Id, "root", Roles.Admin, null, null), "192.0.2.3");
        _seeded = await RegistrySeed.SchoolWithDevicesAsync(_database.Db, TimeProvider.System.GetUtcNow().UtcDateTime, Ct);
    }

    public async ValueTask DisposeAsync()
    {
        await _services.DisposeAsync();
        _database.Dispose();
    }

    private async Task<T> InScopeAsync<T>(Func<UserAdministration, UserManager<PortalUser>, Task<T>> work)
    {
        await using var scope = _services.CreateAsyncScope();
        return await work(scope.ServiceProvider.GetRequiredService<UserAdministration>(), scope.ServiceProvider.GetRequiredService<UserManager<PortalUser>>());
    }

    private Task<int> UserCountAsync() => InScopeAsync((_, users) => users.Users.CountAsync(Ct));

    [Fact]
    public async Task CreateAsync_OperatorWithGeneratedPassword_MustChangeItAndThePasswordWorks()
    {
        var result = await InScopeAsync((admin, _) => admin.CreateAsync(_admin, new UserInput("op-north", "北区值班员", Roles.DistrictOperator, _seeded.District.Id, null), Ct));
        Assert.True(result.Succeeded, string.Join(",", result.Errors));
        Assert.Equal(20, result.Password!.Length);
        await InScopeAsync(async (_, users) =>
        {
            var user = await users.FindByNameAsync("op-north");
            Assert.True(user is { MustChangePassword: true, IsDisabled: false });
            Assert.Equal(_seeded.District.Id, user.DistrictId);
            Assert.Equal([Roles.DistrictOperator], await users.GetRolesAsync(user));
            Assert.True(await users.CheckPasswordAsync(user, result.Password));
            return 0;
        });
    }

    [Fact]
    public async Task CreateAsync_BadInput_RefusedWithEveryReasonAndNothingCreated()
    {
        var before = await UserCountAsync();
        var unknownSchool = await InScopeAsync((admin, _) => admin.CreateAsync(_admin, new UserInput("principal-x", "校长", Roles.Principal, null, "9999999999", "Short1"), Ct));
        Assert.Contains(unknownSchool.Errors, e => e is { Field: "SchoolCode", Code: "UnknownSchool" });
        Assert.Contains(unknownSchool.Errors, e => e is { Field: "Password", Code: "Identity_PasswordTooShort" });
        var noDistrict = await InScopeAsync((admin, _) => admin.CreateAsync(_admin, new UserInput("op-x", "值班员", Roles.DistrictOperator, null, null), Ct));
        Assert.Contains(noDistrict.Errors, e => e is { Field: "DistrictId", Code: "Required" });
        var duplicate = await InScopeAsync((admin, _) => admin.CreateAsync(_admin, new UserInput("root", "Again", Roles.CityOperator, null, null), Ct));
        Assert.Contains(duplicate.Errors, e => e.Code == "DuplicateUserName");
        var badName = await InScopeAsync((admin, _) => admin.CreateAsync(_admin, new UserInput("a b", "X", "Janitor", 4242, null), Ct));
        Assert.Contains(badName.Errors, e => e.Code == "UserNameFormat");
        Assert.Contains(badName.Errors, e => e.Code == "UnknownRole");
        Assert.Equal(before, await UserCountAsync());
    }

    [Fact]
    public async Task CreateAsync_PrincipalBySchoolCode_TakesTheSchoolsDistrict()
    {
        var result = await InScopeAsync((admin, _) => admin.CreateAsync(_admin, new UserInput("principal-s", "校长", Roles.Principal, null, _seeded.School.Code, "Principal-1", MustChangePassword: false), Ct));
        Assert.True(result.Succeeded, string.Join(",", result.Errors));
        Assert.Null(result.Password);
        var user = await InScopeAsync((_, users) => users.FindByNameAsync("principal-s"));
        Assert.Equal((_seeded.School.Id, _seeded.District.Id, false), (user!.SchoolId, user.DistrictId, user.MustChangePassword));
    }

    [Fact]
    public async Task SetDisabledResetChangeRole_EachEndsTheSessionsAndIsAudited()
    {
        var created = await InScopeAsync((admin, _) => admin.CreateAsync(_admin, new UserInput("bureau-n", "教育局", Roles.Bureau, null, null, "Bureau-Pass-1", MustChangePassword: false), Ct));
        async Task<string?> StampAsync() => await InScopeAsync(async (_, users) => (await users.FindByIdAsync(created.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)))!.SecurityStamp);

        var stamp = await StampAsync();
        Assert.True((await InScopeAsync((admin, _) => admin.SetDisabledAsync(_admin, created.Id, true, Ct))).Succeeded);
        Assert.NotEqual(stamp, stamp = await StampAsync());
        Assert.True((await InScopeAsync((_, users) => users.FindByNameAsync("bureau-n")))!.IsDisabled);

        var reset = await InScopeAsync((admin, _) => admin.ResetPasswordAsync(_admin, created.Id, Ct));
        Assert.NotEqual(stamp, stamp = await StampAsync());
        var user = await InScopeAsync((_, users) => users.FindByNameAsync("bureau-n"));
        Assert.True(user!.MustChangePassword);
        Assert.True(await InScopeAsync((_, users) => users.CheckPasswordAsync(user, reset.Password!)));

        Assert.True((await InScopeAsync((admin, _) => admin.ChangeRoleAsync(_admin, created.Id, Roles.Bureau, _seeded.District.Id, null, Ct))).Succeeded);
        Assert.NotEqual(stamp, stamp = await StampAsync());
        Assert.Equal(_seeded.District.Id, (await InScopeAsync((_, users) => users.FindByNameAsync("bureau-n")))!.DistrictId);

        Assert.True((await InScopeAsync((admin, _) => admin.RequireTwoFactorAsync(_admin, created.Id, true, Ct))).Succeeded);
        Assert.True((await InScopeAsync((_, users) => users.FindByNameAsync("bureau-n")))!.RequireTwoFactor);
        Assert.NotEqual(stamp, await StampAsync());

        var audit = await new AuditRepository(_database.Db, TimeProvider.System).GetPageAsync(new AuditQuery("user bureau-n"), new PageRequest(0, 20), Ct);
        Assert.Equal(
            [AuditActions.UserTwoFactorRequired, AuditActions.UserRoleChanged, AuditActions.UserPasswordReset, AuditActions.UserDisabled, AuditActions.UserCreated],
            audit.Items.Select(e => e.Action));
        Assert.DoesNotContain(audit.Items, e => (e.Detail ?? string.Empty).Contains(reset.Password!, StringComparison.Ordinal));
    }

    [Fact]
    public async Task SetDisabledAndChangeRole_ForgetTheUsersPushSubscriptions_NotOthers()
    {
        var push = _services.GetRequiredService<PushSubscriptionRepository>();
        var district = _seeded.District.Id;
        var bureau = await InScopeAsync((admin, _) => admin.CreateAsync(_admin, new UserInput("bureau-p", "教育局", Roles.Bureau, district, null, "Bureau-Pass-1", MustChangePassword: false), Ct));
        var police = await InScopeAsync((admin, _) => admin.CreateAsync(_admin, new UserInput("police-p", "值班员", Roles.DistrictOperator, district, null, "Police-Pass-1", MustChangePassword: false), Ct));
        var bureauScope = new UserScope(bureau.Id, "bureau-p", Roles.Bureau, district, null);
        var policeScope = new UserScope(police.Id, "police-p", Roles.DistrictOperator, district, null);
        async Task SubscribeAsync(UserScope scope, string browser) =>
            await push.SaveAsync(scope, "https://push.example.org/" + browser, "p256dh", "auth", "zh-CN", TimeProvider.System.GetUtcNow().UtcDateTime, Ct);
        async Task<int[]> AudienceAsync() =>
            [.. (await push.GetAudienceAsync(new PushAudience(NotificationAudience.Bureau | NotificationAudience.Police, district, _seeded.School.Id), Ct)).Select(t => t.UserId).Order()];

        await SubscribeAsync(bureauScope, "bureau-office");
        await SubscribeAsync(bureauScope, "bureau-phone");
        await SubscribeAsync(policeScope, "police-console");
        Assert.Equal([bureau.Id, bureau.Id, police.Id], await AudienceAsync());

        // Disabled: the sessions end, and the browsers stop hearing of the district's alarms and devices.
        Assert.True((await InScopeAsync((admin, _) => admin.SetDisabledAsync(_admin, bureau.Id, true, Ct))).Succeeded);
        Assert.Equal([police.Id], await AudienceAsync());
        Assert.Equal(0, await push.CountAsync(bureauScope, Ct));

        // Enabled again: nothing to forget; the user subscribes again from a page.
        Assert.True((await InScopeAsync((admin, _) => admin.SetDisabledAsync(_admin, bureau.Id, false, Ct))).Succeeded);
        await SubscribeAsync(bureauScope, "bureau-office");
        Assert.Equal([bureau.Id, police.Id], await AudienceAsync());

        // Moved to the city-wide bureau: the subscription made under the district's scope goes.
        Assert.True((await InScopeAsync((admin, _) => admin.ChangeRoleAsync(_admin, police.Id, Roles.Bureau, null, null, Ct))).Succeeded);
        Assert.Equal([bureau.Id], await AudienceAsync());
        Assert.Equal(1, await push.CountAsync(bureauScope, Ct));
    }

    [Fact]
    public async Task SetDisabledOrDemote_YourselfOrTheLastAdministrator_Refused()
    {
        Assert.Equal("NotYourself", Assert.Single((await InScopeAsync((admin, _) => admin.SetDisabledAsync(_admin, _admin.Scope.UserId, true, Ct))).Errors).Code);
        Assert.Equal("NotYourself", Assert.Single((await InScopeAsync((admin, _) => admin.ChangeRoleAsync(_admin, _admin.Scope.UserId, Roles.CityOperator, null, null, Ct))).Errors).Code);

        var other = new Actor(new UserScope(9999, "someone", Roles.Admin, null, null), null);
        Assert.Equal("LastAdmin", Assert.Single((await InScopeAsync((admin, _) => admin.SetDisabledAsync(other, _admin.Scope.UserId, true, Ct))).Errors).Code);
        Assert.False((await InScopeAsync((_, users) => users.FindByNameAsync("root")))!.IsDisabled);

        var notAdmin = new Actor(new UserScope(5, "bureau", Roles.Bureau, null, null), null);
        await Assert.ThrowsAsync<ScopeDeniedException>(() => InScopeAsync((admin, _) => admin.SetDisabledAsync(notAdmin, _admin.Scope.UserId, true, Ct)));
    }

    [Fact]
    public async Task GetPageAsync_SearchAndRole_ServerPaged()
    {
        for (var i = 0; i < 3; i++)
        {
            await InScopeAsync((admin, _) => admin.CreateAsync(_admin, new UserInput("city-" + i, "市值班员" + i, Roles.CityOperator, null, null), Ct));
        }

        var page = await InScopeAsync((admin, _) => admin.GetPageAsync(_admin.Scope, "city-", Roles.CityOperator, new PageRequest(1, 2), Ct));
        Assert.Equal(3, page.Total);
        Assert.Equal(["city-1", "city-2"], page.Items.Select(u => u.UserName));
        Assert.All(page.Items, u => Assert.True(u is { Role: Roles.CityOperator, MustChangePassword: true }));
    }
}
