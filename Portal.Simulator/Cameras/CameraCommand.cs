using System.Globalization;

namespace Portal.Simulator.Cameras;

/// <summary>
/// <c>Portal.Simulator camera [--host 127.0.0.1] [--rtsp-port 8554] [--onvif-port 8080] [--user admin] [--password gate-cam-1] [--no-auth] [--fleet]</c>.
/// With <c>--fleet</c> it serves any number of cameras, each on its own path (<c>/{name}/Streaming/Channels/101</c>,
/// <c>/{name}/onvif/device_service</c>), prints <c>ready rtsp=... onvif=...</c>, and takes one command per line on its
/// standard input: <c>{name} up|down|hang|onvif-down</c>, answered <c>ok {name}</c> (or <c>error ...</c>); it stops when its
/// input ends, so it never outlives the process that drives it (the health benchmark).
/// </summary>
internal static class CameraCommand
{
    public const string Usage = "camera [--host H] [--rtsp-port N] [--onvif-port N] [--user U] [--password P] [--no-auth] [--sdp-only-parameter-sets] [--fleet]";

    public static async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        var options = new SimulatedCameraOptions { RtspPort = 8554, OnvifPort = 8080 };
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            options = args[i] switch
            {
                "--host" => options with { Host = Next() },
                "--rtsp-port" => options with { RtspPort = int.Parse(Next(), CultureInfo.InvariantCulture) },
                "--onvif-port" => options with { OnvifPort = int.Parse(Next(), CultureInfo.InvariantCulture) },
                "--user" => options with { Username = Next() },
                "--password" => options with { Password = Next() },
                "--no-auth" => options with { Username = null, Password = null },
                "--sdp-only-parameter-sets" => options with { InBandParameterSets = false },
                "--fleet" => options with { Fleet = new SimulatedCameraFleet() },
                _ => throw new ArgumentException($"unknown option {args[i]}"),
            };
        }

        await using var camera = await SimulatedCamera.StartAsync(options, cancellationToken: cancellationToken).ConfigureAwait(false);
        if (camera.Fleet is { } fleet)
        {
            return await RunFleetAsync(camera, fleet, cancellationToken).ConfigureAwait(false);
        }

        var credentials = options.Username is null ? "no authentication" : $"user '{options.Username}', password '{options.Password}'";
        Console.WriteLine($"Simulated gate camera ({credentials})");
        Console.WriteLine($"  RTSP   {camera.RtspUri}");
        Console.WriteLine($"  ONVIF  {camera.OnvifDeviceUri}  (profile {SimulatedOnvifService.ProfileToken}, relay relay1)");
        Console.WriteLine("Ctrl+C to stop.");
        try
        {
            await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        return 0;
    }

    private static async Task<int> RunFleetAsync(SimulatedCamera camera, SimulatedCameraFleet fleet, CancellationToken cancellationToken)
    {
        var rtsp = new UriBuilder(camera.RtspUri) { Path = "/" }.Uri;
        var onvif = new UriBuilder(camera.OnvifDeviceUri) { Path = "/" }.Uri;
        Console.WriteLine($"ready rtsp={rtsp} onvif={onvif}");
        Console.Out.Flush();
        while (await Console.In.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } line)
        {
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            CameraAvailability? availability = parts.Length != 2 ? null : parts[1].ToLowerInvariant() switch
            {
                "up" => CameraAvailability.Up,
                "down" => CameraAvailability.Down,
                "hang" => CameraAvailability.Hang,
                "onvif-down" => CameraAvailability.OnvifDown,
                _ => null,
            };
            if (availability is { } set)
            {
                fleet.Set(parts[0], set);
                Console.WriteLine("ok " + parts[0]);
            }
            else if (parts.Length > 0)
            {
                Console.WriteLine("error expected '{name} up|down|hang|onvif-down', got: " + line);
            }

            Console.Out.Flush();
        }

        return 0;
    }
}
