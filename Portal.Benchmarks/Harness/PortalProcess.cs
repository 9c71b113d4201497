using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Runtime.InteropServices;
using System.Text;
using Portal.Core.Data;

namespace Portal.Benchmarks.Harness;

/// <summary>How <see cref="PortalProcess"/> starts the portal; every setting has the tests' default.</summary>
public sealed record PortalProcessOptions
{
    /// <summary>False starts a production install (issue 13): no demo city or users, the first-run setup link in the log.</summary>
    public bool DemoMode { get; init; } = true;

    /// <summary>Demo schools to seed; null keeps the portal's own default (420).</summary>
    public int? DemoSchoolCount { get; init; }

    /// <summary>Null keeps the portal's logging (Information); the benchmarks pass "Warning" to keep their output readable.</summary>
    public string? LogLevel { get; init; }

    /// <summary>Echo the portal's standard error to this process's (the benchmarks do, so a failure shows at once).</summary>
    public bool EchoErrors { get; init; }

    /// <summary>More command-line settings, e.g. <c>--Portal:CameraIdleTimeoutSeconds=2</c>.</summary>
    public IReadOnlyList<string> Arguments { get; init; } = [];
}

/// <summary>
/// A real portal process on 127.0.0.1 in demo mode (unless <see cref="PortalProcessOptions.DemoMode"/> is off), with its
/// own data folder, a free HTTP port and a free WebRTC UDP port (a portal running beside it holds 8555), started from
/// the Portal.dll built beside the caller. The one launcher of the tests and the benchmarks (issue #14 item 9). It can
/// be killed and started again on the same data folder (restart tests), or stopped with SIGTERM as a service manager
/// would (clean-exit tests).
/// </summary>
public sealed class PortalProcess : IAsyncDisposable
{
    /// <summary>Most log text kept for <see cref="Log"/>; the oldest half goes when it is reached.</summary>
    private const int MaxLogChars = 4 * 1024 * 1024;

    private readonly StringBuilder _log = new();
    private readonly PortalProcessOptions _options;
    private readonly bool _ownsFolder;
    private Process? _process;

    private PortalProcess(string dataFolder, int port, PortalProcessOptions options, bool ownsFolder)
    {
        DataFolder = dataFolder;
        SipPort = FreePorts.UdpAndTcp();
        BaseUrl = $"http://127.0.0.1:{port}";
        Db = new Db(Db.SqliteConnectionString(Path.Combine(dataFolder, "portal.db")), SqlDialect.Sqlite);
        _options = options;
        _ownsFolder = ownsFolder;
    }

    public string BaseUrl { get; }

    /// <summary>The portal's SIP port (UDP and TCP) on 127.0.0.1, where terminals register and call (issue 11).</summary>
    public int SipPort { get; }

    public string DataFolder { get; }

    /// <summary>The portal's own SQLite database, for tests that read what it wrote.</summary>
    public Db Db { get; }

    /// <summary>The running process, or null between <see cref="KillAsync"/> and <see cref="StartAgainAsync"/>.</summary>
    public Process? Process => _process;

    /// <summary>Everything the portal wrote to standard output and error (bounded).</summary>
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

    public static async Task<PortalProcess> StartAsync(PortalProcessOptions? options = null)
    {
        var folder = Path.Combine(Path.GetTempPath(), "portal-e2e-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        var portal = new PortalProcess(folder, FreePorts.Tcp(), options ?? new PortalProcessOptions(), ownsFolder: true);
        try
        {
            await portal.StartAgainAsync().ConfigureAwait(false);
        }
        catch
        {
            await portal.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return portal;
    }

    /// <summary>
    /// Waits until the portal has written a line matching <paramref name="pattern"/> (the first-run setup link, say)
    /// and returns the match; fails with the log when the process exits or <paramref name="timeout"/> passes first.
    /// </summary>
    public async Task<System.Text.RegularExpressions.Match> WaitForLogAsync(System.Text.RegularExpressions.Regex pattern, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (pattern.Match(Log) is { Success: true } match)
            {
                return match;
            }

            if (_process is not { HasExited: false } || clock.Elapsed > timeout)
            {
                throw new TimeoutException($"The portal's log never matched {pattern}:\n" + Log);
            }

            await Task.Delay(100).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// PORTAL_BENCH_PORTAL_ENV: environment variables for the portals the benchmarks start, and for them alone
    /// (NAME=value, space-separated), to weigh a runtime knob that has no setting (DOTNET_GCgen0size, ...) on the portal
    /// without the benchmark's own process and the cameras' taking it too. <paramref name="refused"/> names a pair that
    /// is not NAME=value (the pairs before it are returned).
    /// </summary>
    public static List<(string Name, string Value)> ExtraEnvironment(out string? refused)
    {
        refused = null;
        var pairs = new List<(string Name, string Value)>();
        foreach (var pair in (Environment.GetEnvironmentVariable("PORTAL_BENCH_PORTAL_ENV") ?? string.Empty).Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                refused = $"PORTAL_BENCH_PORTAL_ENV: '{pair}' is not NAME=value.";
                break;
            }

            pairs.Add((pair[..eq], pair[(eq + 1)..]));
        }

        return pairs;
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
        var arguments = new List<string> { Path.Combine(AppContext.BaseDirectory, "Portal.dll"), "--urls", BaseUrl, "--Portal:DemoMode=" + (_options.DemoMode ? "true" : "false"), "--Portal:WebRtcPort=0", "--Portal:DataFolder=" + DataFolder };
        // The SIP intercom on its own free port and any free RTP ports (two portals side by side must not share 5060).
        arguments.AddRange(["--Portal:Sip:BindAddress=127.0.0.1", "--Portal:Sip:Port=" + SipPort.ToString(CultureInfo.InvariantCulture), "--Portal:Sip:RtpPortMin=0", "--Portal:Sip:RtpPortMax=0"]);
        if (_options.DemoSchoolCount is { } schools)
        {
            arguments.Add("--Portal:DemoSchoolCount=" + schools.ToString(CultureInfo.InvariantCulture));
        }

        if (_options.LogLevel is { } level)
        {
            arguments.Add("--Logging:LogLevel:Default=" + level);
        }

        arguments.AddRange(_options.Arguments);
        foreach (var arg in arguments)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        var extra = ExtraEnvironment(out var refused);
        if (refused is not null)
        {
            throw new InvalidOperationException(refused); // Program refuses it before any scenario starts
        }

        foreach (var (name, value) in extra)
        {
            start.Environment[name] = value;
        }

        _process = Process.Start(start) ?? throw new InvalidOperationException("Could not start the portal.");
        _process.OutputDataReceived += (_, e) => Append(e.Data, error: false);
        _process.ErrorDataReceived += (_, e) => Append(e.Data, error: true);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) }; // a loaded machine answers the first request slowly (JIT)
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(120))
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException("The portal exited at start-up:\n" + Log);
            }

            try
            {
                if ((await http.GetAsync(new Uri(BaseUrl + "/healthz")).ConfigureAwait(false)).StatusCode == HttpStatusCode.OK)
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

            await Task.Delay(200).ConfigureAwait(false);
        }

        // Do not leave it running: every test that asks for the portal would start another one.
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync().ConfigureAwait(false);
        throw new TimeoutException("The portal did not answer /healthz within 120 s:\n" + Log);
    }

    /// <summary>
    /// Sends SIGTERM, as systemd or <c>docker stop</c> would, and waits for the process to end; returns its exit
    /// code (0 for a clean stop; 134 is SIGABRT). Kills it if it has not ended within <paramref name="timeout"/>.
    /// </summary>
    public async Task<int> TerminateAsync(TimeSpan timeout)
    {
        var process = _process ?? throw new InvalidOperationException("The portal is not running.");
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS())
        {
            throw new PlatformNotSupportedException("SIGTERM needs a Unix system.");
        }

        if (Kill(process.Id, SigTerm) != 0)
        {
            throw new InvalidOperationException("kill(SIGTERM) failed: errno " + Marshal.GetLastPInvokeError().ToString(CultureInfo.InvariantCulture));
        }

        using var wait = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(wait.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync().ConfigureAwait(false);
            throw new TimeoutException($"The portal did not stop within {timeout.TotalSeconds:0} s of SIGTERM:\n" + Log);
        }

        var code = process.ExitCode;
        process.Dispose();
        _process = null;
        return code;
    }

    /// <summary>Kills the process at once, as a crash or power cut would.</summary>
    public async Task KillAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync().ConfigureAwait(false);
        }

        _process?.Dispose();
        _process = null;
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync().ConfigureAwait(false);
        if (_ownsFolder)
        {
            try
            {
                Directory.Delete(DataFolder, recursive: true);
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
    }

    private void Append(string? line, bool error)
    {
        if (line is null)
        {
            return;
        }

        if (error && _options.EchoErrors)
        {
            Console.Error.WriteLine("portal: " + line);
        }

        lock (_log)
        {
            if (_log.Length > MaxLogChars)
            {
                _log.Remove(0, _log.Length / 2);
            }

            _log.AppendLine(line);
        }
    }

    private const int SigTerm = 15;

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);
}
