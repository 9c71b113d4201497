using System.Diagnostics;
using Dapper;
using Microsoft.Data.Sqlite;
using Portal.Core.Alarms;
using Portal.Core.Data;
using Portal.Core.Devices;
using Xunit;

namespace Portal.Tests.Core.Alarms;

/// <summary>
/// The background writes (the sightings' flush, the first-sighting marks, the health checks) write in short
/// transactions and give way to the alarm writer before each (<see cref="Db.GiveWayAsync"/>): while it waits for
/// SQLite's write lock, and through a burst of presses, but never for longer than <see cref="Db.MaxGiveWay"/>.
/// </summary>
public sealed class BackgroundWriteTests : IAsyncLifetime
{
    private AlarmTestCity _city = default!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync()
    {
        _city = new AlarmTestCity();
        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync() => _city.DisposeAsync();

    [Fact]
    public async Task GiveWay_WhileThePressWaitsForTheLock_WaitsUntilTheWriterHasIt()
    {
        var db = _city.Database.Db;
        var (other, otherTx, press) = await PressWhileTheLockIsTakenAsync("370202");
        await using (other)
        {
            var clock = Stopwatch.StartNew();
            var giveWay = db.GiveWayAsync(Ct);
            await Task.Delay(200, Ct);

            // Done by now only if this thread came back after the give-way's own limit (a slow machine), not before.
            Assert.True(!giveWay.IsCompleted || clock.Elapsed >= Db.MaxGiveWay, "a background write went ahead while a press waited for the lock");

            await otherTx.CommitAsync(Ct);
            await otherTx.DisposeAsync();
            await press.WaitAsync(TimeSpan.FromSeconds(10), Ct);
            await giveWay.WaitAsync(TimeSpan.FromSeconds(5), Ct);
            Assert.False(db.AlarmsFirst);
        }
    }

    [Fact]
    public async Task GiveWay_WhenTheWriterKeepsWaiting_GoesOnAfterMaxGiveWay()
    {
        var db = _city.Database.Db;
        var (other, otherTx, press) = await PressWhileTheLockIsTakenAsync("370203");
        await using (other)
        {
            // The lock stays taken (by something else than the background writes): they slow down, they do not stop.
            var clock = Stopwatch.StartNew();
            await db.GiveWayAsync(Ct).WaitAsync(TimeSpan.FromSeconds(10), Ct);
            Assert.InRange(clock.Elapsed, Db.MaxGiveWay - TimeSpan.FromMilliseconds(50), TimeSpan.FromSeconds(10));
            Assert.True(db.AlarmsFirst, "the writer stopped waiting although the lock is still taken");

            await otherTx.CommitAsync(Ct);
            await otherTx.DisposeAsync();
            await press.WaitAsync(TimeSpan.FromSeconds(10), Ct);
        }
    }

    [Fact]
    public async Task GiveWay_AfterABatchOfSeveralPresses_WaitsOutTheBurst()
    {
        var db = new Db(_city.Database.Db.ConnectionString, SqlDialect.Sqlite);
        Assert.False(db.AlarmsFirst);

        db.AlarmWriterBatch(1);
        Assert.False(db.AlarmsFirst, "one press in a batch is no burst");

        // The clock starts before the batch, so the wait it measures cannot come out short on a slow machine.
        var clock = Stopwatch.StartNew();
        db.AlarmWriterBatch(40);
        await db.GiveWayAsync(Ct).WaitAsync(TimeSpan.FromSeconds(10), Ct);
        Assert.True(clock.Elapsed >= Db.BurstQuiet, $"gave way for {clock.Elapsed.TotalMilliseconds:0} ms only");
        Assert.False(db.AlarmsFirst);
    }

    [Fact]
    public void GiveWay_OnSqlServer_IsDoneAtOnce()
    {
        var db = new Db("Server=127.0.0.1;Database=unused", SqlDialect.SqlServer);
        db.AlarmWriterBatch(40);
        Assert.True(db.GiveWayAsync(Ct).IsCompletedSuccessfully, "SQL Server has row locks: nothing to give way for");
    }

    [Fact]
    public async Task SetLastSeen_MoreSightingsThanOneTransactionHolds_WritesEveryOne()
    {
        await using var city = new AlarmTestCity(schools: 150);
        await using var connection = city.Database.Db.Open();
        var ids = (await connection.QueryAsync<int>("SELECT Id FROM Device ORDER BY Id")).ToList();
        Assert.True(ids.Count > 2 * DeviceRepository.MaxSightingsPerTransaction, $"only {ids.Count} devices");

        var seen = city.Time.GetUtcNow().UtcDateTime.AddMinutes(3);
        var heartbeat = seen.AddSeconds(-1);
        await city.Devices.SetLastSeenAsync([.. ids.Select(id => (id, seen, (DateTime?)heartbeat))], Ct);

        Assert.Equal(ids, await connection.QueryAsync<int>(
            "SELECT Id FROM Device WHERE LastSeenUtc = @seen AND LastHeartbeatUtc = @heartbeat ORDER BY Id", new { seen, heartbeat }));
    }

    [Fact]
    public async Task FirstSightings_MoreThanOneBatchHolds_AreAllMarkedConnected()
    {
        await using var city = new AlarmTestCity(schools: 150);
        await using var connection = city.Database.Db.Open();
        var ids = (await connection.QueryAsync<int>("SELECT Id FROM Device WHERE InstallState < @Connected ORDER BY Id",
            new { Connected = (int)DeviceInstallState.Connected })).ToList();
        Assert.True(ids.Count > 2 * DevicePresence.MaxFirstSeenBatch, $"only {ids.Count} devices not yet seen");

        foreach (var id in ids)
        {
            city.Presence.Seen((await city.Devices.GetByIdAsync(id, Ct))!);
        }

        await WaitUntilAsync(() => connection.ExecuteScalar<int>("SELECT COUNT(*) FROM Device WHERE Id IN @ids AND InstallState >= @Connected",
            new { ids, Connected = (int)DeviceInstallState.Connected }) == ids.Count, "not every device seen was marked Connected");
    }

    [Fact]
    public async Task FirstSightingMark_SkipsItsOwnSync_AndTheConnectionGoesBackToThePoolWithItsSyncs()
    {
        var db = _city.Database.Db;
        await using (var connection = db.Open())
        {
            await connection.OpenAsync(Ct);
            Assert.Equal(2, await connection.ExecuteScalarAsync<int>("PRAGMA synchronous;"));
            var level = await db.DeferSyncAsync(connection, Ct);
            Assert.Equal(2, level);
            Assert.Equal(1, await connection.ExecuteScalarAsync<int>("PRAGMA synchronous;"));
            await Db.RestoreSyncAsync(connection, level);
        }

        // The mark itself commits, and the connection it used (the pool lends the same one next) syncs again.
        var id = await ScalarAsync("SELECT Id FROM Device WHERE InstallState < 2 ORDER BY Id LIMIT 1");
        await _city.Installation.MarkDevicesSeenAsync([id], Ct);
        Assert.Equal(2, await ScalarAsync("SELECT InstallState FROM Device WHERE Id = " + id));
        Assert.Equal(2, await ScalarAsync("PRAGMA synchronous;"));
    }

    private async Task<int> ScalarAsync(string sql)
    {
        await using var connection = _city.Database.Db.Open();
        return await connection.ExecuteScalarAsync<int>(sql);
    }

    /// <summary>
    /// Another connection takes the write lock (as a background write would) and a press of a school in
    /// <paramref name="districtCode"/> is submitted; returns once the alarm writer says it waits for the lock.
    /// </summary>
    private async Task<(SqliteConnection Other, SqliteTransaction OtherTx, Task<AlarmReceipt> Press)> PressWhileTheLockIsTakenAsync(string districtCode)
    {
        var (school, terminal) = await _city.SchoolInDistrictAsync(districtCode);
        var other = (SqliteConnection)_city.Database.Db.Open();
        await other.OpenAsync(Ct);
        var otherTx = other.BeginTransaction(deferred: false);
        await other.ExecuteAsync("UPDATE Device SET Model = Model WHERE Id = @Id", new { terminal.Id }, otherTx);

        var press = _city.Intake.SubmitAsync(new AlarmSignal(school.Id, school.DistrictId, terminal.Id, AlarmSource.DeviceApi, false, false, null), Ct);
        await WaitUntilAsync(() => _city.Database.Db.AlarmsFirst, "the writer never said it waits for the lock");
        return (other, otherTx, press);
    }

    private static async Task WaitUntilAsync(Func<bool> condition, string failure)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), failure);
            await Task.Delay(5, Ct);
        }
    }
}
