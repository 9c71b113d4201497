namespace Portal.Media.Sip.Transactions;

/// <summary>The transaction timer values of RFC 3261 §17.1.1.1 and Table 4; tests shrink them.</summary>
/// <remarks>
/// <code>
/// T1 = 500 ms  round-trip estimate       A, E, G start at T1 and double (E and G up to T2) on UDP only
/// T2 = 4 s     longest retransmit gap     B, F, H, J, L, M = 64*T1 (32 s): give up / absorb retransmissions
/// T4 = 5 s     a message's network life   I, K = T4 on UDP, 0 on TCP/TLS; D = 32 s on UDP, 0 on TCP/TLS
/// </code>
/// </remarks>
public sealed record SipTimers(TimeSpan T1, TimeSpan T2, TimeSpan T4)
{
    public static SipTimers Default { get; } = new(TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(5));

    /// <summary>64*T1: timers B, F, H, J, L and M.</summary>
    public TimeSpan Timeout => T1 * 64;

    /// <summary>Timer D on UDP: "at least 32 seconds", scaled with T1 so fast test timers stay fast.</summary>
    public TimeSpan TimerD => T1 * 64;

    /// <summary>The next retransmission interval after <paramref name="current"/>, doubling and capped at T2 when <paramref name="capped"/>.</summary>
    public TimeSpan Next(TimeSpan current, bool capped) => capped ? TimeSpan.FromTicks(Math.Min(current.Ticks * 2, T2.Ticks)) : current * 2;
}

/// <summary>The states of RFC 3261 §17 (Figures 5–8) and RFC 6026 §8.4/§8.7 (Accepted).</summary>
public enum SipTransactionState
{
    Calling,
    Trying,
    Proceeding,
    Accepted,
    Completed,
    Confirmed,
    Terminated,
}
