using System.Globalization;
using Microsoft.AspNetCore.Components;
using Microsoft.JSInterop;
using Portal.Core.Alarms;
using Portal.Core.Security;
using Portal.Intercom;
using Portal.Services;

#pragma warning disable CA1716 // the namespace is the Blazor folder the .razor half lives in (STYLE.md §5), not ours to rename
namespace Portal.Components.Shared;
#pragma warning restore CA1716

/// <summary>
/// The intercom with one terminal. In the alarm pop-up it connects by itself once the current user has answered
/// the alarm and its terminal is calling (the Answer click is the one gesture); on the school page it offers the
/// call-back. Everyone in scope sees who holds the call; only the holder hears, talks, mutes and hangs up.
/// </summary>
/// <remarks>
/// A browser without WebRTC, or without a microphone, still handles the alarm: the panel says plainly what is lost.
/// Signalling goes over the circuit (like the gate camera); the state machine is <see cref="IntercomService"/>'s.
/// </remarks>
public sealed partial class IntercomPanel
{
    private IntercomView _view = IntercomView.Idle(0);
    private ElementReference _root;
    private DotNetObjectReference<IntercomPanel>? _self;
    private IDisposable? _subscription;
    private UserScope? _scope;
    private bool _isOperator;
    private bool _registered;
    private bool _connected;
    private bool _microphone;
    private bool _busy;
    private string? _message;
    private string? _messageKind;
    private int _loadedFor = -1;

    /// <summary>The alarm terminal.</summary>
    [Parameter, EditorRequired]
    public int DeviceId { get; set; }

    /// <summary>The alarm the pop-up shows (its terminal's press rings here); null on the school page.</summary>
    [Parameter]
    public AlarmView? Alarm { get; set; }

    [Inject]
    private IntercomService Intercom { get; set; } = default!;

    [Inject]
    private CurrentUser CurrentUser { get; set; } = default!;

    [Inject]
    private GateCameraService Cameras { get; set; } = default!;

    [Inject]
    private IJSRuntime JS { get; set; } = default!;

    [Inject]
    private ILogger<IntercomPanel> Logger { get; set; } = default!;

    private bool IsMine => _scope is not null && _view.HolderUserId == _scope.UserId;

    /// <summary>The alarm's own operator may take its ringing call.</summary>
    private bool MayAnswer => Alarm is { State: AlarmState.Answered } alarm && _scope is not null && alarm.AnsweredByUserId == _scope.UserId
        && _view.AlarmId == alarm.Id;

    private string StatusText => _view.Phase switch
    {
        IntercomPhase.Ringing => MayAnswer ? L["IntercomRinging"] : L["IntercomRingingAnswerFirst"],
        IntercomPhase.Calling => L["IntercomCalling"],
        IntercomPhase.Talking => IsMine ? L["IntercomReconnectHint"] : string.Format(CultureInfo.CurrentCulture, L["IntercomHeldBy"], _view.HolderName),
        _ => _registered ? L["IntercomIdle"] : L["IntercomNotRegistered"],
    };

    public async ValueTask DisposeAsync()
    {
        _subscription?.Dispose();
        if (_connected)
        {
            // Leaving the pop-up closes this browser's session; the call waits a minute for the operator to come back.
            await CloseMediaAsync();
        }

        _self?.Dispose();
    }

    [JSInvokable]
    public void OnMediaFailed()
    {
        _message = L["IntercomMediaFailed"];
        _messageKind = "failed";
        StateHasChanged();
    }

    protected override async Task OnInitializedAsync()
    {
        _scope = await CurrentUser.GetScopeAsync();
        _isOperator = _scope.Role is Roles.CityOperator or Roles.DistrictOperator;
        _subscription = Intercom.Subscribe(view =>
        {
            if (view.DeviceId == DeviceId)
            {
                _ = InvokeAsync(() => OnChangedAsync(view));
            }
        });
    }

    protected override async Task OnParametersSetAsync()
    {
        if (_loadedFor != DeviceId)
        {
            _loadedFor = DeviceId;
            _view = Intercom.GetView(DeviceId);
            _registered = _scope is not null && await Intercom.IsRegisteredAsync(_scope, DeviceId);
        }

        await MaybeConnectAsync();
    }

    protected override void OnAfterRender(bool firstRender) => _self ??= DotNetObjectReference.Create(this);

    private async Task OnChangedAsync(IntercomView view)
    {
        try
        {
            var wasTalking = _view.Phase == IntercomPhase.Talking && _connected;
            _view = view;
            if (view.Phase == IntercomPhase.None)
            {
                if (_connected)
                {
                    await CloseMediaAsync();
                }

                if (wasTalking)
                {
                    _message = L["IntercomEnded"];
                    _messageKind = "ended";
                }

                _registered = _scope is not null && await Intercom.IsRegisteredAsync(_scope, DeviceId);
            }

            await MaybeConnectAsync();
            StateHasChanged();
        }
        catch (Exception ex) when (ex is JSException or JSDisconnectedException or TaskCanceledException)
        {
            Logger.LogInformation("Intercom panel update for terminal {DeviceId} ended: {Reason}", DeviceId, ex.Message);
        }
    }

    /// <summary>The pop-up's one-click flow: the operator answered the alarm, its terminal rings: take the call.</summary>
    private async Task MaybeConnectAsync()
    {
        if (!_busy && !_connected && _view.Phase == IntercomPhase.Ringing && MayAnswer && _self is not null)
        {
            await ConnectAsync(callBack: false);
        }
    }

    private async Task ConnectAsync(bool callBack)
    {
        if (_scope is null || _busy)
        {
            return;
        }

        _busy = true;
        _message = null;
        try
        {
            _self ??= DotNetObjectReference.Create(this);
            var offer = await JS.InvokeAsync<BrowserOffer?>("portalIntercom.offer", _root, Cameras.IceServers.Select(s => new { urls = s.Urls, username = s.Username, credential = s.Credential }), _self);
            if (offer is null)
            {
                _message = L["IntercomNoWebRtc"];
                _messageKind = "no-webrtc";
                return;
            }

            var result = callBack
                ? await Intercom.CallBackAsync(_scope, DeviceId, Alarm?.Id, offer.Sdp)
                : await Intercom.ConnectAsync(_scope, Alarm!.Id, offer.Sdp);
            if (result.AnswerSdp is null)
            {
                await CloseMediaAsync();
                _message = L["IntercomErr_" + result.Refusal];
                _messageKind = result.Refusal.ToString();
                return;
            }

            await JS.InvokeVoidAsync("portalIntercom.answer", _root, result.AnswerSdp);
            _connected = true;
            _microphone = offer.Microphone;
            if (!offer.Microphone)
            {
                _message = L["IntercomNoMicrophone"];
                _messageKind = "no-microphone";
            }

            _view = Intercom.GetView(DeviceId);
        }
        catch (JSException ex)
        {
            // A broken offer or a browser that refuses WebRTC costs the talk only, never the console around it.
            Logger.LogInformation("Intercom connect failed in the browser: {Reason}", ex.Message);
            _message = L["IntercomNoWebRtc"];
            _messageKind = "no-webrtc";
        }
        finally
        {
            _busy = false;
        }
    }

    private async Task HangUpAsync()
    {
        if (_scope is null)
        {
            return;
        }

        _busy = true;
        try
        {
            await Intercom.HangUpAsync(_scope, DeviceId);
            await CloseMediaAsync();
        }
        finally
        {
            _busy = false;
        }
    }

    private async Task ToggleMuteAsync()
    {
        if (_scope is not null && Intercom.SetMuted(_scope, DeviceId, !_view.Muted))
        {
            _view = Intercom.GetView(DeviceId);
            await JS.InvokeVoidAsync("portalIntercom.mute", _root, _view.Muted);
        }
    }

    private async Task CloseMediaAsync()
    {
        _connected = false;
        try
        {
            await JS.InvokeVoidAsync("portalIntercom.close", _root);
        }
        catch (Exception ex) when (ex is JSDisconnectedException or JSException or TaskCanceledException)
        {
        }
    }

    /// <summary>What intercom.js returns from offer().</summary>
    internal sealed record BrowserOffer(string Sdp, bool Microphone);
}
