namespace Portal.Media.Sip;

/// <summary>Fire-and-forget for sends whose outcome the caller does not need (retransmissions, stateless answers).</summary>
internal static class SipTasks
{
    /// <summary>Lets a send finish on its own; a synchronous completion (UDP) costs nothing.</summary>
    public static void Forget(this ValueTask<bool> task)
    {
        if (!task.IsCompleted)
        {
            _ = task.AsTask();
        }
        else
        {
            task.GetAwaiter().GetResult();
        }
    }

    public static void Forget(this Task task) => _ = task.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
}
