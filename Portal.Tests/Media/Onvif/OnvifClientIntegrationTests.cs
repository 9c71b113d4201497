using Portal.Media.Onvif;
using Portal.Simulator.Cameras;
using Xunit;

namespace Portal.Tests.Media.Onvif;

[Trait("Category", "Integration")]
public sealed class OnvifClientIntegrationTests
{
    private const string Profile = SimulatedOnvifService.ProfileToken;

    private static OnvifClient Client(SimulatedCamera camera, HttpClient http, string password = "gate-cam-1") =>
        new(http, camera.OnvifDeviceUri, "admin", password);

    [Fact]
    public async Task ContinuousMoveAndStop_Ptz_SimulatorPositionChanges()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var camera = await SimulatedCamera.StartAsync(cancellationToken: ct);
        using var http = new HttpClient();
        var client = Client(camera, http);

        await client.ContinuousMoveAsync(Profile, 0.5, -0.25, 0, TimeSpan.FromSeconds(5), ct);
        Assert.True(camera.State.IsMoving);
        Assert.Equal((0.5, -0.25, 0.0), camera.State.Velocity);
        await Task.Delay(200, ct);
        await client.StopAsync(Profile, ct);

        Assert.False(camera.State.IsMoving);
        Assert.True(camera.State.Position.Pan > 0.05);
        Assert.True(camera.State.Position.Tilt < -0.02);
        Assert.Equal(1, camera.State.StopCommands);
        Assert.Equal("127.0.0.1", client.Services.Ptz!.Host); // rebased from the LAN address the camera reports
    }

    [Fact]
    public async Task GotoPreset_KnownPreset_MovesThere()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var camera = await SimulatedCamera.StartAsync(cancellationToken: ct);
        using var http = new HttpClient();
        var client = Client(camera, http);

        var presets = await client.GetPresetsAsync(Profile, ct);
        await client.GotoPresetAsync(Profile, presets.Single(p => p.Name == "Street").Token, ct);

        Assert.Equal(3, presets.Count);
        Assert.Equal("2", camera.State.LastPreset);
        Assert.Equal(0.5, camera.State.Position.Pan);
    }

    [Fact]
    public async Task SetRelayOutputState_WarningLight_TogglesSimulatorState()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var camera = await SimulatedCamera.StartAsync(cancellationToken: ct);
        using var http = new HttpClient();
        var client = Client(camera, http);

        var relay = Assert.Single(await client.GetRelayOutputsAsync(ct));
        await client.SetRelayOutputStateAsync(relay, true, ct);
        Assert.True(camera.State.WarningLightOn);
        await client.SetRelayOutputStateAsync(relay, false, ct);

        Assert.False(camera.State.WarningLightOn);
    }

    [Fact]
    public async Task SendAuxiliaryCommand_Siren_IsRecorded()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var camera = await SimulatedCamera.StartAsync(cancellationToken: ct);
        using var http = new HttpClient();

        var answer = await Client(camera, http).SendAuxiliaryCommandAsync(Profile, "tt:Siren|On", ct);

        Assert.Equal("tt:Siren|On", answer);
        Assert.True(camera.State.WarningLightOn);
        Assert.Equal(["tt:Siren|On"], camera.State.AuxiliaryCommands);
    }

    [Fact]
    public async Task ContinuousMove_WrongPassword_ThrowsAuthenticationException()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var camera = await SimulatedCamera.StartAsync(cancellationToken: ct);
        using var http = new HttpClient();

        var ex = await Assert.ThrowsAsync<OnvifAuthenticationException>(() => Client(camera, http, "wrong").ContinuousMoveAsync(Profile, 1, 0, 0, null, ct));

        Assert.Equal("ter:NotAuthorized", ex.FaultSubcode);
        Assert.False(camera.State.IsMoving);
        Assert.True(camera.Onvif.AuthenticationFailures > 0);
    }

    [Fact]
    public async Task GotoPreset_UnknownProfile_ThrowsTypedFault()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var camera = await SimulatedCamera.StartAsync(cancellationToken: ct);
        using var http = new HttpClient();

        var ex = await Assert.ThrowsAsync<OnvifException>(() => Client(camera, http).GotoPresetAsync("nope", "1", ct));

        Assert.IsNotType<OnvifAuthenticationException>(ex);
        Assert.Equal("ter:NoProfile", ex.FaultSubcode);
        Assert.Equal(400, ex.HttpStatus);
    }

    [Fact]
    public async Task GetProfiles_MediaService_ListsTheProfile()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var camera = await SimulatedCamera.StartAsync(cancellationToken: ct);
        using var http = new HttpClient();

        var profile = Assert.Single(await Client(camera, http).GetProfilesAsync(ct));

        Assert.Equal(Profile, profile.Token);
    }
}
