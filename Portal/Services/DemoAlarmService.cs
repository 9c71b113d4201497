using Portal.Core.Devices;
using Portal.Core.Security;
using Portal.Simulator.Terminals;

namespace Portal.Services;

/// <summary>
/// The administrator's "press the button" for demonstrations: it signs a request with the terminal's own
/// key and sends it to the portal's public address, so the demo alarm travels the same path as a real one.
/// </summary>
public sealed class DemoAlarmService(DeviceService devices, DeviceSecrets secrets, PortalEnvironment environment, IHttpClientFactory httpClients)
{
    public async Task<AlarmPressResult?> PressAsync(UserScope scope, int deviceId, CancellationToken ct = default)
    {
        scope.Require(Roles.Admin);
        var device = await devices.GetAsync(scope, deviceId, ct).ConfigureAwait(false);
        var key = secrets.Unprotect(device?.ApiKeyProtected);
        if (device is null || device.Kind != DeviceKind.AlarmTerminal || key is null)
        {
            return null;
        }

        var http = httpClients.CreateClient(nameof(DemoAlarmService));
        http.BaseAddress = new Uri(environment.PublicUrl);
        return await new SignedAlarmClient(http, device.SerialNumber, key).PressAsync(ct: ct).ConfigureAwait(false);
    }
}
