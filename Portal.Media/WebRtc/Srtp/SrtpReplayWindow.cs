namespace Portal.Media.WebRtc.Srtp;

/// <summary>Per-stream index tracking and the 64-packet replay list of RFC 3711 §3.3.2.</summary>
/// <remarks>Bit 0 of the mask is <see cref="Highest"/>; bit n is Highest - n. Updated only after authentication.</remarks>
internal sealed class SrtpReplayWindow
{
    public const int Size = 64;

    private ulong _mask;

    public bool Initialized { get; private set; }

    /// <summary>Highest accepted index (48-bit SRTP packet index, or 31-bit SRTCP index).</summary>
    public ulong Highest { get; private set; }

    /// <summary>Null when <paramref name="index"/> may be accepted, else why not.</summary>
    public string? Check(ulong index)
    {
        if (!Initialized || index > Highest)
        {
            return null;
        }

        var delta = Highest - index;
        if (delta >= Size)
        {
            return "packet index is older than the replay window";
        }

        return (_mask & (1UL << (int)delta)) != 0 ? "replayed packet" : null;
    }

    public void Accept(ulong index)
    {
        if (!Initialized)
        {
            Initialized = true;
            Highest = index;
            _mask = 1;
            return;
        }

        if (index > Highest)
        {
            var shift = index - Highest;
            _mask = shift >= Size ? 1 : (_mask << (int)shift) | 1;
            Highest = index;
        }
        else
        {
            _mask |= 1UL << (int)(Highest - index);
        }
    }
}
