using System.Text;
using Microsoft.Extensions.Logging;
using Portal.Media.Sip.Transactions;
using Portal.Media.Sip.Transport;

namespace Portal.Media.Sip.Calls;

/// <summary>The server side of the user agent: requests from terminals, in and out of dialogs.</summary>
public sealed partial class SipUserAgent
{
    private async Task OnRequestAsync(SipServerTransaction transaction)
    {
        var request = transaction.Request;
        switch (request.Method)
        {
            case SipMethods.Register when _registrar is not null:
                await _registrar.HandleAsync(transaction, CancellationToken.None).ConfigureAwait(false);
                return;
            case SipMethods.Options:
                // RFC 3261 §11.2: what we are, in or out of a dialog; terminals and monitors use it as a ping.
                var ok = SipRequestValidator.Reject(request, SipStatus.Ok);
                AddCapabilities(ok);
                ok.Headers.Add(SipHeaderNames.Accept, "application/sdp");
                ok.Headers.Add(SipHeaderNames.Supported, string.Empty);
                await transaction.RespondAsync(ok).ConfigureAwait(false);
                return;
            case SipMethods.Invite when request.To?.Tag is null:
                await OnNewInviteAsync(transaction).ConfigureAwait(false);
                return;
        }

        if (FindDialog(request) is not { } call)
        {
            await transaction.RespondAsync(SipStatus.CallDoesNotExist).ConfigureAwait(false);
            return;
        }

        if (!call.Dialog.AcceptRemoteSequence(request.CSeq!.Number))
        {
            await transaction.RespondAsync(SipStatus.ServerInternalError, "CSeq out of order").ConfigureAwait(false);
            return;
        }

        switch (request.Method)
        {
            case SipMethods.Bye:
                await transaction.RespondAsync(CreateDialogResponse(request, call, SipStatus.Ok)).ConfigureAwait(false);
                call.End(SipCallEndReason.RemoteHangUp);
                return;
            case SipMethods.Invite:
                await OnReInviteAsync(transaction, call).ConfigureAwait(false);
                return;
            case SipMethods.Info:
                // picture_fast_update (RFC 5168) or DTMF: nothing to do, but a refusal makes some terminals hang up.
                await transaction.RespondAsync(CreateDialogResponse(request, call, SipStatus.Ok)).ConfigureAwait(false);
                return;
            default:
                await transaction.RespondAsync(SipStatus.MethodNotAllowed).ConfigureAwait(false);
                return;
        }
    }

    private async Task OnNewInviteAsync(SipServerTransaction transaction)
    {
        var request = transaction.Request;
        await transaction.RespondAsync(SipResponse.CreateFor(request, SipStatus.Trying)).ConfigureAwait(false);
        if (request.GetAddresses(SipHeaderNames.Contact) is not [{ Uri: { } remoteTarget }])
        {
            await transaction.RespondAsync(SipStatus.BadRequest, "INVITE needs one sip: Contact").ConfigureAwait(false);
            return;
        }

        Auth.SipAccount? account = null;
        if (_options.AuthenticateIncoming)
        {
            // As the terminal's outbound proxy we challenge with 407 (RFC 3261 §22.3), as Kamailio and FreeSWITCH do.
            account = await _authenticator!.AuthenticateAsync(transaction, proxy: true, expectedUser: null, transaction.Cancelled).ConfigureAwait(false);
            if (account is null)
            {
                return;
            }
        }

        if (_calls.Count >= _options.MaxCalls)
        {
            await transaction.RespondAsync(SipStatus.BusyHere).ConfigureAwait(false);
            return;
        }

        SipCallMedia media;
        try
        {
            media = OpenMedia(transaction.Source.Address.Address);
        }
        catch (InvalidOperationException ex)
        {
            _logger.LogError(ex, "No RTP ports for a call from {Source}", transaction.Source);
            await transaction.RespondAsync(SipStatus.ServiceUnavailable, "No media ports").ConfigureAwait(false);
            return;
        }

        var to = request.To!;
        var from = request.From!;
        var dialog = new SipDialog(request.CallId!, SipTags.NewTag(), from.Tag, to, from, remoteTarget,
            request.GetList(SipHeaderNames.RecordRoute) ?? [], SipTags.NewSequence(), request.CSeq!.Number, transaction.Source);
        var call = new SipCall(this, SipCallDirection.Incoming, dialog, media, account, request.RequestUri?.User ?? string.Empty, _logger) { Invite = transaction };
        _calls[dialog.Id] = call;
        var mediaError = string.Empty;
        if (request.Body.IsEmpty || !SipSdpNegotiator.TryAnswer(Encoding.UTF8.GetString(request.Body.Span), LocalMedia(media, 1), out var answer, out var plan, out mediaError))
        {
            mediaError = request.Body.IsEmpty ? "INVITE without an SDP offer" : mediaError;
        }
        else
        {
            call.LocalAnswer = answer;
            call.Media.Apply(plan, transaction.Source.Address.Address);
        }

        // Held until the call ends: a CANCEL may come long after this method has sent 180 and returned.
        var cancelled = transaction.Cancelled.Register(() => OnCancelled(call));
        _ = call.Ended.ContinueWith(_ => cancelled.Dispose(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        var decision = IncomingCall is { } handler
            ? await handler(call, transaction.Cancelled).ConfigureAwait(false)
            : SipCallDecision.Refuse(SipStatus.TemporarilyUnavailable);
        if (call.State == SipCallState.Ended)
        {
            return; // cancelled while the application was deciding
        }

        if (decision.Status >= 300)
        {
            await transaction.RespondAsync(CreateDialogResponse(request, call, decision.Status)).ConfigureAwait(false);
            call.End(SipCallEndReason.Refused);
            return;
        }

        if (call.LocalAnswer is null)
        {
            // The press still raised its alarm above; only the talk is impossible (RFC 3261 §13.3.1.3: 488 + Warning).
            var refusal = CreateDialogResponse(request, call, SipStatus.NotAcceptableHere);
            refusal.Headers.Add("Warning", "304 portal \"" + mediaError.Replace('"', '\'') + "\"");
            await transaction.RespondAsync(refusal).ConfigureAwait(false);
            call.End(SipCallEndReason.Refused);
            return;
        }

        await transaction.RespondAsync(CreateDialogResponse(request, call, SipStatus.Ringing)).ConfigureAwait(false);
        if (decision.Status == SipStatus.Ok)
        {
            await call.AnswerAsync().ConfigureAwait(false);
            return;
        }

        _ = KeepRingingAsync(call, transaction);
    }

    /// <summary>Repeats 180 every minute (RFC 3261 §13.3.1.1) and gives up after the ring limit with 480.</summary>
    private async Task KeepRingingAsync(SipCall call, SipServerTransaction invite)
    {
        var limit = Time.GetTimestamp();
        using var timer = new PeriodicTimer(_options.RingRefresh < _options.MaxRingTime ? _options.RingRefresh : _options.MaxRingTime, Time);
        try
        {
            while (await timer.WaitForNextTickAsync(CancellationToken.None).ConfigureAwait(false) && call.State == SipCallState.Ringing)
            {
                if (Time.GetElapsedTime(limit) >= _options.MaxRingTime)
                {
                    await invite.RespondAsync(CreateDialogResponse(invite.Request, call, SipStatus.TemporarilyUnavailable)).ConfigureAwait(false);
                    call.End(SipCallEndReason.RingTimeout);
                    return;
                }

                await invite.RespondAsync(CreateDialogResponse(invite.Request, call, SipStatus.Ringing)).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            _logger.LogError(ex, "Ringing call {CallId} failed", call.CallId);
        }
    }

    private void OnCancelled(SipCall call)
    {
        if (call.State != SipCallState.Ringing || call.Invite is not { } invite)
        {
            return;
        }

        invite.RespondAsync(CreateDialogResponse(invite.Request, call, SipStatus.RequestTerminated)).Forget();
        call.End(SipCallEndReason.Cancelled);
    }

    /// <summary>A re-INVITE (RFC 3261 §14.2): a new offer on the same dialog, e.g. hold or a new address after a network change.</summary>
    private async Task OnReInviteAsync(SipServerTransaction transaction, SipCall call)
    {
        var request = transaction.Request;
        if (call.State != SipCallState.Active)
        {
            await transaction.RespondAsync(SipStatus.RequestPending).ConfigureAwait(false); // RFC 3261 §14.2: still answering the first
            return;
        }

        var previous = call.LocalAnswer!;
        var version = int.Parse(previous.Origin.SessionVersion, System.Globalization.CultureInfo.InvariantCulture);
        if (request.Body.IsEmpty
            || !SipSdpNegotiator.TryAnswer(Encoding.UTF8.GetString(request.Body.Span), LocalMedia(call.Media, version), out var answer, out var plan, out var error))
        {
            await transaction.RespondAsync(CreateDialogResponse(request, call, SipStatus.NotAcceptableHere)).ConfigureAwait(false);
            return; // the call goes on with what it had (RFC 3261 §14.2)
        }

        if (answer.ToString() != previous.ToString())
        {
            answer = SipSdpNegotiator.TryAnswer(Encoding.UTF8.GetString(request.Body.Span), LocalMedia(call.Media, version + 1), out var newer, out _, out _) ? newer : answer;
        }

        call.LocalAnswer = answer;
        call.Media.Apply(plan, transaction.Source.Address.Address);
        if (request.GetAddresses(SipHeaderNames.Contact) is [{ Uri: { } target }])
        {
            call.Dialog.RemoteTarget = target; // §12.2.2: a target refresh
        }

        var ok = CreateDialogResponse(request, call, SipStatus.Ok);
        ok.Headers.Add(SipHeaderNames.ContentType, "application/sdp");
        ok.Body = Encoding.UTF8.GetBytes(answer.ToString());
        _ = call.StartReliable2xx(ok, request.CSeq!.Number, transaction.ResponseDestination);
        await transaction.RespondAsync(ok).ConfigureAwait(false);
        _logger.LogInformation("SIP call {CallId} re-negotiated ({Error})", call.CallId, string.IsNullOrEmpty(error) ? "ok" : error);
    }

    private void OnAck(SipRequest ack, SipEndPoint source)
    {
        if (FindDialog(ack) is { } call && ack.CSeq is { } cseq)
        {
            call.OnAck(cseq.Number);
        }
    }

    /// <summary>A 2xx came again for a call-back we acknowledged: our ACK was lost, send it again (RFC 3261 §13.2.2.4).</summary>
    private void OnStrayResponse(SipResponse response, SipEndPoint source)
    {
        var key = SipDialog.Key(response.CallId ?? string.Empty, response.From?.Tag ?? string.Empty, response.To?.Tag);
        if (_calls.TryGetValue(key, out var call) && call.AckBytes is { } ack)
        {
            Layer.Transmit(call.Dialog.Flow, ack);
        }
    }

    /// <summary>The call a request belongs to: Call-ID, our tag in To, theirs in From (RFC 3261 §12.2.2).</summary>
    private SipCall? FindDialog(SipRequest request) =>
        _calls.TryGetValue(SipDialog.Key(request.CallId ?? string.Empty, request.To?.Tag ?? string.Empty, request.From?.Tag), out var call) ? call : null;
}
