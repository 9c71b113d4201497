using System.Data.Common;
using System.Threading.Channels;
using Dapper;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Portal.Core.Data;

namespace Portal.Core.Alarms;

/// <summary>A signal from a device or a test request, waiting to be written.</summary>
public sealed record AlarmSignal(
    int SchoolId,
    int DistrictId,
    int? DeviceId,
    AlarmSource Source,
    bool IsTest,
    bool IsAcceptance,
    string? RemoteAddress,
    int? UserId = null,
    string? UserName = null,
    string? Nonce = null);

/// <summary>
/// What the device is told once the alarm is durable: its id, and whether it joined an open one; or that
/// its nonce was spent already (a replay: nothing was written); or that no 110 centre covers the school's
/// district and the city has none either (nothing was written: the caller refuses the device and alerts).
/// </summary>
public sealed record AlarmReceipt(int AlarmId, bool Joined, bool Replay = false, bool NoCentre = false);

/// <summary>
/// The one way an alarm enters the system, whatever its source (SIP, signed device API, portal test).
/// A single writer drains the queue and commits each batch in one durable transaction (group commit), so
/// a burst costs one fsync per batch rather than one per alarm; each caller's task completes only after
/// its alarm is committed, and only then is it announced to consoles, off the request path.
/// </summary>
public sealed class AlarmIntake(Db db, AlarmNotifier notifier, TimeProvider time, ILogger<AlarmIntake> logger) : BackgroundService
{
    private const int MaxBatch = 256;

    private const string FindOpen = "SELECT Id FROM Alarm WHERE DeviceId = @DeviceId AND State < 3";

    private const string JoinOpen = "UPDATE Alarm SET SignalCount = SignalCount + 1, LastSignalUtc = @Now WHERE Id = @Id";

    private const string SelectCentres = "SELECT Id, DistrictId, AnswerDeadlineSeconds FROM PoliceCentre";

    private const string InsertSqlite = """
        INSERT INTO Alarm (SchoolId, DistrictId, DeviceId, CentreId, Source, IsTest, IsAcceptance, State, RaisedUtc, LastSignalUtc, SignalCount, AnswerDeadlineUtc)
        VALUES (@SchoolId, @DistrictId, @DeviceId, @CentreId, @Source, @IsTest, @IsAcceptance, 0, @Now, @Now, 1, @Deadline)
        RETURNING Id
        """;

    private const string InsertSqlServer = """
        INSERT INTO Alarm (SchoolId, DistrictId, DeviceId, CentreId, Source, IsTest, IsAcceptance, State, RaisedUtc, LastSignalUtc, SignalCount, AnswerDeadlineUtc)
        OUTPUT INSERTED.Id
        VALUES (@SchoolId, @DistrictId, @DeviceId, @CentreId, @Source, @IsTest, @IsAcceptance, 0, @Now, @Now, 1, @Deadline)
        """;

    private readonly Channel<Pending> _queue = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });

    /// <summary>Queues the signal and completes once it is committed. Throws if the write failed.</summary>
    public Task<AlarmReceipt> SubmitAsync(AlarmSignal signal, CancellationToken ct = default)
    {
        var pending = new Pending(signal, new TaskCompletionSource<AlarmReceipt>(TaskCreationOptions.RunContinuationsAsynchronously));
        if (!_queue.Writer.TryWrite(pending))
        {
            throw new InvalidOperationException("The alarm intake is shut down.");
        }

        return pending.Done.Task.WaitAsync(ct);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var batch = new List<Pending>(MaxBatch);
        while (await _queue.Reader.WaitToReadAsync(stoppingToken).ConfigureAwait(false))
        {
            batch.Clear();
            while (batch.Count < MaxBatch && _queue.Reader.TryRead(out var next))
            {
                batch.Add(next);
            }

            await WriteBatchAsync(batch, stoppingToken).ConfigureAwait(false);
        }
    }

    private async Task WriteBatchAsync(List<Pending> batch, CancellationToken ct)
    {
        var receipts = new AlarmReceipt[batch.Count];
        try
        {
            await using var connection = await db.OpenAsync(ct).ConfigureAwait(false);
            await MakeDurableAsync(connection, ct).ConfigureAwait(false);
            var centres = (await connection.QueryAsync<(long Id, long? DistrictId, long Seconds)>(new CommandDefinition(SelectCentres, cancellationToken: ct)).ConfigureAwait(false)).ToList();
            await using var tx = await connection.BeginTransactionAsync(ct).ConfigureAwait(false);
            var now = time.GetUtcNow().UtcDateTime;
            for (var i = 0; i < batch.Count; i++)
            {
                receipts[i] = await WriteOneAsync(connection, tx, batch[i].Signal, centres, now, ct).ConfigureAwait(false);
            }

            await tx.CommitAsync(ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (batch.Count > 1 && ex is DbException or InvalidOperationException)
        {
            // One bad signal must not take the others down with it: write them one by one.
            logger.LogWarning(ex, "Alarm batch of {Count} failed; retrying each alone", batch.Count);
            foreach (var p in batch)
            {
                await WriteBatchAsync([p], ct).ConfigureAwait(false);
            }

            return;
        }
        catch (Exception ex) when (ex is DbException or InvalidOperationException or OperationCanceledException)
        {
            logger.LogError(ex, "Alarm signal from school {SchoolId} could not be written; the caller is told", batch[0].Signal.SchoolId);
            batch[0].Done.TrySetException(ex);
            return;
        }

        for (var i = 0; i < batch.Count; i++)
        {
            batch[i].Done.TrySetResult(receipts[i]);
        }

        // Announce after the commit; consoles read the full view from the database.
        foreach (var r in receipts.Where(r => r.AlarmId != 0).DistinctBy(r => r.AlarmId))
        {
            notifier.Publish(r.AlarmId, r.Joined ? AlarmEventKind.SignalJoined : AlarmEventKind.Raised);
        }
    }

    private async Task<AlarmReceipt> WriteOneAsync(DbConnection connection, DbTransaction tx, AlarmSignal s, List<(long Id, long? DistrictId, long Seconds)> centres, DateTime now, CancellationToken ct)
    {
        // The device API's nonce is spent in the same transaction as the alarm: one commit per batch, and a
        // replay inside the same batch is caught too.
        if (s.Nonce is not null && s.DeviceId is { } nonceDevice)
        {
            var spent = await connection.ExecuteAsync(new CommandDefinition(
                db.Pick(Devices.DeviceRequestVerifier.InsertNonceSqlServer, Devices.DeviceRequestVerifier.InsertNonceSqlite),
                new { DeviceId = nonceDevice, s.Nonce, Now = now }, tx, cancellationToken: ct)).ConfigureAwait(false);
            if (spent == 0)
            {
                return new AlarmReceipt(0, false, Replay: true);
            }
        }

        if (s.DeviceId is { } deviceId)
        {
            var open = await connection.ExecuteScalarAsync<int?>(new CommandDefinition(FindOpen, new { DeviceId = deviceId }, tx, cancellationToken: ct)).ConfigureAwait(false);
            if (open is { } openId)
            {
                await connection.ExecuteAsync(new CommandDefinition(JoinOpen, new { Id = openId, Now = now }, tx, cancellationToken: ct)).ConfigureAwait(false);
                await AlarmRepository.AddEventAsync(connection, tx, Event(openId, AlarmEventKind.SignalJoined, s, now), ct).ConfigureAwait(false);
                return new AlarmReceipt(openId, true);
            }
        }

        // The district's centre, else the city's; with neither (a city set up without its centres) the alarm
        // cannot be routed, and the caller is told so instead of the batch failing.
        var centre = centres.FirstOrDefault(c => c.DistrictId == s.DistrictId);
        if (centre.Id == 0)
        {
            centre = centres.FirstOrDefault(c => c.DistrictId is null);
            if (centre.Id == 0)
            {
                return new AlarmReceipt(0, false, NoCentre: true);
            }
        }

        var id = await connection.ExecuteScalarAsync<int>(new CommandDefinition(db.Pick(InsertSqlServer, InsertSqlite), new
        {
            s.SchoolId,
            s.DistrictId,
            s.DeviceId,
            CentreId = centre.Id,
            Source = (int)s.Source,
            s.IsTest,
            s.IsAcceptance,
            Now = now,
            Deadline = now.AddSeconds(centre.Seconds),
        }, tx, cancellationToken: ct)).ConfigureAwait(false);
        await AlarmRepository.AddEventAsync(connection, tx, Event(id, AlarmEventKind.Raised, s, now), ct).ConfigureAwait(false);
        return new AlarmReceipt(id, false);
    }

    private static AlarmEvent Event(int alarmId, AlarmEventKind kind, AlarmSignal s, DateTime now) => new()
    {
        AlarmId = alarmId,
        Kind = kind,
        AtUtc = now,
        UserId = s.UserId,
        UserName = s.UserName,
        RemoteAddress = s.RemoteAddress,
        Text = s.Source.ToString(),
    };

    /// <summary>
    /// An alarm is promised only once it survives a power cut: on SQLite that is synchronous=FULL for this
    /// connection (WAL then syncs at every commit); group commit keeps the cost to one sync per batch.
    /// </summary>
    private static async Task MakeDurableAsync(DbConnection connection, CancellationToken ct)
    {
        if (connection is SqliteConnection)
        {
            await connection.ExecuteAsync(new CommandDefinition("PRAGMA synchronous=FULL;", cancellationToken: ct)).ConfigureAwait(false);
        }
    }

    private sealed record Pending(AlarmSignal Signal, TaskCompletionSource<AlarmReceipt> Done);
}
