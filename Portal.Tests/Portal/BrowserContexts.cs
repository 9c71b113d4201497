using System.Runtime.CompilerServices;
using Microsoft.Playwright;

namespace Portal.Tests.Portal;

/// <summary>Browser contexts for the tests, every one with the same patient bounds.</summary>
public static class BrowserContexts
{
    /// <summary>
    /// How long an action or a navigation may take before the test fails. The suite runs beside builds and other tests
    /// on 2 cores: a sign-in's post and redirect have taken over Playwright's 30 s default there (fresh clones, load
    /// 13-48). Waits are for conditions, so a longer bound costs nothing when things are well and only delays the report
    /// of a real failure.
    /// </summary>
    public const float TimeoutMs = 60_000;

    /// <summary>
    /// Playwright's 5 s for an expectation is one slow server render on a busy 2-core machine (a static form's post and
    /// redirect under the whole suite's load). Set when the test assembly loads, so it holds for every test, including
    /// those on a portal of their own that run before the shared fixture starts.
    /// </summary>
#pragma warning disable CA2255 // a test assembly, not a library: this is its start-up
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void PatientExpectations() => Assertions.SetDefaultExpectTimeout(30_000);

    /// <summary>A new context with <see cref="TimeoutMs"/> for actions and navigations.</summary>
    public static async Task<IBrowserContext> NewPatientContextAsync(this IBrowser browser, BrowserNewContextOptions options)
    {
        ArgumentNullException.ThrowIfNull(browser);
        var context = await browser.NewContextAsync(options);
        context.SetDefaultTimeout(TimeoutMs);
        context.SetDefaultNavigationTimeout(TimeoutMs);
        return context;
    }

    /// <summary>A new page in a context of its own, with <see cref="TimeoutMs"/>.</summary>
    public static async Task<IPage> NewPatientPageAsync(this IBrowser browser)
    {
        ArgumentNullException.ThrowIfNull(browser);
        var page = await browser.NewPageAsync();
        page.SetDefaultTimeout(TimeoutMs);
        page.SetDefaultNavigationTimeout(TimeoutMs);
        return page;
    }
}
