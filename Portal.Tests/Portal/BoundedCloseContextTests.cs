using System.Diagnostics;
using System.Reflection;
using Microsoft.Playwright;
using Xunit;

namespace Portal.Tests.Portal;

/// <summary>The browser tests' context wrapper: a close Chromium never answers ends the wait, everything else passes through.</summary>
public sealed class BoundedCloseContextTests
{
    [Fact]
    public async Task DisposeAsync_CloseNeverAnswered_ReturnsAfterTheBound()
    {
        var never = new TaskCompletionSource();
        var context = BoundedCloseContext.Wrap(FakeContext.Create(closing: never.Task), TimeSpan.FromMilliseconds(200));
        var before = BoundedCloseContext.Abandoned;

        var clock = Stopwatch.StartNew();
        await context.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);

        Assert.InRange(clock.Elapsed, TimeSpan.FromMilliseconds(150), TimeSpan.FromSeconds(10));
        Assert.True(BoundedCloseContext.Abandoned > before);
    }

    [Fact]
    public async Task CloseAsync_Answered_ReturnsItsOutcome_AndOtherMembersPassThrough()
    {
        var context = BoundedCloseContext.Wrap(FakeContext.Create(closing: Task.FromException(new PlaywrightException("closed twice"))), TimeSpan.FromSeconds(10));

        Assert.Equal(3, context.Pages.Count);
        var thrown = await Assert.ThrowsAsync<PlaywrightException>(() => context.CloseAsync());
        Assert.Equal("closed twice", thrown.Message);
        Assert.Throws<NotSupportedException>(() => context.SetDefaultTimeout(1)); // the inner context's own exception, unwrapped
    }

    [Fact]
    public async Task CookiesAsync_NeverAnswered_FailsWithItsName()
    {
        var context = BoundedCloseContext.Wrap(FakeContext.Create(closing: Task.CompletedTask), TimeSpan.FromMilliseconds(200));

        var thrown = await Assert.ThrowsAsync<TimeoutException>(() => context.CookiesAsync().WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken));

        Assert.Contains("CookiesAsync", thrown.Message, StringComparison.Ordinal);
    }

    /// <summary>A stand-in context: CloseAsync/DisposeAsync end with <c>closing</c>, Pages has three, cookies never come, anything else throws.</summary>
    public class FakeContext : DispatchProxy
    {
        private Task _closing = Task.CompletedTask;

        public static IBrowserContext Create(Task closing)
        {
            var proxy = Create<IBrowserContext, FakeContext>();
            ((FakeContext)(object)proxy)._closing = closing;
            return proxy;
        }

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args) => targetMethod?.Name switch
        {
            nameof(IBrowserContext.CloseAsync) => _closing,
            nameof(IAsyncDisposable.DisposeAsync) => new ValueTask(_closing),
            "get_" + nameof(IBrowserContext.Pages) => new IPage[3],
            nameof(IBrowserContext.CookiesAsync) => new TaskCompletionSource<IReadOnlyList<BrowserContextCookiesResult>>().Task,
            _ => throw new NotSupportedException(targetMethod?.Name),
        };
    }
}
