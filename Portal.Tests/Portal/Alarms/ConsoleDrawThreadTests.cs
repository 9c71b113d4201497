using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Portal.Alarms;
using Portal.Core.Threading;
using Xunit;

namespace Portal.Tests.Portal.Alarms;

/// <summary>The consoles' drawing thread: below the requests' priority, in order, and one failed redraw stops no other.</summary>
public sealed class ConsoleDrawThreadTests
{
    [Fact]
    public async Task Post_RunsInOrderOnOneThreadAtTheConsoleNice_AndAFailureStopsNothing()
    {
        using var drawing = new ConsoleDrawThread(Options.Create(new PortalOptions { ConsoleNice = 6 }), NullLogger<ConsoleDrawThread>.Instance);
        var order = new List<int>();
        var threads = new HashSet<string?>();
        int? nice = null;
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        drawing.Post(() => { order.Add(1); threads.Add(Thread.CurrentThread.Name); nice = OsThreadPriority.CurrentThreadNice(); });
        drawing.Post(() => throw new InvalidOperationException("a console's render failed"));
        drawing.Post(() => { order.Add(3); threads.Add(Thread.CurrentThread.Name); done.SetResult(); });
        await done.Task.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);

        Assert.Equal([1, 3], order);
        Assert.Equal(["Console drawing"], threads);
        Assert.Equal(6, nice); // raising a thread's nice value needs no privilege
    }

    [Fact]
    public void Post_AfterDispose_IsDroppedQuietly()
    {
        var drawing = new ConsoleDrawThread(Options.Create(new PortalOptions()), NullLogger<ConsoleDrawThread>.Instance);
        drawing.Dispose();

        var ran = false;
        drawing.Post(() => ran = true);
        Thread.Sleep(100);

        Assert.False(ran);
    }
}
