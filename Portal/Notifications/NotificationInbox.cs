using Portal.Core.Notifications;
using Portal.Services;

namespace Portal.Notifications;

/// <summary>
/// The signed-in user's unread count for one circuit, shared by the bell in the app bar and the notification page:
/// a new notification in the user's scope raises it live; marking read on the page brings it down at once.
/// </summary>
public sealed class NotificationInbox(CurrentUser currentUser, NotificationRepository notifications, NotificationCenter center, TimeProvider time) : IDisposable
{
    private IDisposable? _subscription;

    public int Unread { get; private set; }

    /// <summary>Raised after <see cref="Unread"/> changed or a notification arrived; handlers re-render through InvokeAsync.</summary>
    public event Func<Task>? Changed;

    /// <summary>Reads the count and starts listening (once per circuit).</summary>
    public async Task StartAsync()
    {
        var scope = await currentUser.GetScopeAsync().ConfigureAwait(false);
        if (_subscription is null)
        {
            _subscription = center.Subscribe(scope, _ => RefreshAsync());
        }

        await RefreshAsync().ConfigureAwait(false);
    }

    public async Task RefreshAsync()
    {
        var scope = await currentUser.GetScopeAsync().ConfigureAwait(false);
        Unread = await notifications.CountUnreadAsync(scope, time.GetUtcNow().UtcDateTime).ConfigureAwait(false);
        if (Changed is { } changed)
        {
            await changed().ConfigureAwait(false);
        }
    }

    public void Dispose() => _subscription?.Dispose();
}
