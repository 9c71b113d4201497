using Portal.Core.Alarms;
using Portal.Core.Security;

namespace Portal.Alarms;

/// <summary>
/// The rules of one console's alarm board, apart from how it is drawn (<c>AlarmConsole.razor</c> draws it):
/// which alarms it holds and in what order, which it may drop, which one pops up and notifies, what the header
/// counts say, and when the console draws. The rules that decide an alarm's latency live here so they are tested
/// with a fake clock in milliseconds (AlarmBoardTests), not only through Chromium.
/// <para>
/// Not thread-safe: every call comes on the console's dispatcher (the circuit's synchronization context), and
/// the board's own timers go back to it through the dispatch function it is given.
/// </para>
/// </summary>
public sealed class AlarmBoard : IDisposable
{
    /// <summary>How many cards one board slice holds (see AlarmChunk): a change redraws one slice, not the board.</summary>
    public const int ChunkSize = 50;

    /// <summary>Closed alarms kept on the board. Open ones are never dropped (DESIGN.md: a capped list loses alarms).</summary>
    public const int ClosedKept = 20;

    /// <summary>
    /// Under a flood the header count and the banner's number change at most once per this interval: each change
    /// of visible text costs every console a frame, and a count that ticks once a second is as useful to a
    /// person. The banner appearing or going and the ring level are never held back, and neither is a card.
    /// </summary>
    public static readonly TimeSpan CountInterval = TimeSpan.FromSeconds(1);

    /// <summary>
    /// A draw that the browser has not confirmed within this time no longer holds the next one back (a browser
    /// that went away; the circuit buffers what it cannot send).
    /// </summary>
    public static readonly TimeSpan AckTimeout = TimeSpan.FromSeconds(1);

    private readonly Dictionary<int, AlarmView> _alarms = [];
    private readonly List<int> _order = [];
    private readonly Dictionary<int, int> _position = [];
    private readonly List<int> _versions = [];
    private readonly UserScope _scope;
    private readonly TimeProvider _time;
    private readonly TimeSpan _renderInterval;
    private readonly Action _render;
    private readonly Func<Action, Task> _dispatch;
    private readonly ITimer _renderTimer;
    private readonly ITimer _countsTimer;
    private int _versionSeq;
    private int _open;
    private int _ringing;
    private int _escalated;
    private int _closed;
    private bool _inFlight;
    private bool _pending;
    private bool _renderTimerSet;
    private DateTimeOffset _renderTimerAt;
    private bool _countsTimerSet;
    private long _lastRender;
    private long _countsShownAt;
    private bool _disposed;

    /// <param name="scope">The console's user: alarms outside it leave the board (a transfer away).</param>
    /// <param name="time">The clock (FakeTimeProvider in tests).</param>
    /// <param name="render">Draws the console (its StateHasChanged); the board calls it on the dispatcher.</param>
    /// <param name="dispatch">Runs an action on the console's dispatcher (its InvokeAsync).</param>
    /// <param name="renderInterval">
    /// The least time between two draws. Zero: draw as soon as the browser has confirmed the last draw; under a
    /// flood the changes that arrive meanwhile go out together (see <see cref="RequestRender"/>).
    /// </param>
    public AlarmBoard(UserScope scope, TimeProvider time, Action render, Func<Action, Task> dispatch, TimeSpan renderInterval = default)
    {
        _scope = scope;
        _time = time;
        _render = render;
        _dispatch = dispatch;
        _renderInterval = renderInterval;
        _renderTimer = time.CreateTimer(_ => OnTimer(RenderTimerFired), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _countsTimer = time.CreateTimer(_ => OnTimer(CountsTimerFired), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Every alarm on the board by id (open ones, and the last <see cref="ClosedKept"/> closed).</summary>
    public IReadOnlyDictionary<int, AlarmView> Alarms => _alarms;

    /// <summary>How many slices the board has (see <see cref="Slice"/>).</summary>
    public int SliceCount => _versions.Count;

    /// <summary>What the header and banner show: held back under a flood (see <see cref="CountInterval"/>).</summary>
    public BoardCounts Shown { get; private set; }

    /// <summary>The counts as they are now.</summary>
    public BoardCounts Live => new(_open, _ringing, _ringing == 0 ? 0 : _escalated > 0 ? 2 : 1);

    /// <summary>The alarm whose pop-up is open, if any.</summary>
    public int? Selected { get; private set; }

    /// <summary>Bumped for each alarm a browser notification should announce; <see cref="NotifyAlarm"/> is that alarm.</summary>
    public int NotifySeq { get; private set; }

    public AlarmView? NotifyAlarm { get; private set; }

    /// <summary>How many draws the board asked for (diagnostics and tests).</summary>
    public int Renders { get; private set; }

    /// <summary>
    /// Arrival order, the longest waiting first (a dispatch queue): a new alarm joins the last slice, so the cards
    /// on screen never move.
    /// </summary>
    public IEnumerable<AlarmView> Slice(int index)
    {
        var end = Math.Min((index + 1) * ChunkSize, _order.Count);
        for (var i = index * ChunkSize; i < end; i++)
        {
            yield return _alarms[_order[i]];
        }
    }

    /// <summary>Whether slice <paramref name="index"/> holds <see cref="ChunkSize"/> cards: no new alarm joins it.</summary>
    public bool SliceIsFull(int index) => _order.Count >= (index + 1) * ChunkSize;

    /// <summary>Bumped whenever an alarm in slice <paramref name="index"/> changes; nothing else redraws a slice.</summary>
    public int SliceVersion(int index) => _versions[index];

    /// <summary>The open alarms when the console opens (any order); nothing pops up or notifies for them.</summary>
    public void Load(IEnumerable<AlarmView> open)
    {
        foreach (var alarm in open.OrderBy(a => a.RaisedUtc).ThenBy(a => a.Id))
        {
            if (!_alarms.ContainsKey(alarm.Id) && NotifierCanSee(alarm))
            {
                Put(alarm);
            }
        }

        Shown = Live;
        _countsShownAt = _time.GetTimestamp();
    }

    /// <summary>Takes changes pushed by the notifier, then draws (now, or with the next draw: <see cref="RequestRender"/>).</summary>
    public void Apply(IEnumerable<AlarmChange> changes)
    {
        var trim = false;
        foreach (var change in changes)
        {
            trim |= ApplyOne(change);
        }

        if (trim)
        {
            TrimClosed();
        }

        RequestRender();
    }

    /// <inheritdoc cref="Apply(IEnumerable{AlarmChange})"/>
    public void Apply(AlarmChange change) => Apply([change]);

    /// <summary>Opens an alarm's pop-up.</summary>
    public void Select(int id)
    {
        if (_alarms.ContainsKey(id))
        {
            Selected = id;
        }
    }

    /// <summary>Closes the pop-up.</summary>
    public void Deselect() => Selected = null;

    /// <summary>
    /// Draws now when the browser has confirmed the last draw (and <c>renderInterval</c> has passed); otherwise
    /// the next draw carries this change too, as soon as the browser confirms (<see cref="Rendered"/>). So a quiet
    /// console draws an alarm at once, and a busy one draws as often as its browser keeps up, each draw carrying
    /// every change since the last: never more draws queued than one.
    /// </summary>
    public void RequestRender()
    {
        if (_disposed)
        {
            return;
        }

        if (_inFlight && _time.GetElapsedTime(_lastRender) < AckTimeout)
        {
            _pending = true;
            ArmRenderTimer(AckTimeout - _time.GetElapsedTime(_lastRender));
            return;
        }

        var since = _time.GetElapsedTime(_lastRender); // from 0 (never drawn) this is very large
        if (since < _renderInterval)
        {
            _pending = true;
            ArmRenderTimer(_renderInterval - since);
            return;
        }

        RenderNow();
    }

    /// <summary>The console's OnAfterRender: the browser has applied a draw (Blazor Server runs it on the client's acknowledgement).</summary>
    public void Rendered()
    {
        _inFlight = false;
        if (_pending)
        {
            RequestRender();
        }
    }

    public void Dispose()
    {
        _disposed = true;
        _renderTimer.Dispose();
        _countsTimer.Dispose();
    }

    /// <summary>Whether the alarm rings on this console (see <see cref="AlarmNotifier.RingsFor"/>): counted in the banner, drawn as ringing.</summary>
    public bool RingsHere(AlarmView alarm) => AlarmNotifier.RingsFor(_scope, alarm);

    private bool NotifierCanSee(AlarmView alarm) => AlarmNotifier.CanSee(_scope, alarm);

    /// <summary>Returns true when the board may now hold more closed alarms than it keeps.</summary>
    private bool ApplyOne(AlarmChange change)
    {
        var alarm = change.Alarm;
        if (!NotifierCanSee(alarm))
        {
            // Passed on to a centre this console does not cover (a transfer away): it leaves the board.
            if (_alarms.ContainsKey(alarm.Id))
            {
                Remove([alarm.Id]);
            }

            return false;
        }

        var had = _alarms.TryGetValue(alarm.Id, out var old);
        Put(alarm);

        // A new alarm, an escalation, or a transfer that makes it ring here.
        var alert = !had || change.Kind == AlarmEventKind.Escalated || (change.Kind == AlarmEventKind.Transferred && !RingsHere(old!));
        if (RingsHere(alarm) && alert)
        {
            Selected ??= alarm.Id; // pop up at once
            NotifySeq++;
            NotifyAlarm = alarm;
        }

        return !alarm.IsOpen && _closed > ClosedKept;
    }

    /// <summary>Adds or replaces an alarm, keeps the counts, and marks its slice for redrawing.</summary>
    private void Put(AlarmView alarm)
    {
        if (_alarms.TryGetValue(alarm.Id, out var old))
        {
            Count(old, -1);
        }
        else
        {
            var index = _order.Count;
            _order.Add(alarm.Id);
            _position[alarm.Id] = index;
            if (index / ChunkSize >= _versions.Count)
            {
                _versions.Add(0);
            }
        }

        _alarms[alarm.Id] = alarm;
        Count(alarm, +1);
        _versions[_position[alarm.Id] / ChunkSize] = ++_versionSeq;
    }

    private void Count(AlarmView alarm, int sign)
    {
        var rings = RingsHere(alarm);
        _open += alarm.IsOpen ? sign : 0;
        _closed += alarm.IsOpen ? 0 : sign;
        _ringing += rings ? sign : 0;
        _escalated += rings && alarm.State == AlarmState.Escalated ? sign : 0;
    }

    /// <summary>Drops the closed alarms beyond the <see cref="ClosedKept"/> most recently closed (never an open one, never the one popped up).</summary>
    private void TrimClosed()
    {
        var drop = _alarms.Values.Where(a => !a.IsOpen && a.Id != Selected)
            .OrderByDescending(a => a.ClosedUtc).ThenByDescending(a => a.Id)
            .Skip(ClosedKept).Select(a => a.Id).ToList();
        if (drop.Count > 0)
        {
            Remove(drop);
        }
    }

    private void Remove(List<int> ids)
    {
        foreach (var id in ids)
        {
            Count(_alarms[id], -1);
            _alarms.Remove(id);
            if (Selected == id)
            {
                Selected = null;
            }
        }

        // Positions shift: rebuild the order and redraw every slice (rare: a close past ClosedKept, a transfer away).
        _order.RemoveAll(id => !_alarms.ContainsKey(id));
        _position.Clear();
        _versions.Clear();
        for (var i = 0; i < _order.Count; i++)
        {
            _position[_order[i]] = i;
            if (i % ChunkSize == 0)
            {
                _versions.Add(++_versionSeq);
            }
        }
    }

    private void RenderNow()
    {
        _inFlight = true;
        _pending = false;
        _lastRender = _time.GetTimestamp();
        RefreshCounts();
        Renders++;
        _render();
    }

    /// <summary>Takes the counts the header and banner show now, or holds them back (see <see cref="CountInterval"/>).</summary>
    private void RefreshCounts()
    {
        var live = Live;
        if (live == Shown)
        {
            return;
        }

        var since = _time.GetElapsedTime(_countsShownAt);
        if ((live.Ringing > 0) != (Shown.Ringing > 0) || live.Level != Shown.Level || since >= CountInterval)
        {
            Shown = live;
            _countsShownAt = _time.GetTimestamp();
        }
        else if (!_countsTimerSet)
        {
            _countsTimerSet = true;
            _countsTimer.Change(CountInterval - since, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>Sets the render timer to <paramref name="due"/> from now, unless it is set to fire sooner already.</summary>
    private void ArmRenderTimer(TimeSpan due)
    {
        var at = _time.GetUtcNow() + due;
        if (!_renderTimerSet || at < _renderTimerAt)
        {
            _renderTimerSet = true;
            _renderTimerAt = at;
            _renderTimer.Change(due, Timeout.InfiniteTimeSpan);
        }
    }

    private void RenderTimerFired()
    {
        _renderTimerSet = false;
        if (_pending)
        {
            RequestRender();
        }
    }

    private void CountsTimerFired()
    {
        _countsTimerSet = false;
        RequestRender();
    }

    private void OnTimer(Action action)
    {
        if (!_disposed)
        {
            _ = _dispatch(() =>
            {
                if (!_disposed)
                {
                    action();
                }
            });
        }
    }
}

/// <summary>What a board's header and banner say: open alarms, ringing ones, and the ring level (0 none, 1 ringing, 2 escalated).</summary>
public readonly record struct BoardCounts(int Open, int Ringing, int Level);
