using System.Net;
using Dapper;
using Portal.Core.Demo;
using Portal.Simulator.Terminals;
using Xunit;

namespace Portal.Tests.Portal;

/// <summary>
/// Issue 15 item 7 through the real device API: a burst of signed presses, the portal killed (as a crash would) the
/// moment the last device has its answer. Every alarm a device was told about is in the database afterwards: the
/// answer comes only after the alarm's commit, however many alarms shared that commit.
/// </summary>
[Trait("Category", "Integration")]
public sealed class AlarmBurstCrashTests
{
    private const int Presses = 400;

    [Fact]
    public async Task Burst_KilledOnceEveryDeviceHasItsAnswer_EveryAnsweredAlarmIsStored()
    {
        // All 400 terminals press from this one address: the per-address limit (issue 14) is lifted, as behind a police
        // network's NAT where the README says to raise it; the per-device limit still holds.
        await using var own = await PortalProcess.StartAsync(new PortalProcessOptions
        {
            DemoSchoolCount = Presses + 10,
            Arguments = ["--Portal:DeviceRateLimits:PerAddressBurst=1000000", "--Portal:DeviceRateLimits:PerAddressPerSecond=1000000"],
        });
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = Presses }) { BaseAddress = new Uri(own.BaseUrl), Timeout = TimeSpan.FromSeconds(120) };

        // Every terminal presses at once: one alarm each.
        var presses = await Task.WhenAll(Enumerable.Range(0, Presses).Select(i =>
        {
            var serial = DemoCity.TerminalSerial(i);
            return new SignedAlarmClient(http, serial, DemoCity.DemoApiKeyPrefix + serial).PressAsync(ct: TestContext.Current.CancellationToken);
        }));
        await own.KillAsync();

        Assert.All(presses, p => Assert.Equal(HttpStatusCode.Created, p.Status));
        var ids = presses.Select(DemoPress.AlarmId).ToList();
        Assert.Equal(Presses, ids.Distinct().Count());

        // The process is gone; SQLite recovers the database from its write-ahead log on the next open.
        await using var connection = own.Db.Open();
        Assert.Equal(Presses, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM Alarm WHERE Id IN @ids", new { ids }));
        Assert.Equal(Presses, await connection.ExecuteScalarAsync<long>("SELECT COUNT(DISTINCT DeviceId) FROM Alarm WHERE Id IN @ids", new { ids }));
    }
}
