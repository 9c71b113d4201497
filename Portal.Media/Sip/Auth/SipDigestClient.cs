using Portal.Media.Core;

namespace Portal.Media.Sip.Auth;

/// <summary>The client side of digest: answers a 401/407 challenge for a request (RFC 3261 §22.2, RFC 8760 §2.4).</summary>
public static class SipDigestClient
{
    /// <summary>
    /// The header to add to the request's next attempt, answering the first challenge whose algorithm we compute
    /// (RFC 8760 §2.4: take the topmost supported one); null when none is.
    /// </summary>
    public static (string Header, string Value)? Answer(SipResponse challenge, SipRequest request, string username, string password, int nonceCount = 1)
    {
        ArgumentNullException.ThrowIfNull(challenge);
        ArgumentNullException.ThrowIfNull(request);
        var proxy = challenge.StatusCode == SipStatus.ProxyAuthenticationRequired;
        foreach (var header in challenge.Headers.GetAll(proxy ? SipHeaderNames.ProxyAuthenticate : SipHeaderNames.WwwAuthenticate))
        {
            if (!string.Equals(HttpDigest.Scheme(header), "Digest", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            var parameters = HttpDigest.ParseParameters(header);
            if (!HttpDigest.IsSupportedAlgorithm(parameters.GetValueOrDefault("algorithm")))
            {
                continue;
            }

            var value = HttpDigest.BuildAuthorization(parameters, username, password, request.Method, request.RequestUriText, nonceCount);
            return (proxy ? SipHeaderNames.ProxyAuthorization : SipHeaderNames.Authorization, value);
        }

        return null;
    }
}
