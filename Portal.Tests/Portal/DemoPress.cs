using System.Text.Json;
using Portal.Core.Demo;
using Portal.Simulator.Terminals;
using Xunit;

namespace Portal.Tests.Portal;

/// <summary>
/// A demo city's alarm terminal pressed on the signed device API with its demo key, as the browser tests do to raise an
/// alarm: the press must be accepted (a new alarm, or one joined), and the alarm's id comes back.
/// </summary>
public static class DemoPress
{
    /// <summary>Presses <paramref name="serial"/>'s button through <paramref name="http"/>; the alarm's id.</summary>
    public static async Task<int> AlarmAsync(HttpClient http, string serial, CancellationToken ct = default)
    {
        var result = await new SignedAlarmClient(http, serial, DemoCity.DemoApiKeyPrefix + serial).PressAsync(ct: ct);
        Assert.True((int)result.Status is 200 or 201, result.Body);
        return AlarmId(result);
    }

    /// <summary>Presses <paramref name="serial"/>'s button on the portal at <paramref name="baseUrl"/>; the alarm's id.</summary>
    public static async Task<int> AlarmAsync(string baseUrl, string serial, CancellationToken ct = default)
    {
        using var http = new HttpClient { BaseAddress = new Uri(baseUrl) };
        return await AlarmAsync(http, serial, ct);
    }

    /// <summary>The alarm's id in an accepted press's answer.</summary>
    public static int AlarmId(AlarmPressResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        using var json = JsonDocument.Parse(result.Body);
        return json.RootElement.GetProperty("alarmId").GetInt32();
    }
}
