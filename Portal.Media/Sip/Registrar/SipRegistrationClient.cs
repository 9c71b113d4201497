using Portal.Media.Sip.Auth;
using Portal.Media.Sip.Headers;
using Portal.Media.Sip.Transport;

namespace Portal.Media.Sip.Registrar;

/// <summary>
/// The client side of registration (RFC 3261 §10.2) for one account: keeps its Call-ID and counts CSeq up across
/// refreshes, answers the digest challenge, and reuses the nonce with a growing nonce count until it goes stale.
/// </summary>
/// <remarks>Used by the simulated terminal; a real terminal does the same in its firmware.</remarks>
public sealed class SipRegistrationClient(SipTransactionLayer layer, SipEndPoint registrar, string domain, string username, string password)
{
    private readonly string _callId = SipTags.NewCallId();
    private readonly string _fromTag = SipTags.NewTag();
    private uint _sequence = SipTags.NewSequence();
    private SipResponse? _lastChallenge;
    private int _nonceCount;

    /// <summary>The address-of-record: <c>sip:username@domain</c>.</summary>
    public SipUri AddressOfRecord { get; } = new(domain, username);

    /// <summary>Registers (or refreshes) for <paramref name="expires"/> seconds; 0 unregisters. Returns the final response.</summary>
    public async Task<SipResponse> RegisterAsync(int expires, CancellationToken cancellationToken = default)
    {
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var request = CreateRequest(expires);
            if (_lastChallenge is not null && SipDigestClient.Answer(_lastChallenge, request, username, password, ++_nonceCount) is { } answer)
            {
                request.Headers.Add(answer.Header, answer.Value);
            }

            var transaction = layer.SendRequest(request, registrar);
            using var cancel = cancellationToken.Register(() => transaction.Terminate());
            var response = await transaction.Completion.ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
            if (response.StatusCode is not (SipStatus.Unauthorized or SipStatus.ProxyAuthenticationRequired))
            {
                return response;
            }

            _lastChallenge = response;
            _nonceCount = 0;
        }

        return SipResponse.CreateFor(CreateRequest(expires), SipStatus.Forbidden, "Challenged again");
    }

    private SipRequest CreateRequest(int expires)
    {
        var aor = new SipNameAddressHeader(AddressOfRecord);
        var from = new SipNameAddressHeader(AddressOfRecord) { Tag = _fromTag };
        var request = SipRequest.Create(SipMethods.Register, new SipUri(domain), from, aor, _callId, Interlocked.Increment(ref _sequence));
        request.Headers.Add(SipHeaderNames.Contact, new SipNameAddressHeader(layer.CreateContact(username, registrar)).ToString());
        request.Headers.Add(SipHeaderNames.Expires, expires.ToString(System.Globalization.CultureInfo.InvariantCulture));
        request.Headers.Add(SipHeaderNames.UserAgent, layer.Options.Product);
        return request;
    }
}
