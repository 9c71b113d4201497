using System.Buffers.Binary;
using System.Security.Cryptography;
using Dapper;
using Microsoft.Playwright;
using Xunit;

namespace Portal.Tests.Portal.Browser;

/// <summary>TOTP two-factor sign-in end to end: enable it, sign in again with a code, and the key is not stored in clear.</summary>
[Trait("Category", "Browser")]
public sealed class TwoFactorTests(PortalFixture portal)
{
    [Fact]
    public async Task TwoFactor_EnabledThenSignIn_AsksForTheCodeAndAcceptsIt()
    {
        var (context, page) = await portal.SignInAsync("huangdao110");
        await using var _ = context;
        await page.GotoAsync("/account/2fa");
        var key = (await page.GetByTestId("authenticator-key").InnerTextAsync()).Replace(" ", string.Empty, StringComparison.Ordinal).ToUpperInvariant();
        await page.Locator("#code").FillAsync("000000");
        await page.Locator("#enable-2fa").ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("验证码错误");
        await page.Locator("#code").FillAsync(Totp(key, TimeProvider.System.GetUtcNow()));
        await page.Locator("#enable-2fa").ClickAsync();
        await Assertions.Expect(page.GetByTestId("recovery-codes")).ToBeVisibleAsync();

        // The authenticator key is encrypted at rest.
        await using (var connection = (await portal.GetPortalAsync()).Db.Open())
        {
            var stored = await connection.QuerySingleAsync<string>(
                "SELECT t.Value FROM AspNetUserTokens t JOIN AspNetUsers u ON u.Id = t.UserId WHERE u.UserName = 'huangdao110' AND t.Name = 'AuthenticatorKey'");
            Assert.DoesNotContain(key, stored, StringComparison.OrdinalIgnoreCase);
        }

        // A fresh browser: password, then the code.
        var browser = await portal.GetBrowserAsync();
        await using var fresh = await browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = (await portal.GetPortalAsync()).BaseUrl });
        var again = await fresh.NewPageAsync();
        await again.GotoAsync("/police");
        await again.Locator("#username").FillAsync("huangdao110");
        await again.Locator("#password").FillAsync("Demo@2026");
        await again.Locator("#login-submit").ClickAsync();
        await again.WaitForURLAsync(u => u.Contains("/account/login-2fa", StringComparison.Ordinal));
        await again.Locator("#code").FillAsync(Totp(key, TimeProvider.System.GetUtcNow()));
        await again.Locator("#code-submit").ClickAsync();
        await again.WaitForURLAsync(u => u.EndsWith("/police", StringComparison.Ordinal));
        await PortalFixture.WaitInteractiveAsync(again);
        await Assertions.Expect(again.GetByTestId("centre-name")).ToContainTextAsync("黄岛");
    }

    /// <summary>RFC 6238 TOTP (SHA-1, 30 s, 6 digits), as an authenticator app computes it.</summary>
    private static string Totp(string base32Key, DateTimeOffset now)
    {
        var key = FromBase32(base32Key);
        Span<byte> counter = stackalloc byte[8];
        BinaryPrimitives.WriteInt64BigEndian(counter, now.ToUnixTimeSeconds() / 30);
#pragma warning disable CA5350 // RFC 6238 authenticator apps use HMAC-SHA1; this is the app, not our security.
        var hash = HMACSHA1.HashData(key, counter);
#pragma warning restore CA5350
        var offset = hash[^1] & 0x0F;
        var code = (BinaryPrimitives.ReadInt32BigEndian(hash.AsSpan(offset)) & 0x7FFFFFFF) % 1_000_000;
        return code.ToString("D6", System.Globalization.CultureInfo.InvariantCulture);
    }

    private static byte[] FromBase32(string text)
    {
        const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        var bytes = new List<byte>();
        int buffer = 0, bits = 0;
        foreach (var c in text.TrimEnd('='))
        {
            buffer = (buffer << 5) | Alphabet.IndexOf(c, StringComparison.Ordinal);
            bits += 5;
            if (bits >= 8)
            {
                bytes.Add((byte)(buffer >> (bits - 8)));
                bits -= 8;
            }
        }

        return [.. bytes];
    }
}
