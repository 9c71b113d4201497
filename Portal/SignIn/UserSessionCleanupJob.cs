using Microsoft.Extensions.Options;
using Portal.Core.Security;

namespace Portal.SignIn;

/// <summary>Hangfire job: forgets session rows past their absolute or idle end (their cookies are refused anyway). Reentrant.</summary>
public sealed class UserSessionCleanupJob(UserSessionRepository sessions, IOptions<PortalOptions> options, TimeProvider time, ILogger<UserSessionCleanupJob> logger)
{
    public async Task<int> RunAsync(CancellationToken ct)
    {
        var removed = await sessions.DeleteEndedAsync(time.GetUtcNow().UtcDateTime, options.Value.Security.IdleTimeout, ct).ConfigureAwait(false);
        if (removed > 0)
        {
            logger.LogInformation("Forgot {Count} ended sessions", removed);
        }

        return removed;
    }
}
