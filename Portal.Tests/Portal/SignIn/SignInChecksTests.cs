using Portal.Data;
using Portal.Endpoints;
using Portal.Services;
using Portal.SignIn;
using Xunit;

namespace Portal.Tests.Portal.SignIn;

public sealed class SignInChecksTests
{
    /// <summary>Issue #14: "/\t/example.com" passed the old check; browsers drop the tab and read "//example.com".</summary>
    [Theory]
    [InlineData("/\t/example.com")]
    [InlineData("/\r\n/example.com")]
    [InlineData("//example.com")]
    [InlineData("/\\example.com")]
    [InlineData("https://example.com")]
    [InlineData("javascript:alert(1)")]
    [InlineData("")]
    [InlineData(null)]
    public void LocalOrHome_HostileOrEmpty_IsHome(string? url) => Assert.Equal("/", AuthEndpoints.LocalOrHome(url));

    [Theory]
    [InlineData("/police")]
    [InlineData("/connect/authorize?client_id=portal-web&scope=openid%20profile")]
    public void LocalOrHome_Local_IsKept(string url) => Assert.Equal(url, AuthEndpoints.LocalOrHome(url));

    [Theory]
    [InlineData("password1234")]
    [InlineData("Password@2026")]
    [InlineData("1qaz2wsx3edc")]
    [InlineData("woaini1314520")]
    [InlineData("Demo@2026")]
    [InlineData("QWERTYUIOP123")]
    public async Task CommonPasswordValidator_Common_IsRefused(string password)
    {
        var result = await new CommonPasswordValidator().ValidateAsync(null!, new PortalUser { UserName = "someone" }, password);
        Assert.False(result.Succeeded);
        Assert.Equal("PasswordTooCommon", result.Errors.Single().Code);
    }

    [Fact]
    public async Task CommonPasswordValidator_DemoPasswordAndUserName()
    {
        Assert.True(CommonPasswordValidator.Count > 2000);
        Assert.True((await new CommonPasswordValidator().ValidateAsync(null!, new PortalUser { UserName = "city110" }, DemoUsers.Password)).Succeeded);
        var withName = await new CommonPasswordValidator().ValidateAsync(null!, new PortalUser { UserName = "zhangwei" }, "Zhangwei-Harbour-77");
        Assert.Equal("PasswordContainsUserName", withName.Errors.Single().Code);
        Assert.True(DemoUsers.Password.Length >= 12);
    }

    /// <summary>RFC 6238 appendix B, SHA-1 key "12345678901234567890": 59 s gives 94287082, whose last six digits are 287082.</summary>
    [Fact]
    public void Totp_Rfc6238Vector_AndVerifyWindow()
    {
        var key = Totp.ToBase32("12345678901234567890"u8);
        Assert.Equal("287082", Totp.Compute(key, DateTimeOffset.FromUnixTimeSeconds(59)));
        Assert.Equal("081804", Totp.Compute(key, DateTimeOffset.FromUnixTimeSeconds(1111111109)));
        var now = DateTimeOffset.FromUnixTimeSeconds(1111111109);
        Assert.True(Totp.Verify(key, Totp.Compute(key, now.AddSeconds(-30)), now));
        Assert.False(Totp.Verify(key, Totp.Compute(key, now.AddSeconds(-90)), now));
        Assert.Equal("12345678901234567890"u8.ToArray(), Totp.FromBase32(key));
    }

    [Fact]
    public void SecurityOptions_Defaults_RequireTwoFactorForPoliceAndAdmins()
    {
        var options = new SecurityOptions();
        Assert.Equal(3, options.TwoFactorRoleSet.Count);
        Assert.Contains("DistrictOperator", options.TwoFactorRoleSet);
        Assert.Contains("CityOperator", options.TwoFactorRoleSet);
        Assert.Contains("Admin", options.TwoFactorRoleSet);
        Assert.DoesNotContain("Principal", options.TwoFactorRoleSet);
        Assert.True(options.RevalidationInterval <= TimeSpan.FromMinutes(1));
        Assert.Equal(TimeSpan.FromMinutes(1), new SecurityOptions { SessionRevalidationSeconds = 3600 }.RevalidationInterval);
    }
}
