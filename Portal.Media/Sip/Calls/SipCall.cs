using System.Net;
using Microsoft.Extensions.Logging;
using Portal.Media.Sdp;
using Portal.Media.Sip.Auth;
using Portal.Media.Sip.Transactions;
using Portal.Media.Sip.Transport;

namespace Portal.Media.Sip.Calls;

public enum SipCallDirection
{
    /// <summary>The terminal called us (the press).</summary>
    Incoming,

    /// <summary>We called the terminal (call-back).</summary>
    Outgoing,
}

public enum SipCallState
{
    /// <summary>Incoming: 180 sent, waiting for an operator. Outgoing: INVITE sent, waiting for the terminal.</summary>
    Ringing,

    /// <summary>Incoming: 200 sent, waiting for the ACK.</summary>
    Answering,

    /// <summary>Media flows.</summary>
    Active,

    Ended,
}

public enum SipCallEndReason
{
    None,

    /// <summary>We hung up (BYE, CANCEL or a decline while ringing).</summary>
    LocalHangUp,

    /// <summary>The terminal hung up (BYE).</summary>
    RemoteHangUp,

    /// <summary>The terminal gave up ringing (CANCEL, RFC 3261 §9).</summary>
    Cancelled,

    /// <summary>Refused (404, 403, 488...) or, outgoing, the terminal refused or never answered.</summary>
    Refused,

    /// <summary>Nobody answered within the ring limit.</summary>
    RingTimeout,

    /// <summary>Our 200 was never acknowledged (RFC 3261 §13.3.1.4): we sent BYE.</summary>
    NoAck,

    /// <summary>The portal is shutting down.</summary>
    Shutdown,
}

/// <summary>
/// One call with a terminal: its dialog, its media legs, and what an operator can do with it (answer, hang up).
/// Created by <see cref="SipUserAgent"/>; the application listens to <see cref="StateChanged"/>.
/// </summary>
/// <remarks>
/// A 200 to an INVITE is retransmitted by the UA core until its ACK arrives (T1 doubling to T2), and a call
/// whose ACK never comes is hung up after 64*T1 (RFC 3261 §13.3.1.4). State changes are raised off the caller's
/// thread, so a handler may call back into the call.
/// </remarks>
public sealed class SipCall : IAsyncDisposable
{
    private readonly SipUserAgent _agent;
    private readonly ILogger _logger;
    private readonly Lock _sync = new();
    private readonly TaskCompletionSource<SipCallEndReason> _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource<bool>? _acked;
    private ITimer? _retransmit;
    private ITimer? _giveUp;
    private byte[]? _pending2xx;
    private uint _pending2xxSequence;
    private SipEndPoint _pending2xxTarget;
    private TimeSpan _interval;
    private int _state;

    internal SipCall(SipUserAgent agent, SipCallDirection direction, SipDialog dialog, SipCallMedia media, SipAccount? account, string calledUser, ILogger logger)
    {
        _agent = agent;
        Direction = direction;
        Dialog = dialog;
        Media = media;
        Account = account;
        CalledUser = calledUser;
        _logger = logger;
        StartedUtc = agent.Time.GetUtcNow();
    }

    /// <summary>Raised (on the thread pool) after every state change.</summary>
    public event Action<SipCall>? StateChanged;

    public SipCallDirection Direction { get; }

    public SipCallState State => (SipCallState)Volatile.Read(ref _state);

    public SipDialog Dialog { get; }

    public SipCallMedia Media { get; }

    /// <summary>The authenticated account of the terminal (incoming) or the account called (outgoing), when known.</summary>
    public SipAccount? Account { get; }

    /// <summary>The user part of the Request-URI: the number dialled (the alarm number) or the terminal called.</summary>
    public string CalledUser { get; }

    public string CallId => Dialog.CallId;

    public DateTimeOffset StartedUtc { get; }

    /// <summary>The terminal's address (where its signalling comes from).</summary>
    public IPEndPoint RemoteAddress => Dialog.Flow.Address;

    public SipMediaPlan? Plan => Media.Plan;

    /// <summary>Completes when the call ends, with why.</summary>
    public Task<SipCallEndReason> Ended => _ended.Task;

    public SipCallEndReason EndReason => _ended.Task.IsCompleted ? _ended.Task.GetAwaiter().GetResult() : SipCallEndReason.None;

    internal SipServerTransaction? Invite { get; set; }

    internal SdpSession? LocalAnswer { get; set; }

    internal SipClientTransaction? OutgoingInvite { get; set; }

    internal byte[]? AckBytes { get; set; }

    /// <summary>Answers a ringing incoming call (200 OK with our SDP). True once the terminal acknowledged.</summary>
    public async Task<bool> AnswerAsync(CancellationToken cancellationToken = default)
    {
        SipServerTransaction invite;
        lock (_sync)
        {
            if (Direction != SipCallDirection.Incoming || State != SipCallState.Ringing || Invite is null || LocalAnswer is null)
            {
                return false;
            }

            invite = Invite;
            SetState(SipCallState.Answering);
        }

        var ok = _agent.CreateDialogResponse(invite.Request, this, SipStatus.Ok);
        ok.Headers.Add(SipHeaderNames.ContentType, "application/sdp");
        ok.Body = System.Text.Encoding.UTF8.GetBytes(LocalAnswer.ToString());
        Media.Apply(Plan!, RemoteAddress.Address);
        var acked = StartReliable2xx(ok, invite.Request.CSeq!.Number, invite.ResponseDestination);
        await invite.RespondAsync(ok).ConfigureAwait(false);
        return await acked.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Ends the call from our side: BYE when up, CANCEL when our INVITE rings, 603 when theirs rings.</summary>
    public async Task HangUpAsync()
    {
        SipCallState previous;
        lock (_sync)
        {
            previous = State;
            if (previous == SipCallState.Ended)
            {
                return;
            }
        }

        switch (previous)
        {
            case SipCallState.Ringing when Direction == SipCallDirection.Incoming:
                if (Invite is { } invite)
                {
                    await invite.RespondAsync(_agent.CreateDialogResponse(invite.Request, this, SipStatus.Decline)).ConfigureAwait(false);
                }

                break;
            case SipCallState.Ringing:
                OutgoingInvite?.Cancel();
                break;
            default:
                var bye = _agent.SendInDialog(this, SipMethods.Bye);
                End(SipCallEndReason.LocalHangUp);
                await bye.ConfigureAwait(false);
                return;
        }

        End(SipCallEndReason.LocalHangUp);
    }

    public async ValueTask DisposeAsync()
    {
        await HangUpAsync().ConfigureAwait(false);
        await Media.DisposeAsync().ConfigureAwait(false);
    }

    public override string ToString() => $"{Direction} call {CallId} ({State}, {CalledUser}, {RemoteAddress})";

    /// <summary>Marks the call ended once; frees the transaction hooks and the retransmission timers.</summary>
    internal void End(SipCallEndReason reason)
    {
        lock (_sync)
        {
            if (State == SipCallState.Ended)
            {
                return;
            }

            SetState(SipCallState.Ended);
            _retransmit?.Dispose();
            _giveUp?.Dispose();
            _acked?.TrySetResult(false);
        }

        _ended.TrySetResult(reason);
        _agent.Forget(this);
        _logger.LogInformation("SIP call {CallId} with {Remote} ended: {Reason}", CallId, RemoteAddress, reason);
        _ = Media.DisposeAsync().AsTask();
    }

    internal void MarkActive() => Transition(SipCallState.Active);

    /// <summary>An ACK arrived for <paramref name="sequence"/>: stop retransmitting the 2xx (RFC 3261 §13.3.1.4).</summary>
    internal void OnAck(uint sequence)
    {
        TaskCompletionSource<bool>? acked = null;
        lock (_sync)
        {
            if (_pending2xx is null || sequence != _pending2xxSequence)
            {
                return;
            }

            _pending2xx = null;
            _retransmit?.Dispose();
            _giveUp?.Dispose();
            acked = _acked;
            if (State == SipCallState.Answering)
            {
                SetState(SipCallState.Active);
            }
        }

        acked?.TrySetResult(true);
    }

    /// <summary>Sends a 2xx and keeps resending it until the ACK for <paramref name="sequence"/> (also for re-INVITE answers).</summary>
    internal Task<bool> StartReliable2xx(SipResponse ok, uint sequence, SipEndPoint target)
    {
        var acked = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_sync)
        {
            _pending2xx = ok.ToBytes();
            _pending2xxSequence = sequence;
            _pending2xxTarget = target;
            _acked = acked;
            var timers = _agent.Layer.Timers;
            _interval = timers.T1;
            _retransmit?.Dispose();
            _giveUp?.Dispose();
            if (!target.IsReliable)
            {
                _retransmit = _agent.Time.CreateTimer(_ => Retransmit2xx(), null, _interval, Timeout.InfiniteTimeSpan);
            }

            _giveUp = _agent.Time.CreateTimer(_ => OnNoAck(), null, timers.Timeout, Timeout.InfiniteTimeSpan);
        }

        return acked.Task;
    }

    private void Retransmit2xx()
    {
        byte[]? bytes;
        lock (_sync)
        {
            bytes = _pending2xx;
            if (bytes is null)
            {
                return;
            }

            _interval = _agent.Layer.Timers.Next(_interval, capped: true);
            _retransmit?.Dispose();
            _retransmit = _agent.Time.CreateTimer(_ => Retransmit2xx(), null, _interval, Timeout.InfiniteTimeSpan);
        }

        _agent.Layer.Transmit(_pending2xxTarget, bytes);
    }

    private void OnNoAck()
    {
        lock (_sync)
        {
            if (_pending2xx is null)
            {
                return;
            }

            _pending2xx = null;
        }

        _logger.LogWarning("SIP call {CallId}: no ACK for our 200, hanging up", CallId);
        _ = _agent.SendInDialog(this, SipMethods.Bye);
        End(SipCallEndReason.NoAck);
    }

    /// <summary>Moves forward only (Ringing, Answering, Active, Ended): a late 180 never undoes an answer.</summary>
    private void Transition(SipCallState state)
    {
        lock (_sync)
        {
            if (state > State)
            {
                SetState(state);
            }
        }
    }

    /// <summary>Under <see cref="_sync"/>: records the state and raises the event on the thread pool.</summary>
    private void SetState(SipCallState state)
    {
        if ((SipCallState)Interlocked.Exchange(ref _state, (int)state) != state && StateChanged is { } handler)
        {
            ThreadPool.UnsafeQueueUserWorkItem(
                static s =>
                {
                    var (call, h) = s;
                    try
                    {
                        h(call);
                    }
                    catch (Exception ex) when (ex is not OutOfMemoryException)
                    {
                        call._logger.LogError(ex, "SIP call state handler failed");
                    }
                },
                (this, handler),
                preferLocal: false);
        }
    }
}
