using System.Diagnostics;
using System.Globalization;
using Dapper;
using Portal.Core.Demo;
using Xunit;

namespace Portal.Tests.Portal;

/// <summary>
/// Interop with a third-party user agent (issue 11): Debian's SIPp (package sip-tester) plays an alarm terminal against
/// a portal's SIP port, from the scenarios in TestData/Sipp. SIPp answers only the topmost digest challenge and computes
/// only MD5, like many terminals in the field, so it meets a portal of its own set as the README tells for such
/// terminals (Portal:Sip:DigestAlgorithms=MD5); the default offers SHA-256 first.
/// </summary>
[Trait("Category", "Intercom")]
public sealed class SippInteropTests(SippInteropTests.Md5Portal fixture) : IClassFixture<SippInteropTests.Md5Portal>
{
    private const string Sipp = "/usr/bin/sipp";

    [Fact(Timeout = 120_000)]
    public async Task Sipp_RegistersWithDigest()
    {
        var portal = await fixture.GetPortalAsync();
        var (exit, output) = await RunAsync(portal, "register-digest.xml", "terminal-00004");
        Assert.True(exit == 0, output);
    }

    [Fact(Timeout = 120_000)]
    public async Task Sipp_PressesWithPcmuAndH264_Rings_Cancels_AlarmStaysOpen()
    {
        const string Account = "terminal-00005";
        var portal = await fixture.GetPortalAsync();
        var (exit, output) = await RunAsync(portal, "press-cancel.xml", Account);
        Assert.True(exit == 0, output);

        await using var connection = portal.Db.Open();
        var open = await connection.QuerySingleAsync<(int Source, int State)>(
            "SELECT a.Source, a.State FROM Alarm a JOIN Device d ON d.Id = a.DeviceId WHERE d.SipAccount = @Account AND a.State < 3", new { Account });
        Assert.Equal((0, 0), open); // a SIP alarm, still ringing at the centre after the terminal let go
    }

    private static async Task<(int Exit, string Output)> RunAsync(PortalProcess portal, string scenario, string account)
    {
        Assert.True(File.Exists(Sipp), $"{Sipp} is not installed: run scripts/install-test-deps.sh (apt-get install -y sip-tester).");
        var folder = Path.Combine(Path.GetTempPath(), "sipp-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        try
        {
            var users = Path.Combine(folder, "users.csv");
            await File.WriteAllTextAsync(users, $"SEQUENTIAL\n{account};[authentication username={account} password={DemoCity.DemoSipPassword(account)}]\n", TestContext.Current.CancellationToken);
            var start = new ProcessStartInfo(Sipp)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
                WorkingDirectory = folder,
            };
            foreach (var arg in new[]
            {
                "127.0.0.1:" + portal.SipPort.ToString(CultureInfo.InvariantCulture), "-sf", Path.Combine(AppContext.BaseDirectory, "TestData", "Sipp", scenario),
                "-inf", users, "-i", "127.0.0.1", "-p", FreePorts.UdpAndTcp().ToString(CultureInfo.InvariantCulture), "-m", "1", "-nostdin", "-timeout", "60s", "-timeout_error", "-trace_err", "-error_file", Path.Combine(folder, "errors.log"),
            })
            {
                start.ArgumentList.Add(arg);
            }

            using var process = Process.Start(start)!;
            var stdout = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
            var stderr = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
            await process.WaitForExitAsync(TestContext.Current.CancellationToken);
            var errors = Path.Combine(folder, "errors.log");
            var log = File.Exists(errors) ? await File.ReadAllTextAsync(errors, TestContext.Current.CancellationToken) : string.Empty;
            return (process.ExitCode, $"sipp exit {process.ExitCode}\n{await stderr}\n{log}\n{(await stdout)[^Math.Min(4000, (await stdout).Length)..]}");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>A small demo portal of the SIPp tests' own, offering MD5 digest only.</summary>
    public sealed class Md5Portal : IAsyncDisposable
    {
        private readonly SemaphoreSlim _gate = new(1, 1);
        private PortalProcess? _portal;

        public async Task<PortalProcess> GetPortalAsync()
        {
            await _gate.WaitAsync();
            try
            {
                return _portal ??= await PortalProcess.StartAsync(new PortalProcessOptions { DemoSchoolCount = 20, Arguments = ["--Portal:Sip:DigestAlgorithms=MD5", "--Portal:Sip:DemoTerminals=0"] });
            }
            finally
            {
                _gate.Release();
            }
        }

        public async ValueTask DisposeAsync()
        {
            if (_portal is not null)
            {
                await _portal.DisposeAsync();
            }

            _gate.Dispose();
        }
    }
}
