using Portal.Media.Sip.Headers;
using Portal.Media.Sip.Transport;

namespace Portal.Media.Sip.Transactions;

/// <summary>
/// A client transaction (RFC 3261 §17.1): sends a request, retransmits it on UDP until a response, times out
/// with a synthesized 408, and for INVITE acknowledges a failure itself and can be cancelled.
/// </summary>
/// <remarks>
/// <code>
/// INVITE:     Calling --A: resend (UDP, T1 doubling)-- --B (64*T1)--> 408
///             Calling/Proceeding --2xx--> Accepted --M (64*T1)--> Terminated        (RFC 6026 §8.4; the TU ACKs 2xx)
///             Calling/Proceeding --300-699--> Completed (ACK sent) --D (64*T1 UDP / 0)--> Terminated
/// non-INVITE: Trying --E: resend (T1 doubling to T2)-- --F (64*T1)--> 408
///             Trying/Proceeding --final--> Completed --K (T4 UDP / 0)--> Terminated
/// </code>
/// A transport failure completes the transaction with a synthesized 503 (RFC 3261 §8.1.3.1).
/// </remarks>
public sealed class SipClientTransaction
{
    private readonly SipTransactionLayer _stack;
    private readonly Lock _sync = new();
    private readonly TaskCompletionSource<SipResponse> _final = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly byte[] _bytes;
    private ITimer? _retransmit;
    private ITimer? _timeout;
    private TimeSpan _interval;
    private byte[]? _ack;
    private bool _cancelRequested;
    private bool _cancelSent;

    internal SipClientTransaction(SipTransactionLayer stack, string key, SipRequest request, SipEndPoint destination)
    {
        _stack = stack;
        Key = key;
        Request = request;
        Destination = destination;
        IsInvite = request.Method == SipMethods.Invite;
        State = IsInvite ? SipTransactionState.Calling : SipTransactionState.Trying;
        _bytes = request.ToBytes();
    }

    /// <summary>Raised for each provisional response (on the receive loop: return quickly).</summary>
    public event Action<SipClientTransaction, SipResponse>? Provisional;

    public SipRequest Request { get; }

    public SipEndPoint Destination { get; }

    public bool IsInvite { get; }

    public SipTransactionState State { get; private set; }

    /// <summary>Completes with the final response: received, or 408 on timeout, or 503 when the transport failed.</summary>
    public Task<SipResponse> Completion => _final.Task;

    internal string Key { get; }

    /// <summary>
    /// Cancels a pending INVITE (RFC 3261 §9.1): sends CANCEL once a provisional response has arrived, or as soon
    /// as one does. The INVITE then completes with 487 (or with 200 if the far end answered first).
    /// </summary>
    public void Cancel()
    {
        bool send;
        lock (_sync)
        {
            if (!IsInvite || _cancelRequested || State is not (SipTransactionState.Calling or SipTransactionState.Proceeding))
            {
                return;
            }

            _cancelRequested = true;
            send = State == SipTransactionState.Proceeding;
            _cancelSent |= send;
        }

        if (send)
        {
            SendCancel();
        }
    }

    internal async Task StartAsync()
    {
        lock (_sync)
        {
            var timers = _stack.Timers;
            if (!Destination.IsReliable)
            {
                _interval = timers.T1;
                Schedule(ref _retransmit, _interval, OnRetransmitTimer);
            }

            Schedule(ref _timeout, timers.Timeout, OnTimeout);
        }

        if (!await _stack.TransmitAsync(Destination, _bytes).ConfigureAwait(false))
        {
            Finish(Synthesize(SipStatus.ServiceUnavailable, "Transport failure"));
        }
    }

    internal void OnResponse(SipResponse response)
    {
        var raiseProvisional = false;
        var sendCancel = false;
        byte[]? resendAck = null;
        lock (_sync)
        {
            switch (State)
            {
                case SipTransactionState.Calling or SipTransactionState.Trying or SipTransactionState.Proceeding when response.IsProvisional:
                    if (State != SipTransactionState.Proceeding)
                    {
                        State = SipTransactionState.Proceeding;
                        if (IsInvite)
                        {
                            // RFC 3261 §17.1.1.2: no more retransmissions, and no Timer B once the far end is ringing.
                            _retransmit?.Dispose();
                            _timeout?.Dispose();
                            _retransmit = _timeout = null;
                        }
                        else if (_retransmit is not null)
                        {
                            _interval = _stack.Timers.T2; // §17.1.2.2: Proceeding retransmits every T2
                        }
                    }

                    sendCancel = _cancelRequested && !_cancelSent;
                    _cancelSent |= sendCancel;
                    raiseProvisional = true;
                    break;
                case SipTransactionState.Calling or SipTransactionState.Trying or SipTransactionState.Proceeding:
                    StopTimers();
                    _final.TrySetResult(response); // before any zero-length timer can end the transaction
                    var reliable = Destination.IsReliable;
                    if (IsInvite && response.IsSuccess)
                    {
                        State = SipTransactionState.Accepted;
                        Schedule(ref _timeout, _stack.Timers.Timeout, Terminate); // Timer M
                    }
                    else if (IsInvite)
                    {
                        State = SipTransactionState.Completed;
                        _ack = CreateAck(response).ToBytes();
                        resendAck = _ack;
                        Schedule(ref _timeout, reliable ? TimeSpan.Zero : _stack.Timers.TimerD, Terminate);
                    }
                    else
                    {
                        State = SipTransactionState.Completed;
                        Schedule(ref _timeout, reliable ? TimeSpan.Zero : _stack.Timers.T4, Terminate); // Timer K
                    }

                    break;
                case SipTransactionState.Completed when IsInvite && !response.IsProvisional:
                    resendAck = _ack; // the final came again: our ACK was lost
                    break;
                case SipTransactionState.Accepted when response.IsSuccess:
                    _stack.RaiseStrayResponse(response, Destination); // a 2xx retransmission: the dialog re-ACKs
                    return;
                default:
                    return;
            }
        }

        if (resendAck is not null)
        {
            _stack.Transmit(Destination, resendAck);
        }

        if (sendCancel)
        {
            SendCancel();
        }

        if (raiseProvisional)
        {
            Provisional?.Invoke(this, response);
        }
    }

    internal void Terminate()
    {
        lock (_sync)
        {
            State = SipTransactionState.Terminated;
            StopTimers();
        }

        _stack.Forget(this);
        _final.TrySetResult(Synthesize(SipStatus.RequestTimeout, "Transaction ended"));
    }

    /// <summary>The ACK for a 300-699 answer: same branch, the INVITE's Request-URI and Route, the response's To (RFC 3261 §17.1.1.3).</summary>
    private SipRequest CreateAck(SipResponse response)
    {
        var ack = new SipRequest(SipMethods.Ack, Request.RequestUriText);
        ack.Headers.Add(SipHeaderNames.Via, Request.Headers[SipHeaderNames.Via]!);
        ack.Headers.Add(SipHeaderNames.MaxForwards, "70");
        ack.Headers.Add(SipHeaderNames.From, Request.Headers[SipHeaderNames.From]!);
        ack.Headers.Add(SipHeaderNames.To, response.Headers[SipHeaderNames.To] ?? Request.Headers[SipHeaderNames.To]!);
        ack.Headers.Add(SipHeaderNames.CallId, Request.CallId!);
        ack.Headers.Add(SipHeaderNames.CSeq, new SipCSeqHeader(Request.CSeq!.Number, SipMethods.Ack).ToString());
        foreach (var route in Request.Headers.GetAll(SipHeaderNames.Route))
        {
            ack.Headers.Add(SipHeaderNames.Route, route);
        }

        return ack;
    }

    /// <summary>CANCEL: the INVITE's Request-URI, Call-ID, To, From, CSeq number, Route and top Via (same branch) (RFC 3261 §9.1).</summary>
    private void SendCancel()
    {
        var cancel = new SipRequest(SipMethods.Cancel, Request.RequestUriText);
        cancel.Headers.Add(SipHeaderNames.Via, Request.Headers[SipHeaderNames.Via]!);
        cancel.Headers.Add(SipHeaderNames.MaxForwards, "70");
        cancel.Headers.Add(SipHeaderNames.From, Request.Headers[SipHeaderNames.From]!);
        cancel.Headers.Add(SipHeaderNames.To, Request.Headers[SipHeaderNames.To]!);
        cancel.Headers.Add(SipHeaderNames.CallId, Request.CallId!);
        cancel.Headers.Add(SipHeaderNames.CSeq, new SipCSeqHeader(Request.CSeq!.Number, SipMethods.Cancel).ToString());
        foreach (var route in Request.Headers.GetAll(SipHeaderNames.Route))
        {
            cancel.Headers.Add(SipHeaderNames.Route, route);
        }

        _ = _stack.SendPreparedAsync(cancel, Destination);
    }

    private void OnRetransmitTimer()
    {
        lock (_sync)
        {
            if (State is not (SipTransactionState.Calling or SipTransactionState.Trying or SipTransactionState.Proceeding) || _retransmit is null)
            {
                return;
            }

            _interval = State == SipTransactionState.Proceeding ? _stack.Timers.T2 : _stack.Timers.Next(_interval, capped: !IsInvite);
            Schedule(ref _retransmit, _interval, OnRetransmitTimer);
        }

        _stack.Transmit(Destination, _bytes);
    }

    private void OnTimeout()
    {
        lock (_sync)
        {
            if (State is not (SipTransactionState.Calling or SipTransactionState.Trying or SipTransactionState.Proceeding))
            {
                return;
            }
        }

        Finish(Synthesize(SipStatus.RequestTimeout, "Request Timeout"));
    }

    private void Finish(SipResponse response)
    {
        _final.TrySetResult(response);
        Terminate();
    }

    private SipResponse Synthesize(int status, string reason) => SipResponse.CreateFor(Request, status, reason);

    private void StopTimers()
    {
        _retransmit?.Dispose();
        _timeout?.Dispose();
        _retransmit = _timeout = null;
    }

    private void Schedule(ref ITimer? timer, TimeSpan due, Action action)
    {
        timer?.Dispose();
        timer = _stack.Time.CreateTimer(static state => ((Action)state!)(), action, due, Timeout.InfiniteTimeSpan);
    }
}
