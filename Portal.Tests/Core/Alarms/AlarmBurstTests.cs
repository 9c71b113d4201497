using Dapper;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Time.Testing;
using Portal.Alarms;
using Portal.Core.Alarms;
using Portal.Core.Security;
using Portal.Core.Threading;
using Xunit;

namespace Portal.Tests.Core.Alarms;

/// <summary>
/// Issue 15 item 7: a burst of presses is committed many alarms to a transaction, each caller hears back only once
/// its alarm is committed by a durable writer, every alarm reaches every console whose scope covers it (once, in
/// order), and a device's answer never waits on a console. Counted and checked here, not timed: the alarm benchmark
/// prints how long it takes.
/// </summary>
// One collection with the other tests that set OsThreadPriority's process-wide levels: never side by side.
[Collection("Thread priorities")]
public sealed class AlarmBurstTests : IAsyncLifetime
{
    private const int Burst = 1000;

    // A bound against a hang only; nothing here waits for a time to pass.
    private static readonly TimeSpan HangBound = TimeSpan.FromSeconds(60);

    private AlarmTestCity _city = default!;

    public ValueTask InitializeAsync()
    {
        _city = new AlarmTestCity();
        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync() => _city.DisposeAsync();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private async Task<List<(int SchoolId, int DistrictId)>> SchoolsAsync()
    {
        await using var connection = _city.Database.Db.Open();
        return [.. (await connection.QueryAsync<(long Id, long DistrictId)>("SELECT Id, DistrictId FROM School ORDER BY Id")).Select(s => ((int)s.Id, (int)s.DistrictId))];
    }

    // Without a device (as a test started in the portal) every signal is an alarm of its own: the demo city's 30
    // schools give a burst of 1,000 distinct alarms.
    private static AlarmSignal Signal((int SchoolId, int DistrictId) s) =>
        new(s.SchoolId, s.DistrictId, null, AlarmSource.PortalTest, false, false, "127.0.0.1");

    private static (int SchoolId, int DistrictId) Nth(List<(int SchoolId, int DistrictId)> schools, int i) => schools[i % schools.Count];

    [Fact]
    public async Task Burst_NoCallerHearsBackBeforeTheCommit_AThousandAlarmsGoInAFewDurableTransactions()
    {
        var schools = await SchoolsAsync();
        var batchesBefore = _city.Intake.BatchesStarted;

        // Another connection holds SQLite's write lock, so nothing can commit: the writer takes the first signal and
        // waits inside its transaction; the other 999 queue behind it, as a burst does behind a sync.
        await using var blocker = new SqliteConnection(_city.Database.Db.ConnectionString);
        await blocker.OpenAsync(Ct);
        await blocker.ExecuteAsync("BEGIN IMMEDIATE;");
        var tasks = new List<Task<AlarmReceipt>> { _city.Intake.SubmitAsync(Signal(Nth(schools, 0)), Ct) };
        while (_city.Intake.BatchesStarted == batchesBefore)
        {
            await Task.Delay(5, Ct);
        }

        for (var i = 1; i < Burst; i++)
        {
            tasks.Add(_city.Intake.SubmitAsync(Signal(Nth(schools, i)), Ct));
        }

        // Not one caller is told "stored" while nothing can have been stored.
        Assert.DoesNotContain(tasks, t => t.IsCompleted);
        Assert.Equal(0, await blocker.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM Alarm"));

        await blocker.ExecuteAsync("ROLLBACK;");
        var receipts = await Task.WhenAll(tasks).WaitAsync(HangBound, Ct);

        // Every caller has its own alarm, and each is there, read over another connection.
        var ids = receipts.Select(r => r.AlarmId).ToList();
        Assert.All(receipts, r => Assert.False(r.Joined || r.Replay || r.NoCentre));
        Assert.Equal(Burst, ids.Distinct().Count());
        await using var connection = _city.Database.Db.Open();
        Assert.Equal(Burst, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM Alarm WHERE Id IN @ids", new { ids }));
        Assert.Equal(Burst, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM AlarmEvent WHERE Kind = @Raised AND AlarmId IN @ids", new { ids, Raised = (int)AlarmEventKind.Raised }));

        // Group commit: the first batch, then the 999 that waited, at most 256 to a transaction (not 1,000 commits).
        var batches = _city.Intake.BatchesStarted - batchesBefore;
        Assert.InRange(batches, 2, 1 + ((Burst - 1 + 255) / 256));

        // And each of those commits is synced before its callers hear back: the writer runs with synchronous=FULL.
        Assert.Equal(2, _city.Intake.WriterSynchronous);
    }

    [Fact]
    public async Task Burst_ARealtimeWriter_SharesTheCoresForTheBurst_ThenTakesItsPriorityBack()
    {
        // Whether this machine lets a thread take SCHED_RR at all (root, CAP_SYS_NICE or RLIMIT_RTPRIO).
        var allowed = false;
        var probe = new Thread(() => allowed = OsThreadPriority.TrySetCurrentThreadRealtime(1, out _));
        probe.Start();
        probe.Join();

        var saved = OsThreadPriority.AlarmPathRealtimePriority;
        OsThreadPriority.AlarmPathRealtimePriority = 1;
        try
        {
            await using var city = new AlarmTestCity();
            while (city.Intake.WriterThreadId == 0)
            {
                await Task.Delay(5, Ct);
            }

            var writer = city.Intake.WriterThreadId;
            Assert.Equal(allowed ? OsThreadPriority.SchedRoundRobin : OsThreadPriority.SchedOther, Policy(writer));

            // The writer holds the first press inside its transaction (another connection has the write lock) while
            // ninety-nine more queue: when it commits, it finds a burst.
            await using (var blocker = new SqliteConnection(city.Database.Db.ConnectionString))
            {
                await blocker.OpenAsync(Ct);
                await blocker.ExecuteAsync("BEGIN IMMEDIATE;");
                await using var schoolsConnection = city.Database.Db.Open();
                var schools = (await schoolsConnection.QueryAsync<(long Id, long DistrictId)>("SELECT Id, DistrictId FROM School ORDER BY Id")).Select(s => ((int)s.Id, (int)s.DistrictId)).ToList();
                var batchesBefore = city.Intake.BatchesStarted;
                var tasks = new List<Task<AlarmReceipt>> { city.Intake.SubmitAsync(Signal(Nth(schools, 0)), Ct) };
                while (city.Intake.BatchesStarted == batchesBefore)
                {
                    await Task.Delay(5, Ct);
                }

                for (var i = 1; i < 100; i++)
                {
                    tasks.Add(city.Intake.SubmitAsync(Signal(Nth(schools, i)), Ct));
                }

                await blocker.ExecuteAsync("ROLLBACK;");
                await Task.WhenAll(tasks).WaitAsync(HangBound, Ct);
            }

            if (!allowed)
            {
                // Nothing to give up: the writer never had real-time priority.
                Assert.Equal(0, city.Intake.BurstsShared);
                Assert.Equal(OsThreadPriority.SchedOther, Policy(writer));
                return;
            }

            // It left real-time priority for the burst, and took it back once the queue was empty, ready for the next alarm.
            Assert.Equal(1, city.Intake.BurstsShared);
            var waited = System.Diagnostics.Stopwatch.StartNew();
            while (Policy(writer) != OsThreadPriority.SchedRoundRobin && waited.Elapsed < HangBound)
            {
                await Task.Delay(5, Ct);
            }

            Assert.Equal(OsThreadPriority.SchedRoundRobin, Policy(writer));
        }
        finally
        {
            OsThreadPriority.AlarmPathRealtimePriority = saved;
        }
    }

    // A thread's scheduling policy from /proc (field 41 of its stat line; the fields after the name's closing parenthesis start at 3).
    private static int Policy(int tid)
    {
        var stat = File.ReadAllText($"/proc/self/task/{tid}/stat");
        return int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[41 - 3], System.Globalization.CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task Burst_EveryAlarmReachesEveryConsoleThatMaySeeIt_OnceAndInOrder()
    {
        var schools = await SchoolsAsync();
        var districts = schools.Select(s => s.DistrictId).Distinct().Order().ToList();
        Assert.True(districts.Count >= 3, "the demo city has several districts");

        // Ten consoles: four of the city centre, six of three districts (two each). Each is the console's own
        // board fed by the notifier as a circuit feeds it (calls never overlap; the dispatcher runs the work at once).
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 2, 8, 0, 0, TimeSpan.Zero));
        var scopes = Enumerable.Range(0, 4).Select(i => new UserScope(100 + i, "city" + i, Roles.CityOperator, null, null))
            .Concat(Enumerable.Range(0, 6).Select(i => new UserScope(200 + i, "district" + i, Roles.DistrictOperator, districts[i % 3], null)))
            .ToList();
        var consoles = scopes.Select(scope => new TestConsole(scope, time)).ToList();
        var subscriptions = consoles.Select(c => _city.Notifier.SubscribeBatches(c.Scope, c.TakeAsync)).ToList();
        try
        {
            var tasks = Enumerable.Range(0, Burst).Select(i => _city.Intake.SubmitAsync(Signal(Nth(schools, i)), Ct)).ToList();
            var receipts = await Task.WhenAll(tasks).WaitAsync(HangBound, Ct);
            var districtOf = receipts.Select((r, i) => (r.AlarmId, Nth(schools, i).DistrictId)).ToDictionary(x => x.AlarmId, x => x.DistrictId);

            foreach (var console in consoles)
            {
                var expected = districtOf.Where(a => console.Scope.DistrictId is null || a.Value == console.Scope.DistrictId).Select(a => a.Key).Order().ToList();
                Assert.NotEmpty(expected);
                await console.WaitForAsync(expected.Count).WaitAsync(HangBound, Ct);

                // Each alarm heard once, none of another district's, and on the board in the order of arrival (the
                // order of the commits), none missing: the board holds every open alarm.
                Assert.Equal(expected, console.Heard);
                var onBoard = Enumerable.Range(0, console.Board.SliceCount).SelectMany(console.Board.Slice).Select(a => a.Id).ToList();
                Assert.Equal(expected, onBoard);
                Assert.Equal(expected.Count, console.Board.Live.Open);
                Assert.Equal(expected.Count, console.Board.Live.Ringing);
            }
        }
        finally
        {
            subscriptions.ForEach(s => s.Dispose());
            consoles.ForEach(c => c.Board.Dispose());
        }
    }

    [Fact]
    public async Task Answers_DoNotWaitForConsoles_EvenOneThatHoldsTheDeliveryThread()
    {
        var schools = await SchoolsAsync();

        // A console that blocks the thread it is called on (the notifier's own) and one whose call never completes:
        // the worst a slow or hung circuit can do.
        using var release = new ManualResetEventSlim(false);
        var blockedHeard = new List<int>();
        var blocking = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var stuck = _city.Notifier.SubscribeBatches(UserScope.System, _ => new TaskCompletionSource().Task);
        using var blocker = _city.Notifier.SubscribeBatches(UserScope.System, changes =>
        {
            blocking.TrySetResult();
            release.Wait(Ct);
            lock (blockedHeard)
            {
                blockedHeard.AddRange(changes.Where(c => c.Kind == AlarmEventKind.Raised).Select(c => c.Alarm.Id));
            }

            return Task.CompletedTask;
        });

        var first = await _city.Intake.SubmitAsync(Signal(Nth(schools, 0)), Ct).WaitAsync(HangBound, Ct);
        await blocking.Task.WaitAsync(HangBound, Ct);

        // Every device hears back while the delivery thread is held (were the answer waiting on a console, this would hang).
        var receipts = await Task.WhenAll(Enumerable.Range(1, 300).Select(i => _city.Intake.SubmitAsync(Signal(Nth(schools, i)), Ct))).WaitAsync(HangBound, Ct);
        Assert.False(release.IsSet);
        await using (var connection = _city.Database.Db.Open())
        {
            Assert.Equal(301, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM Alarm"));
        }

        // Let go, and the held console still gets every alarm it missed.
        release.Set();
        var all = receipts.Select(r => r.AlarmId).Prepend(first.AlarmId).Order().ToList();
        await Poll.UntilAsync(() =>
        {
            lock (blockedHeard)
            {
                return blockedHeard.Count >= all.Count;
            }
        }, HangBound, "the held console to catch up", Ct);
        lock (blockedHeard)
        {
            Assert.Equal(all, blockedHeard);
        }
    }

    /// <summary>One console: its board and what it heard, the way AlarmConsole.razor wires them.</summary>
    private sealed class TestConsole(UserScope scope, TimeProvider time)
    {
        private readonly Lock _gate = new();
        private readonly List<int> _heard = [];
        private readonly TaskCompletionSource _reached = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _wanted = int.MaxValue;

        public UserScope Scope => scope;

        public AlarmBoard Board { get; } = new(scope, time, () => { }, action =>
        {
            action();
            return Task.CompletedTask;
        });

        public List<int> Heard
        {
            get
            {
                lock (_gate)
                {
                    return [.. _heard];
                }
            }
        }

        public Task TakeAsync(IReadOnlyList<AlarmChange> changes)
        {
            lock (_gate)
            {
                Board.Apply(changes);
                _heard.AddRange(changes.Where(c => c.Kind == AlarmEventKind.Raised).Select(c => c.Alarm.Id));
                if (_heard.Count >= _wanted)
                {
                    _reached.TrySetResult();
                }
            }

            return Task.CompletedTask;
        }

        public Task WaitForAsync(int count)
        {
            lock (_gate)
            {
                _wanted = count;
                if (_heard.Count >= count)
                {
                    _reached.TrySetResult();
                }

                return _reached.Task;
            }
        }
    }
}
