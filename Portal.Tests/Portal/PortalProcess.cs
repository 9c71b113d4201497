using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Portal.Core.Data;

namespace Portal.Tests.Portal;

/// <summary>
/// A real portal process on 127.0.0.1 (demo mode, its own data folder), started from the Portal.dll built
/// beside the tests. Can be stopped and started again on the same data folder to test restarts.
/// </summary>
public sealed class PortalProcess : IAsyncDisposable
{
    private readonly StringBuilder _log = new();
    private readonly bool _ownsFolder;
    private Process? _process;

    private readonly IReadOnlyList<string> _arguments;

    private PortalProcess(string dataFolder, int port, bool ownsFolder, IReadOnlyList<string> arguments)
    {
        _arguments = arguments;
        DataFolder = dataFolder;
        BaseUrl = $"http://127.0.0.1:{port}";
        Db = new Db(Db.SqliteConnectionString(Path.Combine(dataFolder, "portal.db")), SqlDialect.Sqlite);
        _ownsFolder = ownsFolder;
    }

    public string BaseUrl { get; }

    public string DataFolder { get; }

    public Db Db { get; }

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

    /// <param name="arguments">More command-line settings, e.g. <c>--Portal:Security:SessionRevalidationSeconds=3</c>.</param>
    public static async Task<PortalProcess> StartAsync(params string[] arguments)
    {
        var folder = Path.Combine(Path.GetTempPath(), "portal-e2e-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        var portal = new PortalProcess(folder, FreeTcpPort(), ownsFolder: true, arguments);
        await portal.StartAgainAsync();
        return portal;
    }

    /// <summary>Starts the process (again, after <see cref="KillAsync"/>) and waits for /healthz.</summary>
    public async Task StartAgainAsync()
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = AppContext.BaseDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { Path.Combine(AppContext.BaseDirectory, "Portal.dll"), "--urls", BaseUrl, "--Portal:DemoMode=true", "--Portal:WebRtcPort=0", "--Portal:DataFolder=" + DataFolder }.Concat(_arguments))
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

            await Task.Delay(200);
        }

        throw new TimeoutException("The portal did not answer /healthz within 90 s:\n" + Log);
    }

    /// <summary>Kills the process at once, as a crash or power cut would.</summary>
    public async Task KillAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process?.Dispose();
        _process = null;
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        if (_ownsFolder)
        {
            try
            {
                Directory.Delete(DataFolder, recursive: true);
            }
            catch (IOException)
            {
            }
        }
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
}
