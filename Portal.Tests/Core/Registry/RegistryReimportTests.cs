using System.Globalization;
using System.Text;
using Portal.Core.Demo;
using Portal.Core.Devices;
using Portal.Core.Registry;
using Portal.Core.Schools;
using Portal.Core.Security;
using Portal.Simulator.Terminals;
using Portal.Tests.Core.Alarms;
using Xunit;
using static Portal.Core.Registry.RegistryColumns;
using static Portal.Tests.Core.Registry.RegistryFiles;

namespace Portal.Tests.Core.Registry;

/// <summary>
/// Issue 13, "import never loses a secret": a routine registry import used to write each changed device's whole
/// row back from a snapshot read without its API key, so a terminal whose model changed answered 401 at its next
/// press. These import into a seeded demo city (terminals with keys, some installed and online) on real SQLite.
/// </summary>
public sealed class RegistryReimportTests : IAsyncLifetime
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
    public async Task ImportAsync_ChangedTerminalModelAndCameraAddress_KeepsSecretsAndStateAndTheNextSignedAlarmIsAccepted()
    {
        var (school, terminal) = await _city.SchoolInDistrictAsync("370202", 1);
        var camera = (await _city.Devices.GetManyBySchoolIdAsync(school.Id, Ct)).Single(d => d.Kind == DeviceKind.GateCamera);
        Assert.NotNull(terminal.ApiKeyProtected);
        Assert.NotNull(camera.SecretProtected);
        var row = await RowOfAsync(school, terminal, camera);
        var changed = row.With(TerminalModel, "AT-300").With(CameraRtsp, "rtsp://10.20.30.40:554/Streaming/Channels/102");

        _city.Time.Advance(TimeSpan.FromHours(1));
        var result = await new RegistryImporter(_city.Database.Db, _city.Time).ImportAsync(Csv([changed]), "registry.csv", UserScope.System, dryRun: false, Ct);

        Assert.True(result.Succeeded, string.Join("\n", result.Problems));
        Assert.Equal(new RegistryImportCounts(0, 2, 0), result.Devices);
        var terminalAfter = await _city.Devices.GetByIdAsync(terminal.Id, Ct);
        var cameraAfter = await _city.Devices.GetByIdAsync(camera.Id, Ct);
        Assert.Equal(("AT-300", "rtsp://10.20.30.40:554/Streaming/Channels/102"), (terminalAfter!.Model, cameraAfter!.RtspUrl));
        Assert.Equal(_city.Time.GetUtcNow().UtcDateTime, terminalAfter.UpdatedUtc);

        // Only the columns the file carries changed: secrets, install and health state, enabled and history stay.
        Assert.Equal(terminal with { Model = "AT-300", UpdatedUtc = terminalAfter.UpdatedUtc }, terminalAfter);
        Assert.Equal(camera with { RtspUrl = cameraAfter.RtspUrl, UpdatedUtc = cameraAfter.UpdatedUtc }, cameraAfter);

        // The terminal's next signed press goes through the device entry point and raises an alarm.
        var answer = await _city.DeviceIntake.RaiseAsync(Signed(terminal.SerialNumber, DemoCity.DemoApiKeyPrefix + terminal.SerialNumber, "reimport-nonce-1"), Ct);
        Assert.Equal((DeviceRefusal.None, false), (answer.Refusal, answer.Joined));
        Assert.Equal(terminal.Id, (await _city.Repository.GetViewAsync(answer.AlarmId, Ct))!.DeviceId);
    }

    private DeviceRequest Signed(string serial, string key, string nonce)
    {
        var body = Encoding.UTF8.GetBytes("{\"event\":\"alarm\"}");
        var timestamp = _city.Time.GetUtcNow().ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        return new DeviceRequest("POST", SignedAlarmClient.AlarmPath, serial, timestamp, nonce,
            SignedAlarmClient.Sign(key, "POST", SignedAlarmClient.AlarmPath, timestamp, nonce, body), body, "127.0.0.1");
    }

    /// <summary>The school's registry row as the bureau's export would hold it today.</summary>
    private async Task<string[]> RowOfAsync(School school, Device terminal, Device camera)
    {
        var district = (await _city.Districts.GetAllAsync(Ct)).Single(d => d.Id == school.DistrictId);
        return
        [
            school.Code, school.Name, SchoolTypeNames.Chinese[school.SchoolType], district.Name, school.Address,
            school.Longitude!.Value.ToString(CultureInfo.InvariantCulture), school.Latitude!.Value.ToString(CultureInfo.InvariantCulture),
            school.PrincipalName, school.Phone,
            terminal.Model, terminal.SerialNumber, terminal.SipAccount!, camera.Model, camera.SerialNumber, camera.RtspUrl!, camera.OnvifUrl!,
        ];
    }
}
