using Dapper;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Portal.Core.Devices;
using Portal.Tests.Data;
using Xunit;

namespace Portal.Tests.Core.Devices;

/// <summary>Refused device requests are counted in a bounded table, not written a row each (issue 14).</summary>
public sealed class DeviceRefusalCounterTests : IDisposable
{
    private readonly SqliteDb _database = new();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 2, 8, 0, 10, TimeSpan.Zero));
    private readonly DeviceRefusalCounter _counter;

    public DeviceRefusalCounterTests() => _counter = new DeviceRefusalCounter(_database.Db, _time, NullLogger<DeviceRefusalCounter>.Instance);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose()
    {
        _counter.Dispose();
        _database.Dispose();
    }

    [Fact]
    public async Task Count_FloodFromThousandsOfAddresses_KeepsEveryRequestButAtMostTheCapOfRowsPerMinute()
    {
        for (var i = 0; i < 5000; i++)
        {
            _counter.Count($"198.51.{i / 250}.{i % 250}", i % 2 == 0 ? "BadSignature" : "Malformed");
        }

        _counter.Count("203.0.113.9", "RateLimited"); // an address first seen after the cap: folded too
        await _counter.FlushAsync(Ct);
        _counter.Count("198.51.0.0", "BadSignature"); // admitted earlier this minute: keeps its own row
        await _counter.FlushAsync(Ct);

        var rows = await _counter.GetSinceAsync(DateTime.MinValue, Ct);
        Assert.Equal(5002, rows.Sum(r => r.Requests));
        Assert.Equal(DeviceRefusalCounter.MaxAddressesPerMinute + 3, rows.Count); // the admitted ones + "other" for each of 3 reasons
        Assert.Equal(2, rows.Single(r => r.RemoteAddress == "198.51.0.0").Requests);
        Assert.Equal(1, rows.Single(r => r.RemoteAddress == DeviceRefusalCounter.OtherAddress && r.Reason == "RateLimited").Requests);
        Assert.All(rows, r => Assert.Equal(new DateTime(2026, 12, 2, 8, 0, 0, DateTimeKind.Utc), r.MinuteUtc));
    }

    [Fact]
    public async Task Count_NextMinute_AdmitsAddressesAgainInItsOwnRows()
    {
        for (var i = 0; i < 100; i++)
        {
            _counter.Count($"192.0.2.{i}", "BadSignature");
        }

        _time.Advance(TimeSpan.FromMinutes(1));
        _counter.Count("192.0.2.99", "BadSignature");
        await _counter.FlushAsync(Ct);

        var rows = await _counter.GetSinceAsync(DateTime.MinValue, Ct);
        Assert.Equal(("192.0.2.99", 1L), rows.Where(r => r.MinuteUtc.Minute == 1).Select(r => (r.RemoteAddress, r.Requests)).Single());
    }

    [Fact]
    public async Task FlushAsync_DatabaseFails_CountsAreKeptAndAddedAtTheNextFlush()
    {
        // Issue 14 item 7: a failure injected into the counter's write loses no count and stops nothing.
        _counter.Count("192.0.2.7", "BadSignature");
        await using (var connection = _database.Db.Open())
        {
            await connection.ExecuteAsync("CREATE TRIGGER FailCount BEFORE INSERT ON DeviceRefusalCount BEGIN SELECT RAISE(ABORT, 'injected failure'); END;");
        }

        Assert.Equal(0, await _counter.FlushAsync(Ct));
        Assert.Empty(await _counter.GetSinceAsync(DateTime.MinValue, Ct));

        _counter.Count("192.0.2.7", "BadSignature");
        await using (var connection = _database.Db.Open())
        {
            await connection.ExecuteAsync("DROP TRIGGER FailCount;");
        }

        Assert.Equal(1, await _counter.FlushAsync(Ct));
        Assert.Equal(("192.0.2.7", 2L), (await _counter.GetSinceAsync(DateTime.MinValue, Ct)).Select(r => (r.RemoteAddress, r.Requests)).Single());
    }

    [Fact]
    public async Task PruneAsync_ForgetsCountsOlderThanTheRetention()
    {
        _counter.Count("192.0.2.1", "Malformed");
        await _counter.FlushAsync(Ct);
        _time.Advance(DeviceRefusalCounter.Retention + TimeSpan.FromMinutes(2));
        _counter.Count("192.0.2.2", "Malformed");
        await _counter.FlushAsync(Ct);

        Assert.Equal(1, await _counter.PruneAsync(Ct));
        Assert.Equal("192.0.2.2", Assert.Single(await _counter.GetSinceAsync(DateTime.MinValue, Ct)).RemoteAddress);
    }
}
