using System.Collections.Concurrent;
using Portal.Core.Threading;

namespace Portal.Alarms;

/// <summary>
/// The thread on which alarm consoles redraw after their browser confirmed the last draw (<see cref="AlarmBoard.Rendered"/>).
/// Blazor Server runs that confirmation on a thread-pool thread, and a board with changes waiting draws again right
/// there: with ten consoles under a flood, the thread pool spent its time drawing boards while a device's request waited
/// for a thread to be parsed, checked and answered. Here the redraw waits its turn on one thread at
/// <see cref="PortalOptions.ConsoleNice"/> instead, like the notifier's own delivery; Blazor runs the console's work
/// inline on whichever thread calls <c>InvokeAsync</c> while the circuit is free, so the draw happens on this thread.
/// </summary>
public sealed class ConsoleDrawThread : IDisposable
{
    private readonly BlockingCollection<Action> _work = [];
    private readonly ILogger<ConsoleDrawThread> _logger;
    private readonly int _nice;

    public ConsoleDrawThread(Microsoft.Extensions.Options.IOptions<PortalOptions> options, ILogger<ConsoleDrawThread> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _logger = logger;
        _nice = options.Value.ConsoleNice;
        new Thread(Run) { IsBackground = true, Name = "Console drawing" }.Start();
    }

    /// <summary>Runs <paramref name="action"/> on the drawing thread, after what is already waiting there.</summary>
    public void Post(Action action)
    {
        try
        {
            _work.Add(action);
        }
        catch (InvalidOperationException)
        {
            // Shutting down: nothing is drawn any more.
        }
    }

    public void Dispose() => _work.CompleteAdding();

    private void Run()
    {
        OsThreadPriority.ApplyNice(_logger, _nice);
        foreach (var action in _work.GetConsumingEnumerable())
        {
            try
            {
                action();
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                _logger.LogWarning(ex, "A console's redraw failed");
            }
        }
    }
}
