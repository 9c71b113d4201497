using System.Net;
using Microsoft.Extensions.Logging;
using Portal.Media.Rtp.Rtcp;

namespace Portal.Media.Sip.Calls;

/// <summary>The RTP side of one call: an audio leg and a video leg on the terminal's side.</summary>
/// <remarks>
/// Ports are taken when the call starts (they go in our SDP) and freed when it ends. The legs only carry
/// packets; the bridge to the browser (<c>Bridges/SipIntercomBridge</c>) decides where they go.
/// </remarks>
public sealed class SipCallMedia : IAsyncDisposable
{
    private readonly ILogger _logger;
    private byte _firSequence;

    private SipCallMedia(SipRtpLeg audio, SipRtpLeg video, IPAddress address, ILogger logger)
    {
        Audio = audio;
        Video = video;
        Address = address;
        _logger = logger;
    }

    public SipRtpLeg Audio { get; }

    public SipRtpLeg Video { get; }

    /// <summary>The address we receive on (goes in our SDP).</summary>
    public IPAddress Address { get; }

    public SipMediaPlan? Plan { get; private set; }

    /// <summary>Opens both legs on <paramref name="bind"/>; <paramref name="advertised"/> is what our SDP names.</summary>
    public static SipCallMedia Open(IPAddress bind, IPAddress advertised, int portMin, int portMax, ILogger logger, TimeProvider? time = null)
    {
        var audio = SipRtpLeg.Open(bind, portMin, portMax, logger, time);
        try
        {
            return new SipCallMedia(audio, SipRtpLeg.Open(bind, portMin, portMax, logger, time), advertised, logger);
        }
        catch
        {
            audio.DisposeAsync().AsTask().GetAwaiter().GetResult();
            throw;
        }
    }

    /// <summary>Applies a negotiated plan: remote addresses and payload types; starts receiving.</summary>
    public void Apply(SipMediaPlan plan, IPAddress signallingSource)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var first = Plan is null;
        Plan = plan;
        if (plan.Audio is { } audio)
        {
            Audio.PayloadType = (byte)audio.Codec.PayloadType;
            if (first)
            {
                Audio.Start(audio.Remote, signallingSource);
            }
            else
            {
                Audio.UpdateRemote(audio.Remote);
            }
        }

        if (plan.Video is { } video)
        {
            Video.PayloadType = (byte)video.Codec.PayloadType;
            if (first)
            {
                Video.Start(video.Remote, signallingSource);
            }
            else
            {
                Video.UpdateRemote(video.Remote);
            }
        }
    }

    /// <summary>Asks the terminal for an IDR: RTCP RR + PLI (RFC 4585 §6.3.1) + FIR (RFC 5104 §4.3.1), for terminals that honour only one.</summary>
    public bool RequestKeyframe()
    {
        if (Video.RemoteSsrc is not { } media)
        {
            return false;
        }

        Span<byte> compound = stackalloc byte[64];
        var length = new RtcpReceiverReport { Ssrc = Video.LocalSsrc }.Write(compound);
        length += new RtcpPli(Video.LocalSsrc, media).Write(compound[length..]);
        length += new RtcpFir { SenderSsrc = Video.LocalSsrc, Entries = [new RtcpFirEntry(media, ++_firSequence)] }.Write(compound[length..]);
        var sent = Video.SendRtcp(compound[..length]);
        _logger.LogDebug("Keyframe requested from the terminal (sent: {Sent})", sent);
        return sent;
    }

    public async ValueTask DisposeAsync()
    {
        await Audio.DisposeAsync().ConfigureAwait(false);
        await Video.DisposeAsync().ConfigureAwait(false);
    }
}
