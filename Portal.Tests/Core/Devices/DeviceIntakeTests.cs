using System.Globalization;
using System.Text;
using Dapper;
using Portal.Core.Alarms;
using Portal.Core.Alerts;
using Portal.Core.Demo;
using Portal.Core.Devices;
using Portal.Simulator.Terminals;
using Portal.Tests.Core.Alarms;
using Xunit;

namespace Portal.Tests.Core.Devices;

/// <summary>The one entry point for device requests, through both doors, on real SQLite with the intake running.</summary>
public sealed class DeviceIntakeTests : IAsyncLifetime
{
    private AlarmTestCity _city = default!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync()
    {
        _city = new AlarmTestCity();
        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync() => _city.DisposeAsync();

    private DeviceRequest Signed(string serial, string key, string? nonce = null, TimeSpan offset = default, string body = "{\"event\":\"alarm\"}",
        string path = SignedAlarmClient.AlarmPath)
    {
        var bytes = Encoding.UTF8.GetBytes(body);
        nonce ??= "n-" + Guid.NewGuid().ToString("N");
        var timestamp = (_city.Time.GetUtcNow() + offset).ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        return new DeviceRequest("POST", path, serial, timestamp, nonce,
            SignedAlarmClient.Sign(key, "POST", path, timestamp, nonce, bytes), bytes, "192.0.2.10");
    }

    private DeviceRequest Heartbeat(Device device, TimeSpan offset = default, string? nonce = null) =>
        Signed(device.SerialNumber, DemoCity.DemoApiKeyPrefix + device.SerialNumber, nonce, offset, "{\"firmware\":\"1.2\"}", SignedAlarmClient.HeartbeatPath);

    private DeviceRequest Honest(Device terminal, string? nonce = null) => Signed(terminal.SerialNumber, DemoCity.DemoApiKeyPrefix + terminal.SerialNumber, nonce);

    private async Task<long> AlarmCountAsync()
    {
        await using var connection = _city.Database.Db.Open();
        return await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM Alarm");
    }

    [Fact]
    public async Task RaiseAsync_HonestPress_CommitsTheAlarmAndASecondPressJoinsIt()
    {
        var (school, terminal) = await _city.SchoolInDistrictAsync("370202");

        var first = await _city.DeviceIntake.RaiseAsync(Honest(terminal), Ct);
        var second = await _city.DeviceIntake.RaiseAsync(Honest(terminal), Ct);

        Assert.Equal((DeviceRefusal.None, false), (first.Refusal, first.Joined));
        Assert.Equal((DeviceRefusal.None, first.AlarmId, true), (second.Refusal, second.AlarmId, second.Joined));
        var view = await _city.Repository.GetViewAsync(first.AlarmId, Ct);
        Assert.Equal((school.Id, terminal.Id, AlarmSource.DeviceApi, 2), (view!.SchoolId, view.DeviceId, view.Source, view.SignalCount));
    }

    [Fact]
    public async Task RaiseAsync_UnknownSerialBadSignatureStaleOrDisabled_AllGetTheSameUnauthorizedAnswer()
    {
        var (_, terminal) = await _city.SchoolInDistrictAsync("370203");
        var (_, disabled) = await _city.SchoolInDistrictAsync("370203", 1);
        await _city.Devices.UpdateAsync(disabled with { Enabled = false }, Ct);
        var before = await AlarmCountAsync();

        DeviceAnswer[] answers =
        [
            await _city.DeviceIntake.RaiseAsync(Signed("ATS99999999", "whatever"), Ct),
            await _city.DeviceIntake.RaiseAsync(Signed(terminal.SerialNumber, "wrong-key"), Ct),
            await _city.DeviceIntake.RaiseAsync(Signed(terminal.SerialNumber, DemoCity.DemoApiKeyPrefix + terminal.SerialNumber, offset: TimeSpan.FromMinutes(-6)), Ct),
            await _city.DeviceIntake.RaiseAsync(Honest(disabled), Ct),
        ];

        Assert.All(answers, a => Assert.Equal(DeviceAnswer.Refused(DeviceRefusal.Unauthorized), a));
        Assert.Equal(before, await AlarmCountAsync());
    }

    [Fact]
    public async Task RaiseAsync_ReplayedNonceOrCameraOrBadBody_IsRefusedWithItsReason()
    {
        var (school, terminal) = await _city.SchoolInDistrictAsync("370211");
        var camera = (await _city.Devices.GetManyBySchoolIdAsync(school.Id, Ct)).Single(d => d.Kind == DeviceKind.GateCamera);
        var press = Honest(terminal, "replayed-nonce-1");

        Assert.True((await _city.DeviceIntake.RaiseAsync(press, Ct)).Accepted);
        Assert.Equal(DeviceRefusal.Replay, (await _city.DeviceIntake.RaiseAsync(press, Ct)).Refusal);
        Assert.Equal(DeviceRefusal.MalformedBody, (await _city.DeviceIntake.RaiseAsync(Signed(terminal.SerialNumber, DemoCity.DemoApiKeyPrefix + terminal.SerialNumber, body: "[1]"), Ct)).Refusal);
        Assert.Equal(DeviceRefusal.Malformed, (await _city.DeviceIntake.RaiseAsync(press with { Signature = "zz" }, Ct)).Refusal);

        // A camera has no API key: the same answer as a stranger's.
        Assert.Equal(DeviceRefusal.Unauthorized, (await _city.DeviceIntake.RaiseAsync(Signed(camera.SerialNumber, "k"), Ct)).Refusal);
    }

    [Fact]
    public async Task RaiseAsync_FirstPressOfAPlannedTerminal_MarksItSeenOffThePathAndFlushesLastSeen()
    {
        var (_, terminal) = await PlannedTerminalAsync();

        Assert.True((await _city.DeviceIntake.RaiseAsync(Honest(terminal), Ct)).Accepted);

        // The first sighting is handed to the installation service at once (in the background)...
        Device? seen;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while ((seen = await _city.Devices.GetByIdAsync(terminal.Id, Ct))!.InstallState < DeviceInstallState.Connected && clock.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(20, Ct);
        }

        Assert.Equal((DeviceInstallState.Connected, DeviceHealthState.Online), (seen.InstallState, seen.HealthState));

        // ...and every sighting lands in LastSeenUtc at the next flush, not on the request's path.
        _city.Time.Advance(TimeSpan.FromSeconds(1));
        Assert.True((await _city.DeviceIntake.RaiseAsync(Honest(terminal), Ct)).Accepted);
        Assert.Equal(_city.Time.GetUtcNow().UtcDateTime, _city.Presence.GetLastSeenUtc(terminal.Id));
        await _city.Presence.FlushAsync(Ct);
        Assert.Equal(_city.Time.GetUtcNow().UtcDateTime, (await _city.Devices.GetByIdAsync(terminal.Id, Ct))!.LastSeenUtc);
    }

    [Fact]
    public async Task RaiseFromSipAsync_AuthenticatedTerminal_RaisesASipAlarm_DisabledOrCameraRefused()
    {
        var (school, terminal) = await _city.SchoolInDistrictAsync("370212");
        var camera = (await _city.Devices.GetManyBySchoolIdAsync(school.Id, Ct)).Single(d => d.Kind == DeviceKind.GateCamera);

        var answer = await _city.DeviceIntake.RaiseFromSipAsync(terminal.Id, "192.0.2.20", Ct);

        Assert.True(answer.Accepted);
        Assert.Equal(AlarmSource.Sip, (await _city.Repository.GetViewAsync(answer.AlarmId, Ct))!.Source);
        Assert.Equal(DeviceRefusal.NotATerminal, (await _city.DeviceIntake.RaiseFromSipAsync(camera.Id, null, Ct)).Refusal);
        Assert.Equal(DeviceRefusal.Unauthorized, (await _city.DeviceIntake.RaiseFromSipAsync(987654, null, Ct)).Refusal);
        await _city.Devices.UpdateAsync(terminal with { Enabled = false }, Ct);
        Assert.Equal(DeviceRefusal.Unauthorized, (await _city.DeviceIntake.RaiseFromSipAsync(terminal.Id, null, Ct)).Refusal);
    }

    [Fact]
    public async Task GetSipCredentialAsync_DemoTerminal_GivesItsDecryptedPasswordWhichToStringHides()
    {
        var (school, terminal) = await _city.SchoolInDistrictAsync("370213");

        var credential = await _city.DeviceIntake.GetSipCredentialAsync(terminal.SipAccount!, Ct);

        Assert.NotNull(credential);
        Assert.Equal(new SipDeviceCredential(terminal.Id, terminal.SipAccount!, true, DeviceKind.AlarmTerminal, school.Id, DemoCity.DemoSipPassword(terminal.SipAccount!)), credential);
        Assert.StartsWith(DemoCity.DemoSipPasswordPrefix + "terminal-", credential.Password, StringComparison.Ordinal);
        Assert.DoesNotContain(credential.Password!, credential.ToString(), StringComparison.Ordinal);
        Assert.NotEqual(credential.Password, terminal.SecretProtected);
        Assert.Null(await _city.DeviceIntake.GetSipCredentialAsync("terminal-99999", Ct));
        Assert.Null(await _city.DeviceIntake.GetSipCredentialAsync(new string('x', 500), Ct));
    }

    [Fact]
    public async Task RaiseAsync_DistrictWithoutCentre_GoesToTheCityCentreAndAlertsTheAdministrator()
    {
        var (school, terminal) = await _city.SchoolInDistrictAsync("370214");
        await ExecuteAsync("DELETE FROM PoliceCentre WHERE DistrictId = @DistrictId", new { school.DistrictId });

        var answer = await _city.DeviceIntake.RaiseAsync(Honest(terminal), Ct);

        Assert.True(answer.Accepted);
        Assert.Null((await _city.Repository.GetViewAsync(answer.AlarmId, Ct))!.CentreDistrictId);
        var alert = Assert.Single(await _city.Alerts.GetOpenAsync(Ct));
        Assert.Equal((AdminAlertKinds.DistrictWithoutCentre, $"District {school.DistrictId}", 1), (alert.Kind, alert.Subject, alert.Occurrences));
    }

    [Fact]
    public async Task RaiseAsync_NoCentreAtAll_RefusesCleanlyWritesNothingAndAlertsOncePerDistrict()
    {
        var (school, terminal) = await _city.SchoolInDistrictAsync("370215");
        var (_, neighbour) = await _city.SchoolInDistrictAsync("370215", 1);
        await ExecuteAsync("DELETE FROM PoliceCentre");
        var before = await AlarmCountAsync();

        var first = await _city.DeviceIntake.RaiseAsync(Honest(terminal), Ct);
        var second = await _city.DeviceIntake.RaiseAsync(Honest(neighbour), Ct);
        var sip = await _city.DeviceIntake.RaiseFromSipAsync(terminal.Id, null, Ct);

        Assert.All([first, second, sip], a => Assert.Equal(DeviceAnswer.Refused(DeviceRefusal.NoCentre), a));
        Assert.Equal(before, await AlarmCountAsync());
        var alert = Assert.Single(await _city.Alerts.GetOpenAsync(Ct));
        Assert.Equal((AdminAlertKinds.NoCentre, $"District {school.DistrictId}", 3), (alert.Kind, alert.Subject, alert.Occurrences));

        // The intake kept running: with a centre back, the next press goes through.
        await _city.Districts.CreateCentreAsync(new() { Name = "市110", NameEn = "City 110", AnswerDeadlineSeconds = 30 }, Ct);
        Assert.True((await _city.DeviceIntake.RaiseAsync(Honest(terminal), Ct)).Accepted);
    }

    [Fact]
    public async Task HeartbeatAsync_HonestDevice_IsRecordedInMemoryAndWrittenAtTheFlush()
    {
        // A terminal the platform has seen before, so its first sighting does not change its install state meanwhile.
        var terminal = await ConnectedTerminalAsync(0);
        var before = await _city.Devices.GetByIdAsync(terminal.Id, Ct);

        var answer = await _city.DeviceIntake.HeartbeatAsync(Heartbeat(terminal), Ct);

        Assert.Equal(new DeviceAnswer(DeviceRefusal.None), answer);
        Assert.Equal(_city.Time.GetUtcNow().UtcDateTime, _city.Presence.GetLastSeenUtc(terminal.Id));
        Assert.Equal(before, await _city.Devices.GetByIdAsync(terminal.Id, Ct)); // nothing written on the request's path
        Assert.Equal(1, await _city.Presence.FlushAsync(Ct));
        var after = await _city.Devices.GetByIdAsync(terminal.Id, Ct);
        var now = _city.Time.GetUtcNow();
        Assert.Equal((now.UtcDateTime, DateTimeOffset.FromUnixTimeSeconds(now.ToUnixTimeSeconds()).UtcDateTime), (after!.LastSeenUtc, after.LastHeartbeatUtc));
        Assert.Equal(before! with { LastSeenUtc = after.LastSeenUtc, LastHeartbeatUtc = after.LastHeartbeatUtc }, after);
    }

    [Fact]
    public async Task HeartbeatAsync_ReplayedOrNotNewer_IsRefused_EvenAfterARestart()
    {
        var terminal = await ConnectedTerminalAsync(1);
        var beat = Heartbeat(terminal);
        Assert.True((await _city.DeviceIntake.HeartbeatAsync(beat, Ct)).Accepted);

        // The same request again, and a fresh one signed no later: a replay cannot make a dead device look alive.
        Assert.Equal(DeviceRefusal.Replay, (await _city.DeviceIntake.HeartbeatAsync(beat, Ct)).Refusal);
        Assert.Equal(DeviceRefusal.Replay, (await _city.DeviceIntake.HeartbeatAsync(Heartbeat(terminal, TimeSpan.FromSeconds(-30)), Ct)).Refusal);
        Assert.True((await _city.DeviceIntake.HeartbeatAsync(Heartbeat(terminal, TimeSpan.FromSeconds(1)), Ct)).Accepted);
        Assert.Equal(DeviceRefusal.Unauthorized, (await _city.DeviceIntake.HeartbeatAsync(Signed(terminal.SerialNumber, "wrong", path: SignedAlarmClient.HeartbeatPath), Ct)).Refusal);
        Assert.Equal(DeviceRefusal.MalformedBody, (await _city.DeviceIntake.HeartbeatAsync(
            Signed(terminal.SerialNumber, DemoCity.DemoApiKeyPrefix + terminal.SerialNumber, offset: TimeSpan.FromSeconds(2), body: "\"x\"", path: SignedAlarmClient.HeartbeatPath), Ct)).Refusal);

        // After a restart (a fresh process keeps nothing in memory) the flushed signed time still refuses the replay.
        await _city.Presence.FlushAsync(Ct);
        using var restarted = new DevicePresence(_city.Devices, _city.Installation, _city.Time, Microsoft.Extensions.Logging.Abstractions.NullLogger<DevicePresence>.Instance);
        var intake = _city.NewDeviceIntake(restarted, _city.Limiter);
        Assert.Equal(DeviceRefusal.Replay, (await intake.HeartbeatAsync(beat, Ct)).Refusal);
        Assert.True((await intake.HeartbeatAsync(Heartbeat(terminal, TimeSpan.FromSeconds(3)), Ct)).Accepted);
    }

    [Fact]
    public async Task PresenceFlush_DatabaseFails_SightingsAreKeptAndTheNextFlushWritesThem()
    {
        // Issue 14 item 7: a failure injected into the presence loop's write loses nothing and stops nothing.
        var terminal = await ConnectedTerminalAsync(2);
        var before = await _city.Devices.GetByIdAsync(terminal.Id, Ct);
        Assert.Equal(new DeviceAnswer(DeviceRefusal.None), await _city.DeviceIntake.HeartbeatAsync(Heartbeat(terminal), Ct));
        await ExecuteAsync("CREATE TRIGGER FailSighting BEFORE UPDATE OF LastSeenUtc ON Device BEGIN SELECT RAISE(ABORT, 'injected failure'); END;");

        Assert.Equal(0, await _city.Presence.FlushAsync(Ct));
        Assert.Equal(before, await _city.Devices.GetByIdAsync(terminal.Id, Ct));

        await ExecuteAsync("DROP TRIGGER FailSighting;");
        Assert.Equal(1, await _city.Presence.FlushAsync(Ct));
        var now = _city.Time.GetUtcNow();
        var after = await _city.Devices.GetByIdAsync(terminal.Id, Ct);
        Assert.Equal((now.UtcDateTime, DateTimeOffset.FromUnixTimeSeconds(now.ToUnixTimeSeconds()).UtcDateTime), (after!.LastSeenUtc, after.LastHeartbeatUtc));
    }

    [Fact]
    public async Task HeartbeatAsync_SignedForTheAlarmPath_IsRefused()
    {
        // The path is signed: a captured alarm press cannot be replayed as a heartbeat, nor the other way round.
        var (_, terminal) = await _city.SchoolInDistrictAsync("370285");
        var press = Honest(terminal);
        Assert.Equal(DeviceRefusal.Unauthorized, (await _city.DeviceIntake.HeartbeatAsync(press with { Path = SignedAlarmClient.HeartbeatPath }, Ct)).Refusal);
        Assert.Equal(DeviceRefusal.Unauthorized, (await _city.DeviceIntake.RaiseAsync(Heartbeat(terminal) with { Path = SignedAlarmClient.AlarmPath }, Ct)).Refusal);
    }

    [Fact]
    public async Task RaiseAsync_StrangerSpoofingTheSerialOrReplayingAPress_SpendsNothingOfTheTerminalsAllowance()
    {
        // An allowance of four requests that does not refill during the test; the terminal uses two of them here.
        using var limiter = new DeviceRateLimiter(new DeviceRateLimitOptions { PerDeviceBurst = 4, PerDevicePerSecond = 1, Period = TimeSpan.FromHours(1) }, _city.Time);
        var intake = _city.NewDeviceIntake(_city.Presence, limiter);
        var terminal = await ConnectedTerminalAsync(2);
        var captured = Honest(terminal);
        Assert.True((await intake.RaiseAsync(captured, Ct)).Accepted);
        Assert.True((await intake.HeartbeatAsync(Heartbeat(terminal), Ct)).Accepted);

        for (var i = 0; i < 50; i++)
        {
            Assert.Equal(DeviceRefusal.Unauthorized, (await intake.RaiseAsync(Signed(terminal.SerialNumber, "guessed-key-" + i), Ct)).Refusal);
            Assert.Equal(DeviceRefusal.Replay, (await intake.RaiseAsync(captured, Ct)).Refusal);
            Assert.Equal(DeviceRefusal.Replay, (await intake.HeartbeatAsync(Heartbeat(terminal, TimeSpan.FromMinutes(-1)), Ct)).Refusal);
        }

        Assert.Null(intake.Throttled(terminal.SerialNumber, "192.0.2.10"));
        Assert.True((await intake.RaiseAsync(Honest(terminal), Ct)).Accepted);
        Assert.True((await intake.RaiseAsync(Honest(terminal), Ct)).Accepted);

        // The terminal itself, past its allowance: refused, and from then on before its request is even read.
        var limited = await intake.RaiseAsync(Honest(terminal), Ct);
        Assert.Equal(DeviceRefusal.RateLimited, limited.Refusal);
        Assert.True(limited.RetryAfter > TimeSpan.Zero);
        Assert.Equal(DeviceRefusal.RateLimited, intake.Throttled(terminal.SerialNumber, "192.0.2.10")?.Refusal);
        Assert.Null(intake.Throttled("ATS99999999", "192.0.2.10"));
    }

    private async Task<Device> ConnectedTerminalAsync(int skip)
    {
        await using var connection = _city.Database.Db.Open();
        var id = await connection.ExecuteScalarAsync<int>("SELECT Id FROM Device WHERE Kind = 0 AND InstallState >= 2 ORDER BY Id LIMIT 1 OFFSET @skip", new { skip });
        return (await _city.Devices.GetByIdAsync(id, Ct))!;
    }

    private async Task<(int SchoolId, Device Terminal)> PlannedTerminalAsync()
    {
        await using var connection = _city.Database.Db.Open();
        var id = await connection.ExecuteScalarAsync<int>("SELECT Id FROM Device WHERE Kind = 0 AND InstallState = 0 ORDER BY Id LIMIT 1");
        var terminal = (await _city.Devices.GetByIdAsync(id, Ct))!;
        return (terminal.SchoolId, terminal);
    }

    private async Task ExecuteAsync(string sql, object? args = null)
    {
        await using var connection = _city.Database.Db.Open();
        await connection.ExecuteAsync(sql, args);
    }
}
