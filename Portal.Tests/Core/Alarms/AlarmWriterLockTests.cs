using Dapper;
using Microsoft.Data.Sqlite;
using Portal.Core.Alarms;
using Xunit;

namespace Portal.Tests.Core.Alarms;

/// <summary>
/// The alarm writer takes SQLite's write lock itself (<see cref="WriterTransaction"/>): it waits while another
/// connection holds the lock, asking again every millisecond rather than through SQLite's growing busy sleeps, and a
/// failed batch leaves no transaction open on its connection.
/// </summary>
public sealed class AlarmWriterLockTests : IAsyncLifetime
{
    private AlarmTestCity _city = default!;

    public ValueTask InitializeAsync()
    {
        _city = new AlarmTestCity();
        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync() => _city.DisposeAsync();

    [Fact]
    public async Task Submit_WhileAnotherConnectionHoldsTheWriteLock_AsksAgainAndCommitsOnceItIsFree()
    {
        var ct = TestContext.Current.CancellationToken;
        var (school, terminal) = await _city.SchoolInDistrictAsync("370202");

        // Another writer (a health cycle, a first sighting) in the middle of its transaction.
        await using var other = (SqliteConnection)_city.Database.Db.Open();
        await other.OpenAsync(ct);
        await using var otherTx = other.BeginTransaction(deferred: false);
        await other.ExecuteAsync("UPDATE Device SET Model = Model WHERE Id = @Id", new { terminal.Id }, otherTx);

        var retriesBefore = _city.Intake.LockRetries;
        var press = _city.Intake.SubmitAsync(new AlarmSignal(school.Id, school.DistrictId, terminal.Id, AlarmSource.DeviceApi, false, false, "127.0.0.1"), ct);

        // The writer asks again and again (bounded wait: a failure, not a hang, if it never does) and answers nobody meanwhile.
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (_city.Intake.LockRetries < retriesBefore + 5 && waited.Elapsed < TimeSpan.FromSeconds(5))
        {
            await Task.Delay(5, ct);
        }

        Assert.True(_city.Intake.LockRetries >= retriesBefore + 5, "the writer did not ask for the lock again while it was taken");
        Assert.False(press.IsCompleted, "an alarm was answered before it could be committed");

        await otherTx.CommitAsync(ct);
        var receipt = await press.WaitAsync(TimeSpan.FromSeconds(10), ct);
        var view = await _city.Repository.GetViewAsync(receipt.AlarmId, ct);
        Assert.NotNull(view);
        Assert.Equal(AlarmState.Ringing, view.State);
    }

    [Fact]
    public async Task FailedBatch_IsRolledBack_AndTheNextAlarmIsWritten()
    {
        var ct = TestContext.Current.CancellationToken;
        var (school, terminal) = await _city.SchoolInDistrictAsync("370203");

        // A school that does not exist breaks the foreign key: that signal fails alone, its caller is told.
        var bad = _city.Intake.SubmitAsync(new AlarmSignal(999_999, school.DistrictId, null, AlarmSource.DeviceApi, false, false, null), ct);
        await Assert.ThrowsAsync<SqliteException>(() => bad.WaitAsync(TimeSpan.FromSeconds(10), ct));

        // No transaction was left open on the writer's connection: the next alarm commits and another connection sees it.
        var receipt = await _city.Intake.SubmitAsync(new AlarmSignal(school.Id, school.DistrictId, terminal.Id, AlarmSource.DeviceApi, false, false, null), ct)
            .WaitAsync(TimeSpan.FromSeconds(10), ct);
        await using var reader = _city.Database.Db.Open();
        Assert.Equal(1, await reader.ExecuteScalarAsync<int>("SELECT COUNT(*) FROM Alarm WHERE Id = @Id", new { Id = receipt.AlarmId }));
        Assert.Equal(0, await reader.ExecuteScalarAsync<int>("SELECT COUNT(*) FROM Alarm WHERE SchoolId = 999999"));
    }
}
