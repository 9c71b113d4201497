using Microsoft.Extensions.Logging;
using Portal.Media.Sip.Transactions;

namespace Portal.Media.Sip.Auth;

/// <summary>A refused authentication, for the application's security log (never carries a password).</summary>
/// <param name="Source">The address the request came from.</param>
/// <param name="Username">The user name the request claimed, if any.</param>
/// <param name="DeviceId">The device of that user name, when it exists.</param>
/// <param name="Reason">UnknownAccount, BadCredentials, Disabled, Throttled, WrongAccount.</param>
public sealed record SipAuthFailure(System.Net.IPAddress Source, string? Username, int? DeviceId, string Reason);

/// <summary>
/// Who is asking: digest credentials checked against the application's directory, with failures throttled.
/// Shared by the registrar (401, RFC 3261 §22.2) and the call handling (407, as the terminal's proxy, §22.3).
/// </summary>
/// <remarks>
/// An unknown account and a wrong password get the same 403, so the answer reveals no account names. A correct
/// answer to an expired nonce is re-challenged with stale=true (RFC 2617 §3.2.1) and is not a failure.
/// </remarks>
public sealed class SipAuthenticator(ISipAccountDirectory directory, SipDigestAuthenticator digest, SipAuthThrottle throttle, ILogger<SipAuthenticator> logger)
{
    /// <summary>Raised for every refusal; handlers must be quick (they run on the request path).</summary>
    public event Action<SipAuthFailure>? Failed;

    public SipDigestAuthenticator Digest => digest;

    /// <summary>
    /// The authenticated account, or null after answering the transaction with a challenge or a refusal.
    /// </summary>
    /// <param name="transaction">The request to check; answered here unless the account is returned.</param>
    /// <param name="proxy">Challenge with 407 / Proxy-Authorization instead of 401 / Authorization.</param>
    /// <param name="expectedUser">When set, the credentials must be this account's (REGISTER's To user).</param>
    /// <param name="cancellationToken">Cancels the directory lookup.</param>
    public async Task<SipAccount?> AuthenticateAsync(SipServerTransaction transaction, bool proxy, string? expectedUser, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(transaction);
        var request = transaction.Request;
        var source = transaction.Source.Address.Address;
        if (!digest.TryReadCredentials(request, proxy, out var credentials))
        {
            await ChallengeAsync(transaction, proxy, stale: false).ConfigureAwait(false);
            return null;
        }

        var username = credentials.Username;
        if (throttle.Check(source, username) is not SipThrottleVerdict.Allowed and var verdict)
        {
            Failed?.Invoke(new SipAuthFailure(source, username, null, "Throttled"));
            var refusal = SipRequestValidator.Reject(request, SipStatus.Forbidden, "Too many failed attempts");
            refusal.Headers.Add(SipHeaderNames.RetryAfter, "60");
            logger.LogInformation("SIP {Method} for {User} from {Source} refused: {Verdict}", request.Method, username, source, verdict);
            await transaction.RespondAsync(refusal).ConfigureAwait(false);
            return null;
        }

        if (expectedUser is not null && !string.Equals(expectedUser, username, StringComparison.Ordinal))
        {
            Failed?.Invoke(new SipAuthFailure(source, username, null, "WrongAccount"));
            await transaction.RespondAsync(SipStatus.Forbidden, "Credentials of another account").ConfigureAwait(false);
            return null;
        }

        var account = await directory.FindAsync(username, cancellationToken).ConfigureAwait(false);
        var result = account is null ? SipDigestVerdict.Invalid : digest.Verify(credentials, request.Method, account.Password);
        if (result == SipDigestVerdict.Stale)
        {
            await ChallengeAsync(transaction, proxy, stale: true).ConfigureAwait(false);
            return null;
        }

        if (result == SipDigestVerdict.Invalid)
        {
            throttle.RecordFailure(source, username);
            Failed?.Invoke(new SipAuthFailure(source, username, account?.DeviceId, account is null ? "UnknownAccount" : "BadCredentials"));
            logger.LogInformation("SIP {Method} for {User} from {Source}: wrong credentials", request.Method, username, source);
            await transaction.RespondAsync(SipStatus.Forbidden).ConfigureAwait(false);
            return null;
        }

        if (!account!.Enabled)
        {
            Failed?.Invoke(new SipAuthFailure(source, username, account.DeviceId, "Disabled"));
            await transaction.RespondAsync(SipStatus.Forbidden, "Device disabled").ConfigureAwait(false);
            return null;
        }

        throttle.RecordSuccess(source, username);
        return account;
    }

    private async Task ChallengeAsync(SipServerTransaction transaction, bool proxy, bool stale)
    {
        var challenge = SipRequestValidator.Reject(transaction.Request, proxy ? SipStatus.ProxyAuthenticationRequired : SipStatus.Unauthorized);
        digest.AddChallenges(challenge, stale);
        await transaction.RespondAsync(challenge).ConfigureAwait(false);
    }
}
