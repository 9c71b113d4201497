using System.Globalization;
using System.Text;
using Dapper;
using Portal.Core.Demo;
using Portal.Core.Devices;
using Portal.Simulator.Terminals;
using Portal.Tests.Core.Alarms;
using Xunit;

namespace Portal.Tests.Core.Devices;

/// <summary>The signed device API's checks, with the simulator's independent signer as the honest device.</summary>
public sealed class DeviceRequestVerifierTests : IAsyncLifetime
{
    private AlarmTestCity _city = default!;

    public ValueTask InitializeAsync()
    {
        _city = new AlarmTestCity();
        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync() => _city.DisposeAsync();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private DeviceRequest Signed(string serial, string key, string nonce, TimeSpan offset = default, string body = "{}", string? signature = null)
    {
        var bytes = Encoding.UTF8.GetBytes(body);
        var ts = (_city.Time.GetUtcNow() + offset).ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        return new DeviceRequest("POST", SignedAlarmClient.AlarmPath, serial, ts, nonce, signature ?? SignedAlarmClient.Sign(key, "POST", SignedAlarmClient.AlarmPath, ts, nonce, bytes), bytes, "192.0.2.7");
    }

    /// <summary>Refusals counted for <paramref name="reason"/> (flushed first); the SecurityLog gets no row for them.</summary>
    private async Task<long> RefusalCountAsync(string reason)
    {
        await _city.Refusals.FlushAsync(Ct);
        await using var connection = _city.Database.Db.Open();
        Assert.Equal(0, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM SecurityLog"));
        return await connection.ExecuteScalarAsync<long>("SELECT COALESCE(SUM(Requests), 0) FROM DeviceRefusalCount WHERE Reason = @reason AND RemoteAddress = '192.0.2.7'", new { reason });
    }

    [Fact]
    public async Task VerifyAsync_HonestDevice_PassesOnceThenReplayIsRefused()
    {
        var request = Signed("ATS00000000", DemoCity.DemoApiKeyPrefix + "ATS00000000", "nonce-0001");
        var (device, failure) = await _city.Verifier.VerifyAsync(request, Ct);
        Assert.Equal(DeviceAuthFailure.None, failure);
        Assert.Equal("ATS00000000", device!.SerialNumber);

        var (again, replay) = await _city.Verifier.VerifyAsync(request, Ct);
        Assert.Null(again);
        Assert.Equal(DeviceAuthFailure.Replay, replay);
        Assert.Equal(1, await RefusalCountAsync("Replay"));
    }

    [Theory]
    [InlineData(-301, DeviceAuthFailure.Stale)]
    [InlineData(301, DeviceAuthFailure.Stale)]
    [InlineData(-290, DeviceAuthFailure.None)]
    public async Task VerifyAsync_TimestampWindow_IsFiveMinutes(int offsetSeconds, DeviceAuthFailure expected)
    {
        var (_, failure) = await _city.Verifier.VerifyAsync(Signed("ATS00000001", DemoCity.DemoApiKeyPrefix + "ATS00000001", "nonce-" + offsetSeconds.ToString(CultureInfo.InvariantCulture) + "xx", TimeSpan.FromSeconds(offsetSeconds)), Ct);
        Assert.Equal(expected, failure);
    }

    [Fact]
    public async Task VerifyAsync_WrongKeyTamperedBodyUnknownOrDisabledDevice_AreRefusedAndCounted()
    {
        Assert.Equal(DeviceAuthFailure.BadSignature, (await _city.Verifier.VerifyAsync(Signed("ATS00000002", "wrong-key", "nonce-a-123"), Ct)).Failure);

        var honest = Signed("ATS00000002", DemoCity.DemoApiKeyPrefix + "ATS00000002", "nonce-b-123");
        var tampered = honest with { Body = Encoding.UTF8.GetBytes("{\"event\":\"cancel\"}") };
        Assert.Equal(DeviceAuthFailure.BadSignature, (await _city.Verifier.VerifyAsync(tampered, Ct)).Failure);
        Assert.Equal(DeviceAuthFailure.UnknownDevice, (await _city.Verifier.VerifyAsync(Signed("ATS99999999", "k", "nonce-c-123"), Ct)).Failure);

        var device = await _city.Devices.GetBySerialNumberAsync("ATS00000003", Ct);
        await _city.Devices.UpdateAsync(device! with { Enabled = false }, Ct);
        Assert.Equal(DeviceAuthFailure.Disabled, (await _city.Verifier.VerifyAsync(Signed("ATS00000003", DemoCity.DemoApiKeyPrefix + "ATS00000003", "nonce-d-123"), Ct)).Failure);

        // A camera has no device API key.
        Assert.Equal(DeviceAuthFailure.NoKey, (await _city.Verifier.VerifyAsync(Signed("CAM00000003", "x", "nonce-e-123"), Ct)).Failure);

        Assert.Equal(2, await RefusalCountAsync("BadSignature"));
        Assert.Equal(1, await RefusalCountAsync("UnknownDevice"));
        Assert.Equal(1, await RefusalCountAsync("Disabled"));
    }

    [Theory]
    [InlineData(null, "123", "nonce-123", "sig")]
    [InlineData("ATS00000000", "not-a-number", "nonce-123", "sig")]
    [InlineData("ATS00000000", "-5", "nonce-123", "sig")]
    [InlineData("ATS00000000", "99999999999999999999999", "nonce-123", "sig")]
    [InlineData("ATS00000000", "1764057600", "short", "sig")]
    [InlineData("ATS00000000", "1764057600", "nonce with spaces", "sig")]
    [InlineData("ATS00000000", "1764057600", "nonce-123", null)]
    [InlineData("ATS00000000", "1764057600", "nonce-123", "zz")]
    public async Task VerifyAsync_HostileHeaders_AreMalformedNotAnException(string? serial, string? ts, string? nonce, string? signature)
    {
        var request = new DeviceRequest("POST", "/api/device/alarms", serial, ts, nonce, signature, Array.Empty<byte>(), null);
        var (device, failure) = await _city.Verifier.VerifyAsync(request, Ct);
        Assert.Null(device);
        Assert.Equal(DeviceAuthFailure.Malformed, failure);
    }

    [Fact]
    public async Task PruneNoncesAsync_ForgetsOnlyOldNonces()
    {
        await _city.Verifier.VerifyAsync(Signed("ATS00000004", DemoCity.DemoApiKeyPrefix + "ATS00000004", "nonce-old-1"), Ct);
        _city.Time.Advance(TimeSpan.FromMinutes(11));
        await _city.Verifier.VerifyAsync(Signed("ATS00000004", DemoCity.DemoApiKeyPrefix + "ATS00000004", "nonce-new-1"), Ct);
        Assert.Equal(1, await _city.Verifier.PruneNoncesAsync(Ct));
        await using var connection = _city.Database.Db.Open();
        Assert.Equal("nonce-new-1", await connection.ExecuteScalarAsync<string>("SELECT Nonce FROM DeviceNonce"));
    }
}
