using System.Text.RegularExpressions;
using Portal.Tests.Portal;
using Xunit;

namespace Portal.Tests.Harness;

/// <summary>How the tests and benchmarks launch Chromium.</summary>
public sealed partial class ChromiumTests
{
    [Fact]
    public void DisabledFeatures_RepeatPlaywrightsOwn_InTheOneSwitchChromiumKeeps()
    {
        // The driver this build ships lists the features it turns off in one array; ours replaces that switch, so it
        // must hold every one of them, or upgrading Playwright would quietly turn some back on.
        var bundle = Path.Combine(AppContext.BaseDirectory, ".playwright", "package", "lib", "coreBundle.js");
        var script = File.ReadAllText(bundle);
        var list = DisabledFeaturesArray().Match(script);
        Assert.True(list.Success, "Playwright's disabledFeatures array was not found in " + bundle);
        var theirs = QuotedName().Matches(list.Groups[1].Value).Select(m => m.Groups[1].Value).ToList();
        Assert.True(theirs.Count >= 10, $"only {theirs.Count} features read from Playwright's list: the pattern no longer fits it");
        Assert.Empty(theirs.Except(Chromium.DisabledFeatures));

        var switches = Chromium.Args.Where(a => a.StartsWith("--disable-features=", StringComparison.Ordinal)).ToList();
        Assert.Single(switches);
        var ours = switches[0]["--disable-features=".Length..].Split(',');
        Assert.Contains("WebUIOmniboxPopup", ours);
        Assert.Contains("WebUIOmniboxAimPopup", ours);
        Assert.Equal(Chromium.DisabledFeatures, ours);
    }

    [GeneratedRegex(@"disabledFeatures\s*=\s*\[(.*?)\]", RegexOptions.Singleline)]
    private static partial Regex DisabledFeaturesArray();

    [GeneratedRegex("\"([A-Za-z0-9]+)\"")]
    private static partial Regex QuotedName();
}

/// <summary>The shared browser as launched: no page of Chromium's own beside the tests' pages.</summary>
[Trait("Category", "Browser")]
public sealed class ChromiumLaunchTests(PortalFixture portal)
{
    [Fact]
    public async Task SharedBrowser_PreloadsNoAddressBarPopup()
    {
        // Chromium builds the pop-up with a window: open one.
        await using var context = await portal.NewContextAsync();
        await context.NewPageAsync();
        var session = await (await portal.GetBrowserAsync()).NewBrowserCDPSessionAsync();
        try
        {
            // An empty filter entry lists every kind of target, Chromium's own pages ("browser_ui") too.
            var targets = await session.SendAsync("Target.getTargets", new Dictionary<string, object> { ["filter"] = new[] { new Dictionary<string, object>() } });
            var urls = targets!.Value.GetProperty("targetInfos").EnumerateArray().Select(t => t.GetProperty("url").GetString() ?? "").ToList();
            Assert.DoesNotContain(urls, u => u.StartsWith("chrome://omnibox-popup", StringComparison.Ordinal));
        }
        finally
        {
            await session.DetachAsync();
        }
    }
}
