namespace Portal.Media.Bridges;

/// <summary>What one camera did with our keyframe requests, for the diagnostics page.</summary>
/// <param name="Requests">Requests sent (RTCP PLI/FIR, and the HTTP hook where one is configured).</param>
/// <param name="Answered">Waits for a keyframe that ended within <see cref="CameraKeyframeStats.PromptWindow"/> of the first request.</param>
/// <param name="Late">Waits that ended later: the camera most likely sent its next scheduled IDR, not an answer.</param>
/// <param name="LastDelayMs">First request to keyframe, the latest wait.</param>
/// <param name="MedianDelayMs">The same, median of the latest waits.</param>
/// <param name="GopSeconds">The camera's own keyframe interval, from two keyframes with no request between them.</param>
/// <param name="HonoursRequests">
/// True when most waits were answered promptly, false when most were not, null before any wait (or when the camera's
/// own GOP is so short that a prompt keyframe proves nothing).
/// </param>
public sealed record CameraKeyframeSnapshot(long Requests, int Answered, int Late, double? LastDelayMs, double? MedianDelayMs, double? GopSeconds, bool? HonoursRequests);

/// <summary>
/// Whether a camera honours keyframe requests: the time from the first request of a wait (a viewer joined and no
/// keyframe was cached) to the keyframe that ended it. Kept per camera by <see cref="CameraHub"/> across pulls.
/// </summary>
public sealed class CameraKeyframeStats(TimeProvider time)
{
    /// <summary>A keyframe this soon after the request counts as the camera's answer.</summary>
    public static readonly TimeSpan PromptWindow = TimeSpan.FromMilliseconds(500);

    private const int KeptDelays = 32;

    private readonly Lock _gate = new();
    private readonly double[] _delays = new double[KeptDelays];
    private int _delayCount;
    private long _requests;
    private int _answered;
    private int _late;
    private long? _waitingSince;
    private long? _lastNaturalKeyframe;
    private bool _requestSinceKeyframe;
    private double? _lastDelay;
    private double? _gopSeconds;

    /// <summary>A request went to the camera; the first of a wait starts the clock.</summary>
    public void OnRequested()
    {
        lock (_gate)
        {
            _requests++;
            _waitingSince ??= time.GetTimestamp();
            _requestSinceKeyframe = true;
        }
    }

    /// <summary>A keyframe arrived: it ends the wait, or (with no request since the last one) measures the camera's GOP.</summary>
    public void OnKeyframe()
    {
        var now = time.GetTimestamp();
        lock (_gate)
        {
            if (_waitingSince is { } since)
            {
                var delay = time.GetElapsedTime(since, now).TotalMilliseconds;
                if (delay <= PromptWindow.TotalMilliseconds)
                {
                    _answered++;
                }
                else
                {
                    _late++;
                }

                _lastDelay = delay;
                _delays[_delayCount++ % KeptDelays] = delay;
                _waitingSince = null;
            }
            else if (!_requestSinceKeyframe && _lastNaturalKeyframe is { } last)
            {
                _gopSeconds = time.GetElapsedTime(last, now).TotalSeconds;
            }

            _lastNaturalKeyframe = _requestSinceKeyframe ? null : now;
            _requestSinceKeyframe = false;
        }
    }

    /// <summary>A new RTSP session: a wait from the old one no longer measures anything.</summary>
    public void OnNewSession()
    {
        lock (_gate)
        {
            _waitingSince = null;
            _lastNaturalKeyframe = null;
            _requestSinceKeyframe = false;
        }
    }

    public CameraKeyframeSnapshot Snapshot()
    {
        lock (_gate)
        {
            double? median = null;
            var count = Math.Min(_delayCount, KeptDelays);
            if (count > 0)
            {
                var sorted = _delays.AsSpan(0, count).ToArray();
                Array.Sort(sorted);
                median = sorted[count / 2];
            }

            bool? honours = _answered + _late == 0 || _gopSeconds < 2 * PromptWindow.TotalSeconds ? null : _answered >= _late;
            return new CameraKeyframeSnapshot(_requests, _answered, _late, _lastDelay, median, _gopSeconds, honours);
        }
    }
}
