using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Portal.Data;
using Portal.SignIn;
using Portal.Tests.Data;
using Xunit;

namespace Portal.Tests.Portal.SignIn;

/// <summary>
/// Issue #14: an authenticator code is accepted once (RFC 6238 §5.2), through Identity's real EF user store on a migrated
/// SQLite file, as the sign-in page calls it (UserManager.VerifyTwoFactorTokenAsync with the authenticator provider).
/// </summary>
public sealed class SingleUseAuthenticatorTests : IAsyncLifetime
{
    private readonly SqliteDb _database = new();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 2, 8, 0, 5, TimeSpan.Zero));
    private readonly PortalOptions _options = new();
    private ServiceProvider _services = default!;
    private string _key = default!;
    private PortalUser _user = default!;

    public async ValueTask InitializeAsync()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddDataProtection().UseEphemeralDataProtectionProvider();
        services.AddDbContext<PortalIdentityDbContext>(o => o.UseSqlite(_database.Db.ConnectionString).UseOpenIddict());
        services.AddSingleton<TimeProvider>(_time);
        services.AddSingleton(Options.Create(_options));
        services.AddIdentityCore<PortalUser>()
            .AddRoles<PortalRole>()
            .AddEntityFrameworkStores<PortalIdentityDbContext>()
            .AddDefaultTokenProviders()
            .AddTokenProvider<SingleUseAuthenticatorTokenProvider>(TokenOptions.DefaultAuthenticatorProvider);
        services.AddScoped<IUserStore<PortalUser>, ProtectedUserStore>();
        _services = services.BuildServiceProvider();

        await using var scope = _services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<PortalUser>>();
        _user = new PortalUser { UserName = "op-xinqu", DisplayName = "值班员" };
        Assert.True((await users.CreateAsync(_user, "Long-Enough-Pass-1")).Succeeded);
        _key = Totp.NewKey();
        Assert.True((await users.SetAuthenticationTokenAsync(_user, "[AspNetUserStore]", "AuthenticatorKey", _key)).Succeeded);
    }

    public async ValueTask DisposeAsync()
    {
        await _services.DisposeAsync();
        _database.Dispose();
    }

    /// <summary>Each call in its own scope and user manager, as each sign-in request is.</summary>
    private async Task<bool> VerifyAsync(string code)
    {
        await using var scope = _services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<PortalUser>>();
        var user = await users.FindByNameAsync("op-xinqu");
        return await users.VerifyTwoFactorTokenAsync(user!, TokenOptions.DefaultAuthenticatorProvider, code);
    }

    [Fact]
    public async Task Verify_SameCodeTwice_SecondIsRefused_NextStepAccepted_OlderStepRefused()
    {
        var now = _time.GetUtcNow();
        var current = Totp.Compute(_key, now);
        var previous = Totp.Compute(_key, now.AddSeconds(-30));

        Assert.False(await VerifyAsync("000000" == current ? "111111" : "000000")); // a wrong code never counts
        Assert.True(await VerifyAsync(current));
        Assert.False(await VerifyAsync(current)); // replayed within its step
        Assert.False(await VerifyAsync(previous)); // still inside the drift window, but older than the one used

        _time.Advance(TimeSpan.FromSeconds(30));
        var next = Totp.Compute(_key, _time.GetUtcNow());
        Assert.False(await VerifyAsync(current)); // the used code stays refused while the window still holds it
        Assert.True(await VerifyAsync(next));

        // The step is kept protected by the user store, not as the plain number.
        await using var connection = _database.Db.Open();
        var stored = await Dapper.SqlMapper.ExecuteScalarAsync<string>(connection,
            "SELECT Value FROM AspNetUserTokens WHERE LoginProvider = @p AND Name = @n",
            new { p = SingleUseAuthenticatorTokenProvider.StoreProvider, n = SingleUseAuthenticatorTokenProvider.LastStepName });
        Assert.NotNull(stored);
        Assert.DoesNotContain((_time.GetUtcNow().ToUnixTimeSeconds() / 30).ToString(System.Globalization.CultureInfo.InvariantCulture), stored, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_DemoMode_SameCodeAcceptedAgain_UnlessConfiguredOn()
    {
        var current = Totp.Compute(_key, _time.GetUtcNow());
        _options.DemoMode = true;
        Assert.True(await VerifyAsync(current));
        Assert.True(await VerifyAsync(current)); // demo keys are published: the rule would protect nothing

        _options.Security.TotpSingleUse = true;
        Assert.True(await VerifyAsync(current));
        Assert.False(await VerifyAsync(current));
    }

    /// <summary>
    /// The race: two sign-ins with the same code, each having read the user (and no accepted step yet) before either
    /// writes. The rule rests on the user store's conditional write (Identity's ConcurrencyStamp): the second write, made
    /// from the user as read before the first, is refused, so its code is refused.
    /// </summary>
    [Fact]
    public async Task Verify_SameCodeRacing_TheStaleWriterIsRefused()
    {
        await using var first = _services.CreateAsyncScope();
        await using var second = _services.CreateAsyncScope();
        var users1 = first.ServiceProvider.GetRequiredService<UserManager<PortalUser>>();
        var users2 = second.ServiceProvider.GetRequiredService<UserManager<PortalUser>>();
        var user1 = (await users1.FindByNameAsync("op-xinqu"))!;
        var user2 = (await users2.FindByNameAsync("op-xinqu"))!;
        var step = (_time.GetUtcNow().ToUnixTimeSeconds() / 30).ToString(System.Globalization.CultureInfo.InvariantCulture);
        Assert.Null(await users2.GetAuthenticationTokenAsync(user2, SingleUseAuthenticatorTokenProvider.StoreProvider, SingleUseAuthenticatorTokenProvider.LastStepName));

        Assert.True((await users1.SetAuthenticationTokenAsync(user1, SingleUseAuthenticatorTokenProvider.StoreProvider, SingleUseAuthenticatorTokenProvider.LastStepName, step)).Succeeded);
        var late = await users2.SetAuthenticationTokenAsync(user2, SingleUseAuthenticatorTokenProvider.StoreProvider, SingleUseAuthenticatorTokenProvider.LastStepName, step);

        Assert.False(late.Succeeded);
        Assert.Contains(late.Errors, e => e.Code == nameof(IdentityErrorDescriber.ConcurrencyFailure));
    }

    [Fact]
    public async Task Verify_SameCodeEightTimesAtOnce_AcceptedExactlyOnce()
    {
        var current = Totp.Compute(_key, _time.GetUtcNow());
        using var start = new SemaphoreSlim(0);
        var tries = Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
        {
            await start.WaitAsync(TestContext.Current.CancellationToken);
            await using var scope = _services.CreateAsyncScope();
            var users = scope.ServiceProvider.GetRequiredService<UserManager<PortalUser>>();
            var user = (await users.FindByNameAsync("op-xinqu"))!;
            var accepted = await users.VerifyTwoFactorTokenAsync(user, TokenOptions.DefaultAuthenticatorProvider, current);

            // As the sign-in manager does after a refused code: the failed attempt is still recorded, no exception.
            var counted = accepted || (await users.AccessFailedAsync(user)).Succeeded;
            return (accepted, counted);
        })).ToList();
        start.Release(tries.Count);

        var results = await Task.WhenAll(tries);

        Assert.Single(results, r => r.accepted);
        Assert.True(results.Count(r => r.counted) >= 1 + 1, "at least one refused attempt was recorded");
    }
}
