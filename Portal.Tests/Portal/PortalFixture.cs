using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Playwright;
using Portal.Core.Data;
using Xunit;

[assembly: AssemblyFixture(typeof(Portal.Tests.Portal.PortalFixture))]

namespace Portal.Tests.Portal;

/// <summary>
/// One real portal process (demo city, SQLite in a temp folder, a free port on 127.0.0.1) and one headless
/// Debian Chromium, shared by every browser test in the run. Started on first use, so a test run that
/// filters the browser tests out pays nothing.
/// </summary>
public sealed class PortalFixture : IAsyncDisposable
{
    public const string ChromiumPath = "/usr/bin/chromium";

    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly StringBuilder _log = new();
    private Process? _process;
    private IPlaywright? _playwright;
    private IBrowser? _browser;

    public string BaseUrl { get; private set; } = string.Empty;

    public string DataFolder { get; private set; } = string.Empty;

    /// <summary>The portal's own database, for tests that compare the screen with the data.</summary>
    public Db Db { get; private set; } = default!;

    public string Log
    {
        get
        {
            lock (_log)
            {
                return _log.ToString();
            }
        }
    }

    public async Task<IBrowser> GetBrowserAsync()
    {
        await EnsureStartedAsync();
        return _browser!;
    }

    /// <summary>A fresh browser context (own cookies) signed in through the real login page.</summary>
    public async Task<(IBrowserContext Context, IPage Page)> SignInAsync(string userName, string password = "Demo@2026")
    {
        var browser = await GetBrowserAsync();
        var context = await browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = BaseUrl, Locale = "zh-CN" });
        var page = await context.NewPageAsync();
        await page.GotoAsync("/");
        await page.Locator("#username").FillAsync(userName);
        await page.Locator("#password").FillAsync(password);
        await page.Locator("#login-submit").ClickAsync();
        await page.WaitForURLAsync(url => !url.Contains("/account/login", StringComparison.Ordinal) && !url.Contains("/connect/", StringComparison.Ordinal) && !url.Contains("/signin-oidc", StringComparison.Ordinal));
        return (context, page);
    }

    private async Task EnsureStartedAsync()
    {
        if (_browser is not null)
        {
            return;
        }

        await _gate.WaitAsync();
        try
        {
            if (_browser is not null)
            {
                return;
            }

            await StartPortalAsync();
            _playwright = await Playwright.CreateAsync();
            _browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
            {
                ExecutablePath = ChromiumPath,
                Headless = true,
                Args =
                [
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--no-first-run",
                    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
                    "--use-fake-ui-for-media-stream",
                    "--autoplay-policy=no-user-gesture-required",
                ],
            });
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task StartPortalAsync()
    {
        var port = FreeTcpPort();
        BaseUrl = $"http://127.0.0.1:{port}";
        DataFolder = Path.Combine(Path.GetTempPath(), "portal-e2e-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(DataFolder);
        Db = new Db(Db.SqliteConnectionString(Path.Combine(DataFolder, "portal.db")), SqlDialect.Sqlite);

        var portalDll = Path.Combine(AppContext.BaseDirectory, "Portal.dll");
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = AppContext.BaseDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { portalDll, "--urls", BaseUrl, "--Portal:DemoMode=true", "--Portal:DataFolder=" + DataFolder })
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        _process = Process.Start(start) ?? throw new InvalidOperationException("Could not start the portal.");
        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.ErrorDataReceived += (_, e) => Append(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(90))
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException("The portal exited at start-up:\n" + Log);
            }

            try
            {
                if ((await http.GetAsync(BaseUrl + "/healthz")).StatusCode == HttpStatusCode.OK)
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

            await Task.Delay(250);
        }

        throw new TimeoutException("The portal did not answer /healthz within 90 s:\n" + Log);
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_log)
        {
            _log.AppendLine(line);
        }
    }

    private static int FreeTcpPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.CloseAsync();
        }

        _playwright?.Dispose();
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process?.Dispose();
        _gate.Dispose();
        try
        {
            if (Directory.Exists(DataFolder))
            {
                Directory.Delete(DataFolder, recursive: true);
            }
        }
        catch (IOException)
        {
        }
    }
}
