using Dapper;
using Portal.Core.Devices;
using Portal.Core.Health;
using Xunit;

namespace Portal.Tests.Core.Health;

public sealed class HealthRepositoryTests
{
    /// <summary>
    /// A cycle's changes are written in transactions of at most <see cref="HealthRepository.MaxChangesPerTransaction"/>
    /// (issue 15: one transaction for every camera of a city held the alarms' write lock); every change of a cycle larger
    /// than two of them still lands whole: its row, its history and its published state.
    /// </summary>
    [Fact]
    public async Task WriteAsync_MoreChangesThanOneTransactionHolds_WritesEveryChangeWhole()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var city = new HealthCity(schools: 80);
        await city.Repository.EnsureRowsAsync(city.Now, ct);
        await using var connection = city.Database.Db.Open();
        var ids = (await connection.QueryAsync<int>("SELECT DeviceId FROM DeviceHealth ORDER BY DeviceId")).ToList();
        Assert.True(ids.Count > 2 * HealthRepository.MaxChangesPerTransaction, $"only {ids.Count} devices with a health row");

        var now = city.Now;
        var changes = ids.Select(id => new HealthChange(id, new DeviceHealthRecord { State = DeviceHealthState.Offline, StateSinceUtc = now, Misses = 3 },
            DeviceHealthState.Unknown, Publish: true)).ToList();
        await city.Repository.WriteAsync(changes, now, ct);

        Assert.Equal(ids.Count, await connection.ExecuteScalarAsync<int>("SELECT COUNT(*) FROM DeviceHealth WHERE State = 3 AND Misses = 3"));
        Assert.Equal(ids, await connection.QueryAsync<int>("SELECT DeviceId FROM DeviceHealthEvent WHERE FromState = 0 AND ToState = 3 ORDER BY DeviceId"));
        Assert.Equal(ids.Count, await connection.ExecuteScalarAsync<int>("SELECT COUNT(*) FROM Device WHERE HealthState = 3 AND Id IN @ids", new { ids }));
    }

    /// <summary>
    /// With every device's row there, the start of a cycle only reads: it finishes while another connection holds SQLite's
    /// write lock (issue 15: the insert's scan of every device held that lock at every cycle's start while alarms waited).
    /// A city's first cycle gives every device its row, over several of its ranges; a device added since gets its row.
    /// </summary>
    [Fact]
    public async Task EnsureRowsAsync_EveryRowThere_OnlyReads_ThenANewDeviceGetsItsRow()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var city = new HealthCity(schools: 2 * HealthRepository.MaxRowsPerInsert);
        var created = await city.Repository.EnsureRowsAsync(city.Now, ct);
        await using (var check = city.Database.Db.Open())
        {
            // More rows than two of its ranges hold: the ranges together cover every checked device.
            Assert.True(created > 2 * HealthRepository.MaxRowsPerInsert, $"only {created} rows");
            Assert.Equal(created, await check.ExecuteScalarAsync<int>("SELECT COUNT(*) FROM DeviceHealth"));
            Assert.Equal(0, await check.ExecuteScalarAsync<int>("SELECT COUNT(*) FROM Device d WHERE d.Enabled = 1 AND d.InstallState >= 1 AND NOT EXISTS (SELECT 1 FROM DeviceHealth h WHERE h.DeviceId = d.Id)"));
        }

        await using (var holder = await city.Database.Db.OpenAsync(ct))
        {
            await using var tx = holder.BeginTransaction(); // Microsoft.Data.Sqlite: BEGIN IMMEDIATE, the write lock
            await holder.ExecuteAsync("UPDATE Device SET Enabled = Enabled WHERE Id = (SELECT MIN(Id) FROM Device)", transaction: tx);
            Assert.Equal(0, await city.Repository.EnsureRowsAsync(city.Now, ct).WaitAsync(TimeSpan.FromSeconds(5), ct));
        }

        await using var connection = city.Database.Db.Open();
        var device = await connection.ExecuteScalarAsync<int>("SELECT MIN(DeviceId) FROM DeviceHealth");
        await connection.ExecuteAsync("DELETE FROM DeviceHealth WHERE DeviceId = @device", new { device });
        Assert.Equal(1, await city.Repository.EnsureRowsAsync(city.Now, ct));
        Assert.Equal(1, await connection.ExecuteScalarAsync<int>("SELECT COUNT(*) FROM DeviceHealth WHERE DeviceId = @device", new { device }));
    }
}
