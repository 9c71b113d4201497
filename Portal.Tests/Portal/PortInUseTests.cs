using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Portal.Hosting;
using Xunit;

namespace Portal.Tests.Portal;

/// <summary>Issue #14: a start on a port another program holds exits with a clear message and a non-zero code, not an abort.</summary>
[Trait("Category", "Integration")]
public sealed class PortInUseTests
{
    [Fact(Timeout = 180_000)]
    public async Task Start_OnAPortInUse_ExitsWithAClearMessage()
    {
        using var holder = new TcpListener(IPAddress.Loopback, 0);
        holder.Start();
        var port = ((IPEndPoint)holder.LocalEndpoint).Port;
        var folder = Path.Combine(Path.GetTempPath(), "portal-port-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        try
        {
            var start = new ProcessStartInfo("dotnet")
            {
                WorkingDirectory = AppContext.BaseDirectory,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (var arg in new[] { Path.Combine(AppContext.BaseDirectory, "Portal.dll"), "--urls", $"http://127.0.0.1:{port}", "--Portal:WebRtcPort=0", "--Portal:DataFolder=" + folder })
            {
                start.ArgumentList.Add(arg);
            }

            start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
            using var process = Process.Start(start)!;
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(150));
            await process.WaitForExitAsync(timeout.Token);

            var stderr = await error;
            Assert.Equal(PortInUse.ExitCode, process.ExitCode);
            Assert.Contains($"http://127.0.0.1:{port} is already in use", stderr, StringComparison.Ordinal);
            Assert.DoesNotContain("Unhandled exception", stderr + await output, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
