using Portal.Media.Sip.Transport;

namespace Portal.Media.Sip.Transactions;

/// <summary>
/// A server transaction (RFC 3261 §17.2): absorbs retransmitted requests by repeating the last response,
/// retransmits a final INVITE response until the ACK (UDP), and forgets itself when its timers end.
/// </summary>
/// <remarks>
/// <code>
/// INVITE:     Proceeding --1xx--> Proceeding --2xx--> Accepted --L (64*T1)--> Terminated   (RFC 6026 §8.7)
///                        --300-699--> Completed --ACK--> Confirmed --I (T4 / 0)--> Terminated
///                                     Completed --G: resend (UDP)--  --H (64*T1) without ACK--> Terminated
/// non-INVITE: Trying --1xx--> Proceeding --final--> Completed --J (64*T1 UDP / 0)--> Terminated
/// </code>
/// A non-INVITE transaction completed over UDP leaves the layer's table at once: the layer keeps only its final answer
/// for Timer J (<see cref="SipTransactionLayer.Complete"/>), which is all a retransmitted request needs.
/// In Accepted the 2xx is retransmitted by the UA core (RFC 3261 §13.3.1.4), not here. A CANCEL that matches
/// cancels <see cref="Cancelled"/>, which the UA turns into 487. Every request the TU leaves unanswered for
/// longer than <see cref="SipOptions.UnansweredTimeout"/> (non-INVITE) is dropped rather than kept forever.
/// </remarks>
#pragma warning disable CA1001 // the CancellationTokenSource is never disposed on purpose: the UA may hold its token past the transaction
public sealed class SipServerTransaction
#pragma warning restore CA1001
{
    private readonly SipTransactionLayer _stack;
    private readonly Lock _sync = new();
    private readonly CancellationTokenSource _cancelled = new();
    private ITimer? _retransmit;
    private ITimer? _timeout;
    private TimeSpan _interval;
    private byte[]? _lastResponse;
    private int _lastStatus;

    internal SipServerTransaction(SipTransactionLayer stack, string key, SipRequest request, SipEndPoint source)
    {
        _stack = stack;
        Key = key;
        Request = request;
        Source = source;
        IsInvite = request.Method == SipMethods.Invite;
        State = IsInvite ? SipTransactionState.Proceeding : SipTransactionState.Trying;
        ResponseDestination = SipTransactionLayer.ResponseDestination(request, source);
    }

    public SipRequest Request { get; }

    /// <summary>Where the request came from (address and connection).</summary>
    public SipEndPoint Source { get; }

    /// <summary>Where responses go (RFC 3261 §18.2.2, RFC 3581 rport).</summary>
    public SipEndPoint ResponseDestination { get; }

    public bool IsInvite { get; }

    public SipTransactionState State { get; private set; }

    /// <summary>Cancelled when a matching CANCEL arrives (RFC 3261 §9.2); the INVITE is then answered 487.</summary>
    public CancellationToken Cancelled => _cancelled.Token;

    public bool HasFinalResponse => _lastStatus >= 200;

    /// <summary>The last status sent, 0 before any.</summary>
    public int LastStatus => _lastStatus;

    internal string Key { get; }

    /// <summary>Sends a response in this transaction; a second final response is ignored (false).</summary>
    public ValueTask<bool> RespondAsync(SipResponse response)
    {
        ArgumentNullException.ThrowIfNull(response);
        var bytes = response.ToBytes();
        var completed = false;
        lock (_sync)
        {
            if (State is SipTransactionState.Completed or SipTransactionState.Confirmed or SipTransactionState.Accepted or SipTransactionState.Terminated)
            {
                return ValueTask.FromResult(false);
            }

            _lastResponse = bytes;
            _lastStatus = response.StatusCode;
            var timers = _stack.Timers;
            var reliable = ResponseDestination.IsReliable;
            if (response.IsProvisional)
            {
                State = SipTransactionState.Proceeding;
            }
            else if (IsInvite && response.IsSuccess)
            {
                State = SipTransactionState.Accepted;
                Schedule(ref _timeout, timers.Timeout, OnTimeout);
            }
            else if (IsInvite)
            {
                State = SipTransactionState.Completed;
                if (!reliable)
                {
                    _interval = timers.T1;
                    Schedule(ref _retransmit, _interval, OnRetransmitTimer);
                }

                Schedule(ref _timeout, timers.Timeout, OnTimeout); // Timer H
            }
            else
            {
                // Timer J: 0 on a stream, so the transaction ends now; 64*T1 on UDP, kept by the layer as the answer alone
                // (no timer, no request: a registration storm holds tens of thousands of these).
                State = SipTransactionState.Completed;
                _timeout?.Dispose();
                _timeout = null;
                completed = true;
            }
        }

        if (completed)
        {
            if (ResponseDestination.IsReliable)
            {
                Terminate();
            }
            else
            {
                _stack.Complete(this, bytes);
            }
        }

        return _stack.TransmitAsync(ResponseDestination, bytes);
    }

    /// <summary>Creates a response to this request and sends it.</summary>
    public ValueTask<bool> RespondAsync(int status, string? reason = null) =>
        RespondAsync(SipRequestValidator.Reject(Request, status, reason));

    /// <summary>The request came again: repeat the last response (RFC 3261 §17.2.1, §17.2.2).</summary>
    internal void OnRetransmission()
    {
        byte[]? again;
        lock (_sync)
        {
            again = State is SipTransactionState.Proceeding or SipTransactionState.Completed ? _lastResponse : null;
        }

        if (again is not null)
        {
            _stack.Transmit(ResponseDestination, again);
        }
    }

    /// <summary>The ACK for our 300-699 answer (same branch): stop retransmitting (RFC 3261 §17.2.1).</summary>
    internal void OnAck()
    {
        lock (_sync)
        {
            if (State != SipTransactionState.Completed)
            {
                return;
            }

            State = SipTransactionState.Confirmed;
            _retransmit?.Dispose();
            _retransmit = null;
            Schedule(ref _timeout, ResponseDestination.IsReliable ? TimeSpan.Zero : _stack.Timers.T4, OnTimeout); // Timer I
        }
    }

    internal void OnCancel()
    {
        _cancelled.Cancel();
    }

    /// <summary>Starts the watchdog for a TU that never answers (non-INVITE only; a ringing call may wait long).</summary>
    internal void StartUnansweredWatchdog(TimeSpan limit)
    {
        lock (_sync)
        {
            if (!IsInvite && State == SipTransactionState.Trying)
            {
                Schedule(ref _timeout, limit, OnTimeout);
            }
        }
    }

    internal void Terminate()
    {
        lock (_sync)
        {
            State = SipTransactionState.Terminated;
            _retransmit?.Dispose();
            _timeout?.Dispose();
            _retransmit = _timeout = null;
        }

        _stack.Forget(this); // the CancellationTokenSource stays undisposed: the UA may still hold its token
    }

    private void OnRetransmitTimer()
    {
        byte[]? again = null;
        lock (_sync)
        {
            if (State == SipTransactionState.Completed && _lastResponse is not null)
            {
                again = _lastResponse;
                _interval = _stack.Timers.Next(_interval, capped: true);
                Schedule(ref _retransmit, _interval, OnRetransmitTimer); // Timer G
            }
        }

        if (again is not null)
        {
            _stack.Transmit(ResponseDestination, again);
        }
    }

    private void OnTimeout() => Terminate();

    private void Schedule(ref ITimer? timer, TimeSpan due, Action action)
    {
        timer?.Dispose();
        timer = _stack.Time.CreateTimer(static state => ((Action)state!)(), action, due, Timeout.InfiniteTimeSpan);
    }
}
