using System.Globalization;
using Microsoft.Extensions.Logging;
using Portal.Media.Sip.Auth;
using Portal.Media.Sip.Headers;
using Portal.Media.Sip.Transactions;

namespace Portal.Media.Sip.Registrar;

/// <summary>Registration bounds (RFC 3261 §10.2.1, §10.3 steps 7–8).</summary>
public sealed class SipRegistrarOptions
{
    /// <summary>Shorter requests get 423 with Min-Expires (0 still unregisters).</summary>
    public int MinExpires { get; set; } = 60;

    /// <summary>Longer requests are shortened to this (a terminal must show it is alive at least this often).</summary>
    public int MaxExpires { get; set; } = 3600;

    /// <summary>When the REGISTER names no expiry.</summary>
    public int DefaultExpires { get; set; } = 3600;

    /// <summary>Contacts per account; a new one beyond this replaces the oldest (a rebooted terminal's stale port).</summary>
    public int MaxBindingsPerAccount { get; set; } = 4;
}

/// <summary>
/// The registrar (RFC 3261 §10.3): authenticates each REGISTER with digest (401), then adds, refreshes or removes
/// the account's bindings and answers 200 with every current contact and its expiry.
/// </summary>
/// <remarks>
/// <code>
/// REGISTER sip:portal SIP/2.0            To: &lt;sip:terminal-00001@portal&gt;   Contact: &lt;sip:terminal-00001@10.0.0.7:5060&gt;;expires=600
///   -> 401 + challenge -> REGISTER + Authorization -> 200 OK, Contact: ...;expires=600
/// Contact: * with Expires: 0              removes every binding (§10.2.2)
/// 0 &lt; expires &lt; MinExpires               423 Interval Too Brief + Min-Expires (§10.3 step 7)
/// same Call-ID, CSeq not higher           500 (out of order, §10.3 step 7)
/// </code>
/// Only the account itself may register its address (From/To third-party registration is refused 403).
/// Every successful REGISTER raises <see cref="Changed"/>, which the host turns into registration freshness.
/// </remarks>
public sealed class SipRegistrar(SipRegistrarOptions options, SipAuthenticator authenticator, SipBindingTable bindings, TimeProvider time, ILogger<SipRegistrar> logger)
{
    /// <summary>Raised after each successful REGISTER and for each expiry sweep that removed a binding.</summary>
    public event Action<SipRegistrationChange>? Changed;

    public SipBindingTable Bindings => bindings;

    public SipRegistrarOptions Options => options;

    public async Task HandleAsync(SipServerTransaction transaction, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(transaction);
        var request = transaction.Request;
        if (request.To?.Uri?.User is not { Length: > 0 } account)
        {
            await transaction.RespondAsync(SipStatus.BadRequest, "To must be the sip: address being registered").ConfigureAwait(false);
            return;
        }

        var contacts = request.GetAddresses(SipHeaderNames.Contact);
        if (contacts is null)
        {
            await transaction.RespondAsync(SipStatus.BadRequest, "Malformed Contact").ConfigureAwait(false);
            return;
        }

        if (await authenticator.AuthenticateAsync(transaction, proxy: false, expectedUser: account, cancellationToken).ConfigureAwait(false) is not { } authenticated)
        {
            return;
        }

        var now = time.GetUtcNow();
        var headerExpires = ParseExpires(request.Headers[SipHeaderNames.Expires]);
        if (contacts.Any(c => c.IsWildcard) && (contacts.Count != 1 || headerExpires != 0))
        {
            await transaction.RespondAsync(SipStatus.BadRequest, "Contact: * needs Expires: 0 and no other contact").ConfigureAwait(false);
            return;
        }

        var requested = new List<(SipUri Uri, long Expires)>();
        foreach (var contact in contacts.Where(c => !c.IsWildcard))
        {
            var expires = ParseExpires(contact.Parameters["expires"]) ?? headerExpires ?? options.DefaultExpires;
            if (contact.Uri is null)
            {
                await transaction.RespondAsync(SipStatus.UnsupportedUriScheme, "Contact must be a sip: URI").ConfigureAwait(false);
                return;
            }

            if (expires > 0 && expires < options.MinExpires)
            {
                var brief = SipRequestValidator.Reject(request, SipStatus.IntervalTooBrief);
                brief.Headers.Add(SipHeaderNames.MinExpires, options.MinExpires.ToString(CultureInfo.InvariantCulture));
                await transaction.RespondAsync(brief).ConfigureAwait(false);
                return;
            }

            requested.Add((contact.Uri, Math.Min(expires, options.MaxExpires)));
        }

        var callId = request.CallId!;
        var cseq = request.CSeq!.Number;
        var outOfOrder = false;
        var current = bindings.Update(account, list =>
        {
            list.RemoveAll(b => b.ExpiresUtc <= now);
            if (contacts.Count == 1 && contacts[0].IsWildcard)
            {
                outOfOrder = list.Exists(b => b.CallId == callId && b.CSeq >= cseq);
                if (!outOfOrder)
                {
                    list.Clear();
                }

                return list.ToList();
            }

            foreach (var (uri, expires) in requested)
            {
                var index = list.FindIndex(b => SameContact(b.Contact, uri));
                if (index >= 0 && list[index].CallId == callId && list[index].CSeq >= cseq)
                {
                    outOfOrder = true;
                    return list.ToList();
                }

                var binding = new SipBinding(account, authenticated.DeviceId, uri, transaction.Source, callId, cseq, now.AddSeconds(expires),
                    index >= 0 ? list[index].RegisteredUtc : now, request.Headers[SipHeaderNames.UserAgent]);
                if (index >= 0)
                {
                    list.RemoveAt(index);
                }

                if (expires > 0)
                {
                    list.Add(binding);
                }
            }

            while (list.Count > options.MaxBindingsPerAccount)
            {
                list.Remove(list.MinBy(b => b.RegisteredUtc)!);
            }

            return list.ToList();
        });

        if (outOfOrder)
        {
            await transaction.RespondAsync(SipStatus.ServerInternalError, "REGISTER out of order").ConfigureAwait(false);
            return;
        }

        var ok = SipRequestValidator.Reject(request, SipStatus.Ok);
        foreach (var binding in current)
        {
            var contact = new SipNameAddressHeader(binding.Contact);
            contact.Parameters.Set("expires", Math.Max(0, (long)(binding.ExpiresUtc - now).TotalSeconds).ToString(CultureInfo.InvariantCulture));
            ok.Headers.Add(SipHeaderNames.Contact, contact.ToString());
        }

        ok.Headers.Add("Date", now.ToString("r", CultureInfo.InvariantCulture));

        // The change is told before the terminal hears its 200: whoever watches registrations (freshness for the health
        // checks) has it by the time the terminal knows it is registered. The handlers only queue it.
        if (requested.Count > 0 || contacts.Count > 0)
        {
            logger.LogDebug("SIP account {Account} has {Count} binding(s)", account, current.Count);
            Raise(new SipRegistrationChange(account, authenticated.DeviceId, current, now));
        }

        await transaction.RespondAsync(ok).ConfigureAwait(false);
    }

    /// <summary>Drops lapsed bindings and reports the accounts that lost one; the host calls this on a timer.</summary>
    public int RemoveExpired()
    {
        var now = time.GetUtcNow();
        var changed = bindings.RemoveExpired(now);
        foreach (var (account, deviceId, remaining) in changed)
        {
            Raise(new SipRegistrationChange(account, deviceId, remaining, now));
        }

        return changed.Count;
    }

    private void Raise(SipRegistrationChange change)
    {
        try
        {
            Changed?.Invoke(change);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            logger.LogError(ex, "Registration change handler failed for {Account}", change.Account);
        }
    }

    /// <summary>delta-seconds; values beyond 2^32-1 count as that (RFC 3261 §20.19 treats them as "very long").</summary>
    private static long? ParseExpires(string? text)
    {
        var value = text?.Trim();
        if (string.IsNullOrEmpty(value) || !value.All(char.IsAsciiDigit))
        {
            return null;
        }

        return value.Length > 10 || !long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) ? uint.MaxValue : Math.Min(seconds, uint.MaxValue);
    }

    /// <summary>Contacts are the same binding when scheme, user, host, port and transport agree (RFC 3261 §19.1.4, reduced).</summary>
    private static bool SameContact(SipUri a, SipUri b) =>
        a.IsSameTarget(b) && string.Equals(a.Transport ?? "udp", b.Transport ?? "udp", StringComparison.OrdinalIgnoreCase);
}
