using System.Diagnostics;
using Portal.Core.Demo;

namespace Portal.Benchmarks.Harness;

/// <summary>
/// <c>Portal.Simulator camera --fleet</c> as a child process (the simulator is built beside this program): every
/// demo camera on its own path, taken down by a line on its standard input; it ends when that input closes. The health
/// benchmark probes it; the alarm benchmark's portal pulls its gate cameras from it, as a city's portal pulls cameras on
/// the network (in the portal's own process, the simulated cameras' work was counted as the portal's).
/// </summary>
public sealed class FleetProcess : IDisposable
{
    private FleetProcess(Process process, string rtsp, string onvif) => (Process, RtspBase, OnvifBase) = (process, rtsp, onvif);

    public Process Process { get; }

    public string RtspBase { get; }

    public string OnvifBase { get; }

    public static async Task<FleetProcess> StartAsync()
    {
        var simulator = Path.Combine(AppContext.BaseDirectory, "Portal.Simulator.dll");
        if (!File.Exists(simulator))
        {
            throw new InvalidOperationException($"The camera simulator is not built beside the benchmark ({simulator}).");
        }

        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { simulator, "camera", "--fleet", "--host", "127.0.0.1", "--rtsp-port", "0", "--onvif-port", "0", "--user", "admin", "--password", DemoCity.DemoDevicePassword })
        {
            start.ArgumentList.Add(arg);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("The camera simulator did not start.");
        using var ready = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            while (await process.StandardOutput.ReadLineAsync(ready.Token).ConfigureAwait(false) is { } line)
            {
                if (line.StartsWith("ready ", StringComparison.Ordinal))
                {
                    var fields = line[6..].Split(' ').Select(f => f.Split('=', 2)).ToDictionary(f => f[0], f => f[1]);
                    return new FleetProcess(process, fields["rtsp"], fields["onvif"]);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }

        process.Kill(entireProcessTree: true);
        throw new InvalidOperationException("The camera simulator did not say it was ready within 60 s (its errors are above).");
    }

    /// <summary>Sets one camera's availability and waits for the simulator to confirm it.</summary>
    public async Task SetAsync(string name, string availability, CancellationToken ct)
    {
        await Process.StandardInput.WriteLineAsync(name + " " + availability).ConfigureAwait(false);
        await Process.StandardInput.FlushAsync(ct).ConfigureAwait(false);
        var answer = await Process.StandardOutput.ReadLineAsync(ct).ConfigureAwait(false);
        if (answer != "ok " + name)
        {
            throw new InvalidOperationException($"The camera simulator answered '{answer}' to '{name} {availability}'.");
        }
    }

    public void Dispose()
    {
        try
        {
            Process.StandardInput.Close(); // it stops at the end of its input
            if (!Process.WaitForExit(10_000))
            {
                Process.Kill(entireProcessTree: true);
            }
        }
        finally
        {
            Process.Dispose();
        }
    }
}
