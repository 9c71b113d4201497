using System.Runtime.CompilerServices;
using Microsoft.Playwright;

namespace Portal.Tests.Portal;

/// <summary>Browser contexts for the tests, every one with the same patient bounds.</summary>
public static class BrowserContexts
{
    /// <summary>
    /// How long an action or a navigation may take before the test fails. The suite runs beside builds and other tests
    /// on 2 cores: a sign-in's post and redirect have taken over Playwright's 30 s default there (fresh clones, load
    /// 13-48). Waits are for conditions, so a longer bound costs nothing when things are well and only delays the report
    /// of a real failure.
    /// </summary>
    public const float TimeoutMs = 60_000;

    /// <summary>
    /// Playwright's 5 s for an expectation is one slow server render on a busy 2-core machine (a static form's post and
    /// redirect under the whole suite's load). Set when the test assembly loads, so it holds for every test, including
    /// those on a portal of their own that run before the shared fixture starts.
    /// </summary>
#pragma warning disable CA2255 // a test assembly, not a library: this is its start-up
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void PatientExpectations() => Assertions.SetDefaultExpectTimeout(30_000);

    /// <summary>
    /// How long creating or closing a context may take. Playwright bounds actions and navigations, not these: they wait
    /// for Chromium's answer to Target.createBrowserContext / Target.disposeBrowserContext, which now and then never
    /// comes (a CI run had a test that had passed every step time out at 300 s with nothing left to do but close its
    /// contexts). A context that does not close in time is left to the browser's own end; a test goes on.
    /// </summary>
    public static readonly TimeSpan ProtocolBound = TimeSpan.FromSeconds(20);

    /// <summary>
    /// A new context with <see cref="TimeoutMs"/> for actions and navigations, whose closing (a test's
    /// <c>await using</c>) is bounded by <see cref="ProtocolBound"/>.
    /// </summary>
    public static async Task<IBrowserContext> NewPatientContextAsync(this IBrowser browser, BrowserNewContextOptions options)
    {
        ArgumentNullException.ThrowIfNull(browser);
        var context = await browser.NewContextAsync(options).WaitAsync(ProtocolBound);
        context.SetDefaultTimeout(TimeoutMs);
        context.SetDefaultNavigationTimeout(TimeoutMs);
        return BoundedCloseContext.Wrap(context);
    }

    /// <summary>A new page in a context of its own, with <see cref="TimeoutMs"/>.</summary>
    public static async Task<IPage> NewPatientPageAsync(this IBrowser browser)
    {
        ArgumentNullException.ThrowIfNull(browser);
        var page = await browser.NewPageAsync().WaitAsync(ProtocolBound);
        page.SetDefaultTimeout(TimeoutMs);
        page.SetDefaultNavigationTimeout(TimeoutMs);
        return page;
    }
}

/// <summary>
/// A browser context whose close gives up after <see cref="BrowserContexts.ProtocolBound"/> (see there), and whose other
/// asynchronous calls fail with their name after it; every member goes to Playwright's context.
/// </summary>
public class BoundedCloseContext : System.Reflection.DispatchProxy
{
    private IBrowserContext _inner = default!;
    private TimeSpan _bound;

    /// <summary>Contexts whose close was given up (the run's output names them).</summary>
    public static int Abandoned => _abandoned;

    private static int _abandoned;

    public static IBrowserContext Wrap(IBrowserContext inner) => Wrap(inner, BrowserContexts.ProtocolBound);

    internal static IBrowserContext Wrap(IBrowserContext inner, TimeSpan bound)
    {
        var proxy = Create<IBrowserContext, BoundedCloseContext>();
        var self = (BoundedCloseContext)(object)proxy;
        self._inner = inner;
        self._bound = bound;
        return proxy;
    }

    protected override object? Invoke(System.Reflection.MethodInfo? targetMethod, object?[]? args)
    {
        ArgumentNullException.ThrowIfNull(targetMethod);
        if (targetMethod.Name == nameof(IAsyncDisposable.DisposeAsync))
        {
            return new ValueTask(CloseBoundedAsync(null));
        }

        if (targetMethod.Name == nameof(IBrowserContext.CloseAsync))
        {
            return CloseBoundedAsync(args?[0] as BrowserContextCloseOptions);
        }

        object? result;
        try
        {
            result = targetMethod.Invoke(_inner, args);
        }
        catch (System.Reflection.TargetInvocationException ex) when (ex.InnerException is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(ex.InnerException).Throw();
            throw; // not reached
        }

        // A call Playwright gives no timeout of its own (cookies, new page, init scripts) gets the same bound, so a
        // browser that stops answering fails the test with the call's name instead of hanging it.
        if (result is Task task && !targetMethod.Name.StartsWith("WaitFor", StringComparison.Ordinal) && !targetMethod.Name.StartsWith("RunAndWait", StringComparison.Ordinal))
        {
            var type = targetMethod.ReturnType;
            return type.IsGenericType && type.GetGenericTypeDefinition() == typeof(Task<>)
                ? BoundMethod.MakeGenericMethod(type.GetGenericArguments()[0]).Invoke(null, [task, targetMethod.Name, _bound])
                : Bound(task, targetMethod.Name, _bound);
        }

        return result;
    }

    private static readonly System.Reflection.MethodInfo BoundMethod = typeof(BoundedCloseContext)
        .GetMethod(nameof(BoundOf), System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!;

    private static async Task Bound(Task task, string name, TimeSpan bound) =>
        await BoundOf(task.ContinueWith(static t => { t.GetAwaiter().GetResult(); return true; }, TaskScheduler.Default), name, bound);

    private static async Task<T> BoundOf<T>(Task<T> task, string name, TimeSpan bound)
    {
        try
        {
            return await task.WaitAsync(bound);
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"Chromium did not answer the context's {name} within {bound.TotalSeconds:0.#} s", ex);
        }
    }

    private async Task CloseBoundedAsync(BrowserContextCloseOptions? options)
    {
        var close = _inner.CloseAsync(options);
        if (await Task.WhenAny(close, Task.Delay(_bound)) != close)
        {
            Interlocked.Increment(ref _abandoned);
            _ = close.ContinueWith(t => _ = t.Exception, TaskScheduler.Default); // observed, whenever it ends
            Console.Error.WriteLine($"[browser] a context did not close within {_bound.TotalSeconds:0.#} s; left to the browser's end");
            return;
        }

        await close;
    }
}
