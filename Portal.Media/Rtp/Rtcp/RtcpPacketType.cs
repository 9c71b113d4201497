namespace Portal.Media.Rtp.Rtcp;

/// <summary>RTCP packet types (RFC 3550 §12.1, RFC 4585 §6.1) and the feedback formats we handle.</summary>
public static class RtcpPacketType
{
    public const byte SenderReport = 200;
    public const byte ReceiverReport = 201;
    public const byte SourceDescription = 202;
    public const byte Bye = 203;
    public const byte App = 204;

    /// <summary>Transport-layer feedback (RFC 4585 §6.2); FMT 1 is generic NACK.</summary>
    public const byte TransportFeedback = 205;

    /// <summary>Payload-specific feedback (RFC 4585 §6.3); FMT 1 is PLI, FMT 4 is FIR (RFC 5104 §4.3.1).</summary>
    public const byte PayloadFeedback = 206;

    public const byte GenericNackFormat = 1;
    public const byte PictureLossFormat = 1;
    public const byte FullIntraRequestFormat = 4;
}
