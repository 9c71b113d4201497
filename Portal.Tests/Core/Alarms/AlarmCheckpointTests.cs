using Dapper;
using Microsoft.Data.Sqlite;
using Portal.Core.Alarms;
using Xunit;

namespace Portal.Tests.Core.Alarms;

/// <summary>
/// The WAL checkpoint keeps out of the alarm writer's way: while alarms are being committed it waits (its syncs share
/// the file system's journal with the writer's), for at most <see cref="AlarmIntake.CheckpointMaxDelay"/>, and runs
/// once the writer has been quiet for <see cref="AlarmIntake.CheckpointQuiet"/>. What a checkpoint did is read from
/// the database file itself, without its WAL (SQLite's immutable mode).
/// </summary>
public sealed class AlarmCheckpointTests : IAsyncLifetime
{
    private AlarmTestCity _city = default!;

    public ValueTask InitializeAsync()
    {
        _city = new AlarmTestCity();
        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync() => _city.DisposeAsync();

    [Theory]
    [InlineData(500, null, false)] // within the interval
    [InlineData(1000, null, true)] // nothing written by the writer yet: the interval alone
    [InlineData(1000, 1000, true)] // the writer is quiet
    [InlineData(1000, 249, false)] // alarms are being written: wait
    [InlineData(1999, 10, false)]
    [InlineData(2000, 10, true)] // but not for long
    public void CheckpointDue_FollowsTheWriter(int sinceCheckpointMs, int? sinceCommitMs, bool due) =>
        Assert.Equal(due, AlarmIntake.CheckpointDue(TimeSpan.FromMilliseconds(sinceCheckpointMs), sinceCommitMs is { } c ? TimeSpan.FromMilliseconds(c) : null));

    [Fact]
    public async Task Checkpoint_WaitsWhileAlarmsAreWritten_RunsOnceTheWriterIsQuiet()
    {
        var ct = TestContext.Current.CancellationToken;
        var (school, terminal) = await _city.SchoolInDistrictAsync("370202");
        var first = await PressAsync(school, terminal, ct);

        // An alarm every 200 ms for 1.6 s: past the checkpoint interval, never quiet for 250 ms.
        var last = first;
        for (var i = 0; i < 8; i++)
        {
            _city.Time.Advance(TimeSpan.FromMilliseconds(200));
            last = await PressAsync(school, terminal, ct);
        }

        await Task.Delay(500, ct); // any checkpoint the ticks above started has finished by now
        Assert.False(await InDatabaseFileAsync(first), "a checkpoint ran while alarms were being written");

        // Quiet: past two of the checkpointer's 250 ms ticks, so at least one of them finds the last commit 250 ms or
        // more behind whenever its continuation reads the clock (one tick can run while the clock is still at its due
        // time, 150 ms after the last commit).
        _city.Time.Advance(TimeSpan.FromMilliseconds(600));
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!await InDatabaseFileAsync(last) && clock.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(50, ct);
        }

        Assert.True(await InDatabaseFileAsync(first) && await InDatabaseFileAsync(last), "no checkpoint after the writer went quiet");
    }

    private async Task<int> PressAsync(global::Portal.Core.Schools.School school, global::Portal.Core.Devices.Device terminal, CancellationToken ct)
    {
        // The terminal's later presses join its open alarm (the same id): each is a commit of the writer all the same.
        var receipt = await _city.Intake.SubmitAsync(new AlarmSignal(school.Id, school.DistrictId, terminal.Id, AlarmSource.DeviceApi, false, false, null), ct)
            .WaitAsync(TimeSpan.FromSeconds(10), ct);
        return receipt.AlarmId;
    }

    /// <summary>Whether the alarm is in the database file proper (checkpointed), not only in its WAL.</summary>
    private async Task<bool> InDatabaseFileAsync(int alarmId)
    {
        await using var file = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = "file:" + _city.Database.Path + "?immutable=1",
            Mode = SqliteOpenMode.ReadOnly,
            Pooling = false,
        }.ToString());
        await file.OpenAsync();
        if (await file.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM sqlite_master WHERE name = 'Alarm'") == 0)
        {
            return false; // even the schema is only in the WAL still
        }

        return await file.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM Alarm WHERE Id = @alarmId", new { alarmId }) == 1;
    }
}
