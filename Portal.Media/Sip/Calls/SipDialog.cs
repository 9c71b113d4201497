using Portal.Media.Sip.Headers;
using Portal.Media.Sip.Transport;

namespace Portal.Media.Sip.Calls;

/// <summary>
/// A dialog (RFC 3261 §12): the peer-to-peer state an INVITE creates, identified by Call-ID and both tags, and
/// what in-dialog requests need (remote target, route set, sequence numbers).
/// </summary>
/// <remarks>
/// <code>
/// UAS (the terminal called us):  local tag = our To tag, remote tag = From tag, remote target = INVITE Contact,
///                                route set = Record-Route in order (§12.1.1)
/// UAC (we called the terminal):  local tag = our From tag, remote tag = 2xx To tag, remote target = 2xx Contact,
///                                route set = Record-Route reversed (§12.1.2)
/// </code>
/// In-dialog requests travel on <see cref="Flow"/>, the address and connection the terminal's messages come from,
/// rather than to the host in its Contact: a terminal behind NAT writes a private address there (the same
/// reasoning as RFC 5626's flows, without its extra headers, which field terminals do not send).
/// </remarks>
public sealed class SipDialog
{
    private uint _localSequence;

    public SipDialog(string callId, string localTag, string? remoteTag, SipNameAddressHeader localParty, SipNameAddressHeader remoteParty, SipUri remoteTarget,
        IReadOnlyList<string> routeSet, uint localSequence, uint? remoteSequence, SipEndPoint flow)
    {
        CallId = callId;
        LocalTag = localTag;
        RemoteTag = remoteTag;
        LocalParty = localParty;
        RemoteParty = remoteParty;
        RemoteTarget = remoteTarget;
        RouteSet = routeSet;
        _localSequence = localSequence;
        RemoteSequence = remoteSequence;
        Flow = flow;
    }

    public string CallId { get; }

    public string LocalTag { get; }

    public string? RemoteTag { get; internal set; }

    /// <summary>Our side: From in our requests (with <see cref="LocalTag"/>).</summary>
    public SipNameAddressHeader LocalParty { get; }

    /// <summary>Their side: To in our requests (with <see cref="RemoteTag"/>).</summary>
    public SipNameAddressHeader RemoteParty { get; }

    public SipUri RemoteTarget { get; internal set; }

    public IReadOnlyList<string> RouteSet { get; internal set; }

    public uint? RemoteSequence { get; internal set; }

    public SipEndPoint Flow { get; internal set; }

    /// <summary>The dialog's key as the transaction user indexes it.</summary>
    public string Id => Key(CallId, LocalTag, RemoteTag);

    public static string Key(string callId, string localTag, string? remoteTag) => string.Concat(callId, "|", localTag, "|", remoteTag);

    /// <summary>A request inside the dialog (RFC 3261 §12.2.1.1): next CSeq, tags, remote target and routes.</summary>
    public SipRequest CreateRequest(string method)
    {
        var sequence = method == SipMethods.Ack ? _localSequence : Interlocked.Increment(ref _localSequence);
        return CreateRequest(method, sequence);
    }

    /// <summary>The ACK for a 2xx: the INVITE's sequence number with method ACK (RFC 3261 §13.2.2.4).</summary>
    public SipRequest CreateAck(uint inviteSequence) => CreateRequest(SipMethods.Ack, inviteSequence);

    /// <summary>True when a request's CSeq is newer than the last one from the peer (RFC 3261 §12.2.2); records it.</summary>
    public bool AcceptRemoteSequence(uint sequence)
    {
        lock (this)
        {
            if (RemoteSequence is { } last && sequence <= last)
            {
                return false;
            }

            RemoteSequence = sequence;
            return true;
        }
    }

    private SipRequest CreateRequest(string method, uint sequence)
    {
        var from = SipNameAddressHeader.TryParse(LocalParty.ToString(), out var f, out _) ? f : LocalParty;
        from.Tag = LocalTag;
        var to = SipNameAddressHeader.TryParse(RemoteParty.ToString(), out var t, out _) ? t : RemoteParty;
        to.Tag = RemoteTag;
        var request = SipRequest.Create(method, RemoteTarget, from, to, CallId, sequence);
        foreach (var route in RouteSet)
        {
            request.Headers.Add(SipHeaderNames.Route, route);
        }

        return request;
    }
}
