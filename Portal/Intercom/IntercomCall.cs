using Portal.Media.Bridges;
using Portal.Media.Sip.Calls;
using Portal.Media.WebRtc;

namespace Portal.Intercom;

/// <summary>Where a terminal's intercom stands, as a console shows it.</summary>
public enum IntercomPhase
{
    /// <summary>No call.</summary>
    None,

    /// <summary>The terminal called (the press) and rings until its alarm's operator answers.</summary>
    Ringing,

    /// <summary>An operator calls the terminal back; it rings at the school.</summary>
    Calling,

    /// <summary>Audio (and the terminal's video) flow between the terminal and the operator holding the call.</summary>
    Talking,
}

/// <summary>What every console in scope sees of a terminal's intercom: who holds the call, since when.</summary>
/// <param name="DeviceId">The terminal.</param>
/// <param name="AlarmId">The alarm the call belongs to (a press), or the alarm a call-back was made from.</param>
/// <param name="Phase">Ringing, calling, talking, or none.</param>
/// <param name="HolderUserId">The operator holding the call (the only one who hears, talks and hangs up).</param>
/// <param name="HolderName">Their sign-in name.</param>
/// <param name="Muted">The operator's microphone is held back.</param>
/// <param name="SinceUtc">When the phase began.</param>
public sealed record IntercomView(int DeviceId, int? AlarmId, IntercomPhase Phase, int? HolderUserId, string? HolderName, bool Muted, DateTimeOffset SinceUtc)
{
    public static IntercomView Idle(int deviceId) => new(deviceId, null, IntercomPhase.None, null, null, false, default);
}

/// <summary>
/// One intercom call as the portal holds it: the SIP call to the terminal, and once an operator takes it, their
/// browser session and the bridge between them. Mutated under its own lock by <see cref="IntercomService"/>.
/// </summary>
internal sealed class IntercomCall(int deviceId, int? alarmId, IntercomPhase phase, DateTimeOffset since)
{
    public Lock Sync { get; } = new();

    public int DeviceId { get; } = deviceId;

    public int? AlarmId { get; } = alarmId;

    public IntercomPhase Phase { get; set; } = phase;

    public DateTimeOffset SinceUtc { get; set; } = since;

    public SipCall? Sip { get; set; }

    public int? HolderUserId { get; set; }

    public string? HolderName { get; set; }

    public WebRtcPeer? Peer { get; set; }

    public SipIntercomBridge? Bridge { get; set; }

    public bool Muted { get; set; }

    /// <summary>Cancels a call-back still ringing at the terminal.</summary>
    public CancellationTokenSource? Dialing { get; set; }

    public IntercomView View()
    {
        lock (Sync)
        {
            return new IntercomView(DeviceId, AlarmId, Phase, HolderUserId, HolderName, Muted, SinceUtc);
        }
    }
}
