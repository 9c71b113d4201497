using Dapper;
using Portal.Core.Data;

namespace Portal.Benchmarks.Harness;

/// <summary>What the flood benchmark and test read back from the portal's database.</summary>
public static class FloodCounts
{
    /// <summary>The security tables' size, and the refusals counted from anywhere but 127.0.0.1 (the flood's, or folded into "other").</summary>
    public static async Task<(long SecurityLog, long CountRows, long Counted)> ReadAsync(Db db)
    {
        ArgumentNullException.ThrowIfNull(db);
        await using var connection = db.Open();
        return (await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM SecurityLog").ConfigureAwait(false),
            await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM DeviceRefusalCount").ConfigureAwait(false),
            await connection.ExecuteScalarAsync<long>("SELECT COALESCE(SUM(Requests), 0) FROM DeviceRefusalCount WHERE RemoteAddress <> '127.0.0.1'").ConfigureAwait(false));
    }

    /// <summary>Waits (at most <paramref name="timeout"/>) until <paramref name="refusals"/> more are counted in the table (the counter flushes every 10 s).</summary>
    public static async Task<(long SecurityLog, long CountRows, long Counted)> WaitCountedAsync(Db db, (long SecurityLog, long CountRows, long Counted) before, long refusals, TimeSpan timeout)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var counts = await ReadAsync(db).ConfigureAwait(false);
        while (counts.Counted - before.Counted < refusals && clock.Elapsed < timeout)
        {
            await Task.Delay(250).ConfigureAwait(false);
            counts = await ReadAsync(db).ConfigureAwait(false);
        }

        return counts;
    }

    /// <summary>Presses recorded on the terminal's alarms (a press raises one or joins its open alarm: SignalCount).</summary>
    public static async Task<long> SignalsAsync(Db db, string serial)
    {
        ArgumentNullException.ThrowIfNull(db);
        await using var connection = db.Open();
        return await connection.ExecuteScalarAsync<long>(
            "SELECT COALESCE(SUM(a.SignalCount), 0) FROM Alarm a JOIN Device d ON d.Id = a.DeviceId WHERE d.SerialNumber = @serial", new { serial }).ConfigureAwait(false);
    }
}
