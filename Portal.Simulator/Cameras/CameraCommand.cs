using System.Globalization;

namespace Portal.Simulator.Cameras;

/// <summary><c>Portal.Simulator camera [--host 127.0.0.1] [--rtsp-port 8554] [--onvif-port 8080] [--user admin] [--password gate-cam-1] [--no-auth]</c></summary>
internal static class CameraCommand
{
    public const string Usage = "camera [--host H] [--rtsp-port N] [--onvif-port N] [--user U] [--password P] [--no-auth] [--sdp-only-parameter-sets]";

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
                _ => throw new ArgumentException($"unknown option {args[i]}"),
            };
        }

        await using var camera = await SimulatedCamera.StartAsync(options, cancellationToken: cancellationToken).ConfigureAwait(false);
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
}
