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
/// <param name="Hook">The per-model keyframe hook's calls and answers, null when the camera has none.</param>
public sealed record CameraKeyframeSnapshot(long Requests, int Answered, int Late, double? LastDelayMs, double? MedianDelayMs, double? GopSeconds, bool? HonoursRequests, CameraKeyframeHookSnapshot? Hook = null);

/// <summary>What a camera's keyframe hook (<see cref="CameraKeyframeHook"/>) did.</summary>
/// <param name="Calls">Requests sent (rate-limited).</param>
/// <param name="Failures">Requests that failed: no answer in time, a refused connection, a status other than 2xx.</param>
/// <param name="Answered">Waits ended by a keyframe within <see cref="CameraKeyframeStats.PromptWindow"/> of the hook's call.</param>
/// <param name="LastDelayMs">Hook call to keyframe, the latest wait it took part in.</param>
/// <param name="LastOutcome">The latest answer: HTTP status, "timeout" or the error's kind (never a credential).</param>
public sealed record CameraKeyframeHookSnapshot(long Calls, long Failures, int Answered, double? LastDelayMs, string? LastOutcome);

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
    private bool _hasHook;
    private long _hookCalls;
    private long _hookFailures;
    private int _hookAnswered;
    private long? _hookSince;
    private double? _hookLastDelay;
    private string? _hookOutcome;

    /// <summary>
    /// True when the camera has been seen to ignore RTCP requests (most waits ended late): a keyframe hook is then
    /// called at once instead of after <see cref="CameraHubOptions.KeyframeHookDelay"/>.
    /// </summary>
    public bool IgnoresRequests
    {
        get
        {
            lock (_gate)
            {
                return _late > _answered && _gopSeconds is not < 1.0;
            }
        }
    }

    /// <summary>The camera has a keyframe hook: the snapshot shows its figures, zero until called.</summary>
    public void OnHookConfigured()
    {
        lock (_gate)
        {
            _hasHook = true;
        }
    }

    /// <summary>The camera's keyframe hook was called (the wait's first call starts the hook's clock).</summary>
    public void OnHookCalled()
    {
        lock (_gate)
        {
            _hasHook = true;
            _hookCalls++;
            _hookSince ??= time.GetTimestamp();
            _requestSinceKeyframe = true;
        }
    }

    /// <summary>The hook's request ended: its HTTP status or error.</summary>
    public void OnHookResult(string outcome, bool failed)
    {
        lock (_gate)
        {
            _hookOutcome = outcome;
            if (failed)
            {
                _hookFailures++;
            }
        }
    }

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
                // A wait the hook had to be called in was not answered by RTCP in time, whatever ended it.
                var delay = time.GetElapsedTime(since, now).TotalMilliseconds;
                if (delay <= PromptWindow.TotalMilliseconds && _hookSince is null)
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

            if (_hookSince is { } hookSince)
            {
                var delay = time.GetElapsedTime(hookSince, now).TotalMilliseconds;
                _hookLastDelay = delay;
                if (delay <= PromptWindow.TotalMilliseconds)
                {
                    _hookAnswered++;
                }

                _hookSince = null;
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
            _hookSince = null;
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
            var hook = _hasHook ? new CameraKeyframeHookSnapshot(_hookCalls, _hookFailures, _hookAnswered, _hookLastDelay, _hookOutcome) : null;
            return new CameraKeyframeSnapshot(_requests, _answered, _late, _lastDelay, median, _gopSeconds, honours, hook);
        }
    }
}
