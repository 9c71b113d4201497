using System.Collections.Concurrent;
using System.Net;
using System.Text;
using Microsoft.Extensions.Logging;
using Portal.Media.Sip.Auth;
using Portal.Media.Sip.Headers;
using Portal.Media.Sip.Registrar;
using Portal.Media.Sip.Transport;

namespace Portal.Media.Sip.Calls;

/// <summary>What the application decides about an incoming call: ring (the operator answers later), answer now, or refuse.</summary>
public readonly record struct SipCallDecision(int Status, string? Reason = null)
{
    public static SipCallDecision Ring => new(SipStatus.Ringing);

    public static SipCallDecision AnswerNow => new(SipStatus.Ok);

    public static SipCallDecision Refuse(int status, string? reason = null) => new(status, reason);
}

/// <summary>The outcome of calling a terminal: the call when it answered, else its final status.</summary>
public sealed record SipCallResult(SipCall? Call, int Status, string Reason);

/// <summary>
/// The user agent core (RFC 3261 §8, §12–§15) on top of <see cref="SipTransactionLayer"/>: takes calls from terminals
/// and places calls to them, answers OPTIONS, passes REGISTER to the registrar, and handles BYE, re-INVITE, INFO
/// and ACK inside dialogs.
/// </summary>
/// <remarks>
/// <code>
/// INVITE --> 100 Trying (at once) --> digest (407) --> application decides (raises the alarm) --> 180 Ringing
///        --> the operator answers: 200 + SDP --> ACK --> media          CANCEL --> 487   BYE --> 200
/// </code>
/// The application sees calls through <see cref="IncomingCall"/> and <see cref="SipCall.StateChanged"/>; it never
/// touches SIP messages. Nothing here reads configuration or a database.
/// </remarks>
public sealed partial class SipUserAgent : IAsyncDisposable
{
    private readonly SipUserAgentOptions _options;
    private readonly SipAuthenticator? _authenticator;
    private readonly SipRegistrar? _registrar;
    private readonly ILogger<SipUserAgent> _logger;
    private readonly ConcurrentDictionary<string, SipCall> _calls = new(StringComparer.Ordinal);

    public SipUserAgent(SipTransactionLayer layer, SipUserAgentOptions options, SipAuthenticator? authenticator, SipRegistrar? registrar, ILogger<SipUserAgent> logger)
    {
        Layer = layer ?? throw new ArgumentNullException(nameof(layer));
        _options = options ?? throw new ArgumentNullException(nameof(options));
        if (options.AuthenticateIncoming && authenticator is null)
        {
            throw new ArgumentException("Authenticating incoming calls needs an authenticator.", nameof(authenticator));
        }

        _authenticator = authenticator;
        _registrar = registrar;
        _logger = logger;
        layer.RequestReceived = OnRequestAsync;
        layer.AckReceived = OnAck;
        layer.StrayResponseReceived = OnStrayResponse;
    }

    /// <summary>
    /// Decides about an authenticated incoming INVITE (the press): raise the alarm, then ring. Runs after 100 Trying and
    /// before anything else is promised; the token is cancelled when the terminal sends CANCEL.
    /// </summary>
    public Func<SipCall, CancellationToken, Task<SipCallDecision>>? IncomingCall { get; set; }

    public SipTransactionLayer Layer { get; }

    public TimeProvider Time => Layer.Time;

    public IReadOnlyCollection<SipCall> Calls => _calls.Values.Distinct().ToList();

    /// <summary>
    /// Calls a terminal (the operator's call-back) at <paramref name="target"/> over <paramref name="flow"/> (its
    /// registration's). Answers a 401/407 challenge once when <paramref name="credentials"/> are given (the simulated
    /// terminal calling the alarm number). The result holds the call once it is answered and acknowledged.
    /// <paramref name="sendVideo"/> offers H.264 from us (a terminal's camera) instead of asking for it;
    /// <paramref name="audioCodecs"/> narrows the audio offer (to the codec an operator's browser session already agreed).
    /// </summary>
    public async Task<SipCallResult> CallAsync(SipUri target, SipEndPoint flow, (string Username, string Password)? credentials = null,
        Action<SipCall>? onRinging = null, bool sendVideo = false, IReadOnlyList<string>? audioCodecs = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(target);
        if (_calls.Count >= _options.MaxCalls)
        {
            return new SipCallResult(null, SipStatus.BusyHere, "Too many calls");
        }

        var media = OpenMedia(flow.Address.Address);
        var local = LocalMedia(media, 1, audioCodecs);
        var offer = SipSdpNegotiator.CreateOffer(local, sendVideo ? Sdp.SdpDirection.SendOnly : Sdp.SdpDirection.RecvOnly);
        var fromUser = credentials?.Username ?? _options.LocalUser;
        var from = new SipNameAddressHeader(new SipUri(Layer.CreateContact(null, flow).Host, fromUser)) { Tag = SipTags.NewTag() };
        var to = new SipNameAddressHeader(target);
        var dialog = new SipDialog(SipTags.NewCallId(), from.Tag!, null, from, to, target, [], SipTags.NewSequence(), null, flow);
        var call = new SipCall(this, SipCallDirection.Outgoing, dialog, media, null, target.User ?? string.Empty, _logger);
        (string Header, string Value)? authorization = null;
        try
        {
            for (var attempt = 0; attempt < 3; attempt++)
            {
                var invite = dialog.CreateRequest(SipMethods.Invite);
                invite.Headers.Add(SipHeaderNames.Contact, new SipNameAddressHeader(Layer.CreateContact(fromUser, flow)).ToString());
                AddCapabilities(invite);
                invite.Headers.Add(SipHeaderNames.ContentType, "application/sdp");
                if (authorization is { } auth)
                {
                    invite.Headers.Add(auth.Header, auth.Value);
                }

                invite.Body = Encoding.UTF8.GetBytes(offer.ToString());
                var transaction = Layer.SendRequest(invite, flow, (_, response) =>
                {
                    if (response.StatusCode is 180 or 183)
                    {
                        onRinging?.Invoke(call);
                    }
                });
                call.OutgoingInvite = transaction;
                using var cancel = cancellationToken.Register(transaction.Cancel);
                var final = await transaction.Completion.ConfigureAwait(false);
                if (final.StatusCode is SipStatus.Unauthorized or SipStatus.ProxyAuthenticationRequired && credentials is { } c && attempt == 0
                    && SipDigestClient.Answer(final, invite, c.Username, c.Password) is { } answer)
                {
                    authorization = answer;
                    continue;
                }

                if (!final.IsSuccess)
                {
                    call.End(SipCallEndReason.Refused);
                    return new SipCallResult(null, final.StatusCode, final.ReasonPhrase);
                }

                return await ConfirmOutgoingAsync(call, offer, local, final, invite).ConfigureAwait(false);
            }

            call.End(SipCallEndReason.Refused);
            return new SipCallResult(null, SipStatus.Forbidden, "Authentication failed");
        }
        catch
        {
            call.End(SipCallEndReason.Refused);
            throw;
        }
    }

    /// <summary>
    /// Asks a terminal whether it is there: an out-of-dialog OPTIONS (RFC 3261 §11) to <paramref name="target"/> over
    /// <paramref name="flow"/> (its registration's). Any final answer from the terminal, even a refusal, means it is
    /// alive; null when nothing answered within <paramref name="timeout"/> (or the transaction gave up: its own 408
    /// or the transport's 503, which carry no tag of the terminal's).
    /// </summary>
    public async Task<SipResponse?> PingAsync(SipUri target, SipEndPoint flow, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(target);
        var from = new SipNameAddressHeader(new SipUri(Layer.CreateContact(null, flow).Host, _options.LocalUser)) { Tag = SipTags.NewTag() };
        var dialog = new SipDialog(SipTags.NewCallId(), from.Tag!, null, from, new SipNameAddressHeader(target), target, [], SipTags.NewSequence(), null, flow);
        var options = dialog.CreateRequest(SipMethods.Options);
        options.Headers.Add(SipHeaderNames.Accept, "application/sdp");
        var transaction = Layer.SendRequest(options, flow);
        var done = await Task.WhenAny(transaction.Completion, Task.Delay(timeout, Layer.Time, cancellationToken)).ConfigureAwait(false);
        if (done != transaction.Completion)
        {
            cancellationToken.ThrowIfCancellationRequested();
            return null;
        }

        var response = await transaction.Completion.ConfigureAwait(false);
        // The transaction's own 408/503 carry our To header untouched; a terminal's answer adds its tag (§8.2.6.2).
        var answered = response.Headers[SipHeaderNames.To] is { } to && to.Contains(";tag=", StringComparison.OrdinalIgnoreCase);
        return answered ? response : null;
    }

    /// <summary>How long shutting down waits for the far ends to answer the BYEs, in all (real time).</summary>
    internal static readonly TimeSpan ShutdownGrace = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Hangs up every call at once and waits at most <see cref="ShutdownGrace"/> for the answers: a peer that is gone
    /// would otherwise hold each BYE for Timer F (32 s), one call after another, and a shutdown with a clock that does
    /// not run (a test's fake clock) for ever. The calls end here either way.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        var calls = Calls.ToList();
        var hangUps = Task.WhenAll(calls.Where(c => c.State != SipCallState.Ended).Select(HangUpForShutdownAsync));
        try
        {
            await hangUps.WaitAsync(ShutdownGrace, TimeProvider.System).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            _logger.LogInformation("Shutting down with {Calls} calls whose BYE went unanswered", calls.Count(c => c.State != SipCallState.Ended));
        }

        foreach (var call in calls)
        {
            call.End(SipCallEndReason.Shutdown);
        }
    }

    private async Task HangUpForShutdownAsync(SipCall call)
    {
        try
        {
            await call.HangUpAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is ObjectDisposedException or System.Net.Sockets.SocketException or InvalidOperationException)
        {
            // The transport went first (a shutdown in another order): the call still ends below.
            _logger.LogDebug(ex, "SIP call {CallId}: no BYE at shutdown", call.CallId);
        }
    }

    /// <summary>A response to a request of <paramref name="call"/>'s dialog: our To tag and Contact (RFC 3261 §12.1.1).</summary>
    internal SipResponse CreateDialogResponse(SipRequest request, SipCall call, int status)
    {
        var response = SipResponse.CreateFor(request, status);
        if (SipNameAddressHeader.TryParse(response.Headers[SipHeaderNames.To], out var to, out _) && to.Tag is null)
        {
            to.Tag = call.Dialog.LocalTag;
            response.Headers.Set(SipHeaderNames.To, to.ToString());
        }

        if (status is > 100 and < 300)
        {
            response.Headers.Add(SipHeaderNames.Contact, new SipNameAddressHeader(Layer.CreateContact(_options.LocalUser, call.Dialog.Flow)).ToString());
        }

        AddCapabilities(response);
        return response;
    }

    /// <summary>Sends BYE (or another method) inside the call's dialog; completes with the final response.</summary>
    internal Task<SipResponse> SendInDialog(SipCall call, string method)
    {
        var request = call.Dialog.CreateRequest(method);
        return Layer.SendRequest(request, call.Dialog.Flow).Completion;
    }

    internal void Forget(SipCall call)
    {
        foreach (var entry in _calls.Where(e => ReferenceEquals(e.Value, call)).ToList())
        {
            _calls.TryRemove(entry);
        }
    }

    private async Task<SipCallResult> ConfirmOutgoingAsync(SipCall call, Sdp.SdpSession offer, SipLocalMedia local, SipResponse ok, SipRequest invite)
    {
        var dialog = call.Dialog;
        dialog.RemoteTag = ok.To?.Tag;
        if (ok.GetAddresses(SipHeaderNames.Contact) is [{ Uri: { } target }, ..])
        {
            dialog.RemoteTarget = target;
        }

        dialog.RouteSet = (ok.GetList(SipHeaderNames.RecordRoute) ?? []).Reverse().ToList();
        _calls[dialog.Id] = call;
        var ack = dialog.CreateAck(invite.CSeq!.Number);
        call.AckBytes = await Layer.SendAckAsync(ack, dialog.Flow).ConfigureAwait(false);
        if (!SipSdpNegotiator.TryReadAnswer(offer, Encoding.UTF8.GetString(ok.Body.Span), local, out var plan, out var error))
        {
            _logger.LogWarning("Call-back to {Target} answered with unusable SDP: {Error}", dialog.RemoteTarget, error);
            await call.HangUpAsync().ConfigureAwait(false);
            return new SipCallResult(null, SipStatus.NotAcceptableHere, error);
        }

        call.Media.Apply(plan, dialog.Flow.Address.Address);
        call.MarkActive();
        return new SipCallResult(call, ok.StatusCode, ok.ReasonPhrase);
    }

    private SipCallMedia OpenMedia(IPAddress towards)
    {
        var advertised = _options.RtpAdvertisedAddress ?? Layer.Options.AdvertisedAddress
            ?? Layer.CreateContact(null, new SipEndPoint(SipTransportProtocol.Udp, new IPEndPoint(towards, 5060))).HostAddress ?? IPAddress.Loopback;
        var bind = _options.RtpBindAddress;
        if (bind.Equals(IPAddress.Any) && IPAddress.IsLoopback(advertised))
        {
            bind = advertised; // tests and demo mode: never listen beyond loopback when we announce loopback
        }

        return SipCallMedia.Open(bind, advertised, _options.RtpPortMin, _options.RtpPortMax, _logger, Time);
    }

    private SipLocalMedia LocalMedia(SipCallMedia media, int version, IReadOnlyList<string>? audioCodecs = null) =>
        new(media.Address, media.Audio.Port, media.Video.Port, audioCodecs ?? _options.AudioCodecs, media.Audio.LocalSsrc.ToString(System.Globalization.CultureInfo.InvariantCulture), version, _options.SendsVideo);

    private void AddCapabilities(SipMessage message)
    {
        message.Headers.Add(SipHeaderNames.Allow, Layer.Options.Capabilities.AllowHeader);
        message.Headers.Add(message is SipRequest ? SipHeaderNames.UserAgent : SipHeaderNames.Server, Layer.Options.Product);
    }
}
