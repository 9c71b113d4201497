using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Portal.Tests.Core.Alarms;

/// <summary>Keeps what a component logged, so a test can wait for a failure to have been met (and logged) before it heals it.</summary>
public sealed class RecordingLogger<T> : ILogger<T>
{
    private readonly ConcurrentQueue<(LogLevel Level, string Message, Exception? Exception)> _entries = new();

    public IReadOnlyList<(LogLevel Level, string Message, Exception? Exception)> Entries => [.. _entries];

    public int Count(LogLevel atLeast) => _entries.Count(e => e.Level >= atLeast);

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        _entries.Enqueue((logLevel, formatter(state, exception), exception));

    /// <summary>Waits until at least <paramref name="count"/> entries of <paramref name="atLeast"/> or worse were logged (a bound only against a hang).</summary>
    public async Task WaitForAsync(LogLevel atLeast, int count = 1)
    {
        var bound = TimeSpan.FromSeconds(30);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (Count(atLeast) < count)
        {
            Xunit.Assert.True(clock.Elapsed < bound, $"nothing logged at {atLeast} within {bound}");
            await Task.Delay(10);
        }
    }
}
