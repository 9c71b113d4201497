using System.Collections.Concurrent;

namespace Portal.Simulator.Cameras;

/// <summary>How one camera of a fleet behaves toward a client.</summary>
public enum CameraAvailability
{
    /// <summary>Answers RTSP and ONVIF normally.</summary>
    Up,

    /// <summary>Gone (unplugged, not yet wired): connections for it are closed without an answer, its streams dropped.</summary>
    Down,

    /// <summary>Hung: connections are accepted and requests read, never answered.</summary>
    Hang,

    /// <summary>RTSP answers, ONVIF does not (its web service crashed): a degraded camera.</summary>
    OnvifDown,
}

/// <summary>
/// Many cameras behind one simulated camera's ports, each on its own path: <c>rtsp://host:port/{name}/Streaming/Channels/101</c>
/// and <c>http://host:port/{name}/onvif/device_service</c>, each up, down or hung on its own. Demo mode serves every demo
/// school's camera this way (one process, real protocol), and the health benchmark thousands.
/// </summary>
public sealed class SimulatedCameraFleet
{
    private readonly ConcurrentDictionary<string, CameraAvailability> _states = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>A camera's availability (cameras never set are <see cref="CameraAvailability.Up"/>).</summary>
    public CameraAvailability this[string name] => _states.TryGetValue(name, out var state) ? state : CameraAvailability.Up;

    /// <summary>Raised after a camera's availability changed (the RTSP server drops the streams of a camera going down).</summary>
    public event Action<string, CameraAvailability>? Changed;

    public void Set(string name, CameraAvailability availability)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        _states[name] = availability;
        Changed?.Invoke(name, availability);
    }

    /// <summary>
    /// The camera a request path names: its first segment, when what follows starts with <paramref name="cameraPath"/>
    /// (RTSP) or is <c>/onvif/...</c> (ONVIF); null for any other path.
    /// </summary>
    public static string? NameOf(string path, string cameraPath)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(cameraPath);
        if (path.Length < 2 || path[0] != '/')
        {
            return null;
        }

        var slash = path.IndexOf('/', 1);
        if (slash <= 1)
        {
            return null;
        }

        var rest = path[slash..];
        return rest.StartsWith(cameraPath, StringComparison.Ordinal) || rest.StartsWith("/onvif/", StringComparison.Ordinal) ? path[1..slash] : null;
    }
}
