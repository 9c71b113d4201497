using Microsoft.Extensions.Logging;
using Portal.Core.Security;

namespace Portal.Core.Notifications;

/// <summary>
/// Live delivery of new notifications: to every signed-in user whose role and scope a notification covers (the
/// bell's count), and to the Web Push sender, which addresses the browsers with their tab closed. Like
/// <see cref="Alarms.AlarmNotifier"/>, the one place they are published from, so a backplane between instances plugs in here.
/// </summary>
public sealed class NotificationCenter(ILogger<NotificationCenter> logger)
{
    private readonly Lock _lock = new();
    private Subscription[] _subscribers = [];

    /// <summary>Delivers each new notification <paramref name="scope"/> may see to <paramref name="onNew"/> until disposed.</summary>
    public IDisposable Subscribe(UserScope scope, Func<Notification, Task> onNew) => Add(new Subscription(this, scope, onNew));

    /// <summary>Every new notification, whatever its audience (the Web Push sender addresses them itself).</summary>
    public IDisposable SubscribeAll(Func<Notification, Task> onNew) => Add(new Subscription(this, null, onNew));

    /// <summary>Announces committed notifications; returns at once.</summary>
    public void Publish(IEnumerable<Notification> notifications)
    {
        ArgumentNullException.ThrowIfNull(notifications);
        var subscribers = Volatile.Read(ref _subscribers);
        foreach (var notification in notifications)
        {
            foreach (var s in subscribers)
            {
                if (s.Scope is null || notification.IsFor(s.Scope))
                {
                    _ = DeliverAsync(s, notification);
                }
            }
        }
    }

    private Subscription Add(Subscription subscription)
    {
        lock (_lock)
        {
            _subscribers = [.. _subscribers, subscription];
        }

        return subscription;
    }

    private async Task DeliverAsync(Subscription s, Notification notification)
    {
        try
        {
            await Task.Yield();
            await s.OnNew(notification).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            logger.LogWarning(ex, "A subscriber failed to take notification {Id}", notification.Id);
        }
    }

    private void Remove(Subscription subscription)
    {
        lock (_lock)
        {
            _subscribers = [.. _subscribers.Where(s => !ReferenceEquals(s, subscription))];
        }
    }

    private sealed class Subscription(NotificationCenter owner, UserScope? scope, Func<Notification, Task> onNew) : IDisposable
    {
        public UserScope? Scope => scope;

        public Func<Notification, Task> OnNew => onNew;

        public void Dispose() => owner.Remove(this);
    }
}
