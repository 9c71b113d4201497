using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Microsoft.Playwright;

namespace Portal.Benchmarks;

/// <summary>
/// What the browser benchmarks (alarms, media first frame) share: a real portal process (the Release build beside this program) in demo mode on free 127.0.0.1 ports (HTTP, and the
/// WebRTC UDP port: a portal running beside it holds 8555) with its own data folder, Debian's Chromium, percentiles.
/// </summary>
internal static class PortalProcess
{
    /// <summary>Chromium flags: no sandbox (containers), nothing resolved or fetched beyond 127.0.0.1, no background throttling.</summary>
    public static readonly string[] ChromiumArgs =
    [
        "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--no-first-run", "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1", "--disable-renderer-backgrounding",
        "--disable-background-timer-throttling", "--disable-backgrounding-occluded-windows",
    ];

    /// <param name="playwright">The Playwright driver that launches Debian's Chromium.</param>
    /// <param name="disableGpu">
    /// False leaves Chromium's own choice of compositor (the alarm benchmark: its ten consoles drew a little cheaper so).
    /// </param>
    public static Task<IBrowser> LaunchChromiumAsync(IPlaywright playwright, bool disableGpu = true) =>
        playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = "/usr/bin/chromium",
            Headless = true,
            Args = disableGpu ? ChromiumArgs : [.. ChromiumArgs.Where(a => a != "--disable-gpu")],
        });

    public static Process Start(string url, string folder, int schools)
    {
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = AppContext.BaseDirectory, UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { Path.Combine(AppContext.BaseDirectory, "Portal.dll"), "--urls", url, "--Portal:DemoMode=true", "--Portal:DataFolder=" + folder,
            "--Portal:DemoSchoolCount=" + schools.ToString(CultureInfo.InvariantCulture), "--Portal:WebRtcPort=0", "--Logging:LogLevel:Default=Warning" })
        {
            start.ArgumentList.Add(arg);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("portal did not start");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) Console.Error.WriteLine("portal: " + e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    public static async Task WaitHealthyAsync(string url, Process portal)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(120) && !portal.HasExited)
        {
            try
            {
                if ((await http.GetAsync(new Uri(url + "/healthz")).ConfigureAwait(false)).IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }

            await Task.Delay(250).ConfigureAwait(false);
        }

        throw new TimeoutException("portal did not become healthy");
    }

    /// <summary>Kills the portal and removes its data folder.</summary>
    public static async Task StopAsync(Process portal, string folder)
    {
        portal.Kill(entireProcessTree: true);
        await portal.WaitForExitAsync().ConfigureAwait(false);
        Directory.Delete(folder, recursive: true);
    }

    /// <summary>Nearest-rank percentile of a sorted list.</summary>
    public static double P(IReadOnlyList<double> sorted, double p) =>
        sorted.Count == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Count) - 1, 0, sorted.Count - 1)];

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
