namespace Portal.Simulator.Cameras;

/// <summary>What the simulated camera's ONVIF side has been told to do; readable by tests and the demo UI.</summary>
public sealed class SimulatedCameraState(TimeProvider time)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, bool> _relays = new(StringComparer.Ordinal) { ["relay1"] = false };
    private readonly List<string> _auxiliaryCommands = [];
    private (double Pan, double Tilt, double Zoom) _position;
    private (double Pan, double Tilt, double Zoom) _velocity;
    private long _movingSince;
    private long? _moveEnds;

    /// <summary>Full-range pan per second at velocity 1: the whole -1..1 range in two seconds.</summary>
    public const double UnitsPerSecond = 1.0;

    public static IReadOnlyList<(string Token, string Name, double Pan, double Tilt, double Zoom)> Presets { get; } =
    [
        ("1", "Gate", 0.0, 0.0, 0.0),
        ("2", "Street", 0.5, -0.2, 0.3),
        ("3", "Yard", -0.6, 0.1, 0.0),
    ];

    public (double Pan, double Tilt, double Zoom) Position
    {
        get
        {
            lock (_gate)
            {
                return CurrentPosition();
            }
        }
    }

    public (double Pan, double Tilt, double Zoom) Velocity
    {
        get
        {
            lock (_gate)
            {
                return IsMovingNow() ? _velocity : default;
            }
        }
    }

    public bool IsMoving
    {
        get
        {
            lock (_gate)
            {
                return IsMovingNow();
            }
        }
    }

    public int MoveCommands { get; private set; }

    public int StopCommands { get; private set; }

    public string? LastPreset { get; private set; }

    public IReadOnlyList<string> AuxiliaryCommands
    {
        get
        {
            lock (_gate)
            {
                return [.. _auxiliaryCommands];
            }
        }
    }

    /// <summary>True while the warning light/siren is on: relay1 active, or the last aux command switched it on.</summary>
    public bool WarningLightOn
    {
        get
        {
            lock (_gate)
            {
                return _relays["relay1"] || (_auxiliaryCommands.Count > 0 && _auxiliaryCommands[^1].EndsWith("|On", StringComparison.OrdinalIgnoreCase));
            }
        }
    }

    public IReadOnlyDictionary<string, bool> Relays
    {
        get
        {
            lock (_gate)
            {
                return new Dictionary<string, bool>(_relays);
            }
        }
    }

    public void ContinuousMove(double pan, double tilt, double zoom, TimeSpan? timeout)
    {
        lock (_gate)
        {
            _position = CurrentPosition();
            _velocity = (pan, tilt, zoom);
            _movingSince = time.GetTimestamp();
            _moveEnds = timeout is { } t ? _movingSince + (long)(t.TotalSeconds * time.TimestampFrequency) : null;
            MoveCommands++;
        }
    }

    public void Stop()
    {
        lock (_gate)
        {
            _position = CurrentPosition();
            _velocity = default;
            _moveEnds = null;
            StopCommands++;
        }
    }

    public bool GotoPreset(string token)
    {
        lock (_gate)
        {
            var preset = Presets.FirstOrDefault(p => p.Token == token);
            if (preset.Token is null)
            {
                return false;
            }

            _velocity = default;
            _position = (preset.Pan, preset.Tilt, preset.Zoom);
            LastPreset = token;
            return true;
        }
    }

    public bool SetRelay(string token, bool active)
    {
        lock (_gate)
        {
            if (!_relays.ContainsKey(token))
            {
                return false;
            }

            _relays[token] = active;
            return true;
        }
    }

    public void AddAuxiliaryCommand(string command)
    {
        lock (_gate)
        {
            _auxiliaryCommands.Add(command);
        }
    }

    private bool IsMovingNow() =>
        _velocity != default && (_moveEnds is not { } end || time.GetTimestamp() < end);

    private (double, double, double) CurrentPosition()
    {
        if (_velocity == default)
        {
            return _position;
        }

        var now = time.GetTimestamp();
        var until = _moveEnds is { } end && end < now ? end : now;
        var seconds = (until - _movingSince) / (double)time.TimestampFrequency * UnitsPerSecond;
        return (
            Math.Clamp(_position.Pan + (_velocity.Pan * seconds), -1, 1),
            Math.Clamp(_position.Tilt + (_velocity.Tilt * seconds), -1, 1),
            Math.Clamp(_position.Zoom + (_velocity.Zoom * seconds), 0, 1));
    }
}
