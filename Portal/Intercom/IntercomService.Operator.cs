using Portal.Core.Devices;
using Portal.Core.Security;
using Portal.Media.Bridges;
using Portal.Media.Core;
using Portal.Media.Sip.Calls;
using Portal.Media.WebRtc;

namespace Portal.Intercom;

/// <summary>Why an operator's intercom action was refused.</summary>
public enum IntercomRefusal
{
    None,

    /// <summary>SIP is disabled or could not start.</summary>
    NotRunning,

    /// <summary>No such alarm or terminal in the user's scope.</summary>
    NotFound,

    /// <summary>Only 110 operators talk to terminals.</summary>
    NotAllowed,

    /// <summary>The alarm's terminal is not calling (any more).</summary>
    NoCall,

    /// <summary>Another operator answered the alarm or holds the call.</summary>
    NotYours,

    /// <summary>The terminal is not registered: it cannot be called back.</summary>
    NotRegistered,

    /// <summary>The terminal is in a call already.</summary>
    Busy,

    /// <summary>The browser's offer cannot carry the call (no G.711 or no WebRTC support).</summary>
    BadOffer,
}

/// <summary>The answer to connect or call back: the SDP answer for the browser, or why not.</summary>
public sealed record IntercomResult(string? AnswerSdp, IntercomRefusal Refusal)
{
    public static IntercomResult Refused(IntercomRefusal refusal) => new(null, refusal);
}

/// <summary>The operator's side: connect to a ringing press, call back, hang up, mute. Every action checks the user's scope.</summary>
public sealed partial class IntercomService
{
    /// <summary>A call whose operator's browser went away (reload, network) waits this long for them to come back, then ends.</summary>
    public static readonly TimeSpan ReconnectGrace = TimeSpan.FromSeconds(60);

    /// <summary>Where the terminal's intercom stands (any console in scope may see it).</summary>
    public IntercomView GetView(int deviceId) => _calls.TryGetValue(deviceId, out var call) ? call.View() : IntercomView.Idle(deviceId);

    /// <summary>True when the terminal (visible to the user) is registered now, so a call-back can reach it.</summary>
    public async Task<bool> IsRegisteredAsync(UserScope scope, int deviceId, CancellationToken ct = default)
    {
        var device = await devices.GetAsync(scope, deviceId, ct).ConfigureAwait(false);
        return device?.SipAccount is { } account && Bindings is { } bindings && bindings.Get(account, time.GetUtcNow()).Count > 0;
    }

    /// <summary>
    /// The operator who answered <paramref name="alarmId"/> takes its ringing call (or comes back to it): the browser's
    /// offer is answered on the WebRTC endpoint with the call's own G.711 codec, and the terminal gets its 200 OK.
    /// </summary>
    public async Task<IntercomResult> ConnectAsync(UserScope scope, int alarmId, string offerSdp, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(scope);
        if (!IsRunning)
        {
            return IntercomResult.Refused(IntercomRefusal.NotRunning);
        }

        if (scope.Role is not (Roles.CityOperator or Roles.DistrictOperator))
        {
            return IntercomResult.Refused(IntercomRefusal.NotAllowed);
        }

        var alarm = await alarms.GetAsync(scope, alarmId, ct).ConfigureAwait(false);
        if (alarm?.DeviceId is not { } deviceId)
        {
            return IntercomResult.Refused(IntercomRefusal.NotFound);
        }

        if (!_calls.TryGetValue(deviceId, out var call) || call.AlarmId != alarmId || call.Sip is not { State: not SipCallState.Ended } sip)
        {
            return IntercomResult.Refused(IntercomRefusal.NoCall);
        }

        bool answer;
        WebRtcPeer peer;
        lock (call.Sync)
        {
            var mine = call.HolderUserId == scope.UserId || (call.HolderUserId is null && alarm.AnsweredByUserId == scope.UserId);
            if (!mine)
            {
                return IntercomResult.Refused(IntercomRefusal.NotYours);
            }

            var codec = sip.Plan?.Audio?.Codec.Name ?? Codec.Pcmu;
            if (!cameras.Endpoint.TryCreatePeer(offerSdp, out var created, out var error, [codec]))
            {
                _logger.LogWarning("Intercom offer for alarm {AlarmId} refused: {Error}", alarmId, error);
                return IntercomResult.Refused(IntercomRefusal.BadOffer);
            }

            peer = created;
            Replace(call, peer, SipIntercomBridge.Attach(sip.Media, peer, time));
            call.HolderUserId = scope.UserId;
            call.HolderName = scope.UserName;
            answer = call.Phase == IntercomPhase.Ringing;
            call.Phase = IntercomPhase.Talking;
            call.SinceUtc = time.GetUtcNow();
        }

        _logger.LogInformation("Operator {User} takes the intercom of alarm {AlarmId}", scope.UserName, alarmId);
        Publish(call);
        if (answer)
        {
            _ = AnswerTerminalAsync(call, sip);
        }

        return new IntercomResult(peer.AnswerSdp, IntercomRefusal.None);
    }

    /// <summary>
    /// Calls a registered terminal in the user's scope back (the portal sends the INVITE to its registered contact,
    /// offering the codec the browser agreed to). The answer SDP returns at once; the call rings at the school.
    /// </summary>
    public async Task<IntercomResult> CallBackAsync(UserScope scope, int deviceId, int? alarmId, string offerSdp, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(scope);
        if (!IsRunning)
        {
            return IntercomResult.Refused(IntercomRefusal.NotRunning);
        }

        if (scope.Role is not (Roles.CityOperator or Roles.DistrictOperator))
        {
            return IntercomResult.Refused(IntercomRefusal.NotAllowed);
        }

        var device = await devices.GetAsync(scope, deviceId, ct).ConfigureAwait(false);
        if (device is not { Kind: DeviceKind.AlarmTerminal, SipAccount: { } account })
        {
            return IntercomResult.Refused(IntercomRefusal.NotFound);
        }

        var bindings = Bindings!.Get(account, time.GetUtcNow());
        var binding = bindings.Count > 0 ? bindings[0] : null;
        if (binding is null)
        {
            return IntercomResult.Refused(IntercomRefusal.NotRegistered);
        }

        if (!cameras.Endpoint.TryCreatePeer(offerSdp, out var peer, out var error, [Codec.Pcmu, Codec.Pcma]))
        {
            _logger.LogWarning("Call-back offer for terminal {DeviceId} refused: {Error}", deviceId, error);
            return IntercomResult.Refused(IntercomRefusal.BadOffer);
        }

        var call = new IntercomCall(deviceId, alarmId, IntercomPhase.Calling, time.GetUtcNow())
        {
            HolderUserId = scope.UserId,
            HolderName = scope.UserName,
            Peer = peer,
            Dialing = new CancellationTokenSource(TimeSpan.FromSeconds(Settings.MaxRingSeconds), time),
        };
        if (!_calls.TryAdd(deviceId, call))
        {
            await peer.DisposeAsync().ConfigureAwait(false);
            return IntercomResult.Refused(IntercomRefusal.Busy);
        }

        var codec = peer.Tracks.FirstOrDefault(t => t.Kind == MediaKind.Audio)?.Codec.Name ?? Codec.Pcmu;
        peer.Closed += p => OnPeerClosed(call, p);
        _logger.LogInformation("Operator {User} calls terminal {DeviceId} back at {Contact}", scope.UserName, deviceId, binding.Contact);
        Publish(call);
        _ = DialAsync(call, binding, peer, codec);
        return new IntercomResult(peer.AnswerSdp, IntercomRefusal.None);
    }

    /// <summary>The holder ends the call (BYE, or CANCEL while it rings at the school). Others cannot.</summary>
    public async Task<bool> HangUpAsync(UserScope scope, int deviceId)
    {
        ArgumentNullException.ThrowIfNull(scope);
        if (!_calls.TryGetValue(deviceId, out var call) || call.HolderUserId != scope.UserId)
        {
            return false;
        }

        await EndAsync(call, hangUp: true).ConfigureAwait(false);
        return true;
    }

    /// <summary>The holder mutes or unmutes their microphone toward the terminal.</summary>
    public bool SetMuted(UserScope scope, int deviceId, bool muted)
    {
        ArgumentNullException.ThrowIfNull(scope);
        if (!_calls.TryGetValue(deviceId, out var call) || call.HolderUserId != scope.UserId)
        {
            return false;
        }

        lock (call.Sync)
        {
            call.Muted = muted;
            if (call.Bridge is { } bridge)
            {
                bridge.OperatorMuted = muted;
            }
        }

        Publish(call);
        return true;
    }

    private async Task AnswerTerminalAsync(IntercomCall call, SipCall sip)
    {
        try
        {
            if (!await sip.AnswerAsync(_stopping.Token).ConfigureAwait(false))
            {
                await EndAsync(call, hangUp: true).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException)
        {
            _logger.LogInformation("Answering terminal {DeviceId} stopped: {Reason}", call.DeviceId, ex.Message);
        }
    }

    private async Task DialAsync(IntercomCall call, Media.Sip.Registrar.SipBinding binding, WebRtcPeer peer, string codec)
    {
        try
        {
            var result = await _agent!.CallAsync(binding.Contact, binding.Flow, audioCodecs: [codec], cancellationToken: call.Dialing!.Token).ConfigureAwait(false);
            if (result.Call is not { } sip)
            {
                _logger.LogInformation("Call-back to terminal {DeviceId}: {Status} {Reason}", call.DeviceId, result.Status, result.Reason);
                await EndAsync(call, hangUp: false).ConfigureAwait(false);
                return;
            }

            lock (call.Sync)
            {
                call.Sip = sip;
                if (call.Phase == IntercomPhase.Calling)
                {
                    call.Bridge = SipIntercomBridge.Attach(sip.Media, peer, time);
                    call.Bridge.OperatorMuted = call.Muted;
                    call.Phase = IntercomPhase.Talking;
                    call.SinceUtc = time.GetUtcNow();
                }
            }

            _ = sip.Ended.ContinueWith(_ => EndAsync(call, hangUp: false), CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
            if (call.Phase != IntercomPhase.Talking)
            {
                await sip.HangUpAsync().ConfigureAwait(false); // hung up by the operator while the terminal answered
                return;
            }

            Publish(call);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            _logger.LogError(ex, "Call-back to terminal {DeviceId} failed", call.DeviceId);
            await EndAsync(call, hangUp: false).ConfigureAwait(false);
        }
    }

    /// <summary>Puts a new browser session on the call (the first, or after a reload), closing the previous one.</summary>
    private void Replace(IntercomCall call, WebRtcPeer peer, SipIntercomBridge bridge)
    {
        var (oldPeer, oldBridge) = (call.Peer, call.Bridge);
        call.Peer = peer;
        call.Bridge = bridge;
        bridge.OperatorMuted = call.Muted;
        peer.Closed += p => OnPeerClosed(call, p);
        oldBridge?.Dispose();
        if (oldPeer is not null)
        {
            _ = oldPeer.DisposeAsync().AsTask();
        }
    }

    /// <summary>The holder's browser went away: keep the terminal on the line for <see cref="ReconnectGrace"/>, then hang up.</summary>
    private void OnPeerClosed(IntercomCall call, WebRtcPeer peer)
    {
        _ = Task.Run(async () =>
        {
            try
            {
                await Task.Delay(ReconnectGrace, time, _stopping.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            if (ReferenceEquals(call.Peer, peer) && _calls.TryGetValue(call.DeviceId, out var current) && ReferenceEquals(current, call))
            {
                _logger.LogInformation("Intercom of terminal {DeviceId}: the operator did not come back, hanging up", call.DeviceId);
                await EndAsync(call, hangUp: true).ConfigureAwait(false);
            }
        });
    }

    /// <summary>Ends the call's portal side (browser session, bridge), optionally the SIP call, and tells the consoles. Never touches the alarm.</summary>
    private async Task EndAsync(IntercomCall call, bool hangUp)
    {
        if (!_calls.TryRemove(new KeyValuePair<int, IntercomCall>(call.DeviceId, call)))
        {
            return;
        }

        WebRtcPeer? peer;
        SipCall? sip;
        lock (call.Sync)
        {
            call.Bridge?.Dispose();
            (peer, sip) = (call.Peer, call.Sip);
            call.Bridge = null;
            call.Peer = null;
            call.Phase = IntercomPhase.None;
        }

        try
        {
            if (call.Dialing is { } dialing)
            {
                await dialing.CancelAsync().ConfigureAwait(false);
            }

            if (hangUp && sip is { State: not SipCallState.Ended })
            {
                await sip.HangUpAsync().ConfigureAwait(false);
            }

            if (peer is not null)
            {
                await peer.DisposeAsync().ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is ObjectDisposedException or InvalidOperationException)
        {
            _logger.LogDebug(ex, "Intercom of terminal {DeviceId} ended untidily", call.DeviceId);
        }

        _logger.LogInformation("Intercom of terminal {DeviceId} (alarm {AlarmId}) ended", call.DeviceId, call.AlarmId);
        Publish(new IntercomView(call.DeviceId, call.AlarmId, IntercomPhase.None, null, null, false, time.GetUtcNow()));
    }
}
