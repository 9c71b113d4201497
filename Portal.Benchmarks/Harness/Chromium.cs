using Microsoft.Playwright;

namespace Portal.Benchmarks.Harness;

/// <summary>Debian's Chromium as the tests and benchmarks drive it through Playwright (which cannot download its own here).</summary>
public static class Chromium
{
    public const string ExecutablePath = "/usr/bin/chromium";

    /// <summary>
    /// No sandbox (containers), nothing resolved or fetched beyond 127.0.0.1, no background throttling (a page not in
    /// front keeps its timers), camera and microphone granted with fake devices (a beep for the intercom's microphone), video that plays without a gesture.
    /// </summary>
    public static readonly IReadOnlyList<string> Args =
    [
        "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--no-first-run", "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1", "--disable-renderer-backgrounding",
        "--disable-background-timer-throttling", "--disable-backgrounding-occluded-windows",
        "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream", "--autoplay-policy=no-user-gesture-required",
    ];

    /// <param name="playwright">The Playwright driver.</param>
    /// <param name="disableGpu">
    /// False leaves Chromium's own choice of compositor (the alarm benchmark: its ten consoles drew a little cheaper so).
    /// </param>
    public static Task<IBrowser> LaunchAsync(IPlaywright playwright, bool disableGpu = true)
    {
        ArgumentNullException.ThrowIfNull(playwright);
        if (!File.Exists(ExecutablePath))
        {
            throw new InvalidOperationException($"{ExecutablePath} is not installed: run scripts/install-test-deps.sh (apt-get install -y chromium).");
        }

        return playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ExecutablePath,
            Headless = true,
            Args = disableGpu ? Args : [.. Args.Where(a => a != "--disable-gpu")],
        });
    }
}
