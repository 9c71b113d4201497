using Portal.Media.Sip.Transport;

namespace Portal.Media.Sip.Registrar;

/// <summary>
/// One contact registered for an account (RFC 3261 §10.3): where to reach the terminal, on which flow, until when.
/// </summary>
/// <param name="Account">The account (address-of-record user).</param>
/// <param name="DeviceId">The application's device id.</param>
/// <param name="Contact">The contact URI as the terminal registered it.</param>
/// <param name="Flow">The address and connection the REGISTER came from; requests to the terminal go there (NAT).</param>
/// <param name="CallId">The REGISTER's Call-ID: a refresh keeps it and raises <paramref name="CSeq"/>.</param>
/// <param name="CSeq">The REGISTER's sequence number.</param>
/// <param name="ExpiresUtc">When the binding lapses unless refreshed.</param>
/// <param name="RegisteredUtc">When this contact was first bound.</param>
/// <param name="UserAgent">The terminal's User-Agent, for the device page.</param>
public sealed record SipBinding(
    string Account, int DeviceId, SipUri Contact, SipEndPoint Flow, string CallId, uint CSeq, DateTimeOffset ExpiresUtc, DateTimeOffset RegisteredUtc, string? UserAgent);

/// <summary>A change of an account's bindings: after a REGISTER, an unregister, or expiry.</summary>
/// <param name="Account">The account.</param>
/// <param name="DeviceId">The application's device id.</param>
/// <param name="Bindings">The bindings now in force (empty: unregistered).</param>
/// <param name="AtUtc">When it changed; a refresh counts, so this is the freshness the health checks read.</param>
public sealed record SipRegistrationChange(string Account, int DeviceId, IReadOnlyList<SipBinding> Bindings, DateTimeOffset AtUtc);
