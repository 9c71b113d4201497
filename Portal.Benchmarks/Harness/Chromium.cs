using Microsoft.Playwright;

namespace Portal.Benchmarks.Harness;

/// <summary>Debian's Chromium as the tests and benchmarks drive it through Playwright (which cannot download its own here).</summary>
public static class Chromium
{
    public const string ExecutablePath = "/usr/bin/chromium";

    /// <summary>
    /// The features Playwright 1.64 turns off, and the address-bar pop-up. Chromium 156 preloads that pop-up as two pages
    /// of its own (<c>chrome://omnibox-popup.top-chrome/</c>) in a renderer per window, even headless: with the alarm
    /// benchmark's ten consoles, ten more renderers took about 1.2 s of CPU each at start and some all along, on the same
    /// two cores. Chromium keeps only the last <c>--disable-features</c> it is given, and Playwright puts ours after its
    /// own, so ours repeats Playwright's (a test holds it to the list in the driver this build ships).
    /// </summary>
    public static readonly IReadOnlyList<string> DisabledFeatures =
    [
        "AvoidUnnecessaryBeforeUnloadCheckSync", "DestroyProfileOnBrowserClose", "DialMediaRouteProvider", "GlobalMediaControls",
        "HttpsUpgrades", "LensOverlay", "MediaRouter", "PaintHolding", "ThirdPartyStoragePartitioning",
        "BlockOriginHeaderModificationOnRedirect", "AvoidCorsURLLoaderRestartOnRedirect", "Translate", "AutoDeElevate",
        "OptimizationHints", "NetworkTimeServiceQuerying", "AimEnabled", "msForceBrowserSignIn", "msEdgeUpdateLaunchServicesPreferredVersion",
        "WebUIOmniboxPopup", "WebUIOmniboxAimPopup",
    ];

    /// <summary>
    /// No sandbox (containers), nothing resolved or fetched beyond 127.0.0.1, no background throttling (a page not in
    /// front keeps its timers), camera and microphone granted with fake devices (a beep for the intercom's microphone), video that plays without a gesture.
    /// No address-bar pop-up (<see cref="DisabledFeatures"/>).
    /// </summary>
    public static readonly IReadOnlyList<string> Args =
    [
        "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--no-first-run", "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1", "--disable-renderer-backgrounding",
        "--disable-background-timer-throttling", "--disable-backgrounding-occluded-windows",
        "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream", "--autoplay-policy=no-user-gesture-required",
        "--disable-features=" + string.Join(',', DisabledFeatures),
    ];

    /// <param name="playwright">The Playwright driver.</param>
    /// <param name="disableGpu">
    /// False leaves Chromium's own choice of compositor (the alarm benchmark: its ten consoles drew a little cheaper so).
    /// </param>
    /// <param name="nice">
    /// Above 0, Chromium and every process it starts get this much less of the cores than the server when both want
    /// them: the alarm benchmark's consoles stand in for the operators' own PCs, which do not take the server's cores.
    /// The level is set on Chromium's scheduler group (Linux's autogroup: Playwright starts the browser in a session of
    /// its own, and the kernel shares the cores between sessions first, whatever the processes' own nice values), and
    /// on the processes through <c>nice(1)</c> where there are no autogroups. <c>nice(1)</c> alone did nothing: run as
    /// root, Chromium sets its own processes' priorities (browser and GPU process -8, renderers 0 and 5).
    /// </param>
    public static Task<IBrowser> LaunchAsync(IPlaywright playwright, bool disableGpu = true, int nice = 0)
    {
        ArgumentNullException.ThrowIfNull(playwright);
        if (!File.Exists(ExecutablePath))
        {
            throw new InvalidOperationException($"{ExecutablePath} is not installed: run scripts/install-test-deps.sh (apt-get install -y chromium).");
        }

        return playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = nice > 0 ? NiceWrapper(nice) : ExecutablePath,
            Headless = true,
            Args = disableGpu ? Args : [.. Args.Where(a => a != "--disable-gpu")],
        });
    }

    /// <summary>
    /// A script that starts Chromium at <paramref name="nice"/> (Playwright starts an executable with its own arguments
    /// and talks to it over inherited pipes, which <c>exec</c> keeps; the process id stays Chromium's).
    /// </summary>
    private static string NiceWrapper(int nice)
    {
        var path = Path.Combine(Path.GetTempPath(), $"portal-chromium-nice{nice}.sh");
        var script = $"#!/bin/sh\n(echo {nice} > /proc/self/autogroup) 2>/dev/null\nexec nice -n {nice} {ExecutablePath} \"$@\"\n";
        if (!File.Exists(path) || File.ReadAllText(path) != script)
        {
            var temp = path + "." + Environment.ProcessId;
            File.WriteAllText(temp, script);
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(temp, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead
                    | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
            }

            File.Move(temp, path, overwrite: true);
        }

        return path;
    }
}
