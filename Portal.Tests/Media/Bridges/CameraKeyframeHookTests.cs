using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Portal.Media.Bridges;
using Portal.Simulator.Cameras;
using Xunit;

namespace Portal.Tests.Media.Bridges;

/// <summary>
/// Issue #15: a camera model that ignores RTCP PLI/FIR but offers a keyframe request over HTTP gets that request when a
/// viewer waits for a keyframe and RTCP went unanswered, with the camera's own credentials (Digest), never logged; the
/// camera (simulated, ignoring RTCP, each session starting at frame 10 of its 2 s GOP) then sends an IDR long before its
/// own next one (frame 50).
/// </summary>
[Trait("Category", "Integration")]
public sealed class CameraKeyframeHookTests
{
    private const string Password = "hook-secret-pw-42";

    [Fact]
    public async Task Subscribe_CameraIgnoresRtcp_HookWithCameraCredentialsBringsIdr()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var camera = await SimulatedCamera.StartAsync(
            new SimulatedCameraOptions { HonourRtcpKeyframeRequests = false, StartFrame = 10, Password = Password }, cancellationToken: ct);
        var viewer = new RtpCollector();
        await using var endpoint = new KeyframeHookEndpoint("admin", Password, basicOnly: false, camera.Rtsp.ForceKeyframe);
        var logs = new LogCollector();
        using var loggers = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Trace).AddProvider(logs));
        using var http = new HttpClient();
        await using var hub = new CameraHub(new CameraHubOptions(), loggers, keyframeHookClient: http);
        var hook = new CameraKeyframeHook(new Uri($"http://127.0.0.1:{endpoint.Port}/ISAPI/Streaming/channels/101/requestKeyFrame"), "PUT", CameraKeyframeHookAuth.Digest, "admin", Password);

        using var subscription = hub.Subscribe(new CameraEndpoint(camera.RtspUri, "admin", Password, KeyframeHook: hook), viewer);
        await Poll.UntilAsync(() => endpoint.Accepted >= 1, TimeSpan.FromSeconds(30), "the hook's authenticated request", ct);
        await Poll.UntilAsync(() => viewer.Units.Count >= 3, TimeSpan.FromSeconds(30), "frames after the hook", ct);

        // The camera ignores RTCP: its own next IDR is 40 frames into the session (frame 50 of the clip), and the stream
        // forwards nothing before a keyframe. Frames sent minus frames received (read in that order: an upper bound) is
        // where the viewer's first keyframe came: before frame 40, so it was the hook's.
        var received = viewer.Units;
        var firstKeyframeAtMost = camera.Rtsp.FramesSent - received.Count;
        Assert.True(received[0].IsKeyframe && received[0].HasSps && received[0].HasPps);
        Assert.True(firstKeyframeAtMost < 40, $"the first keyframe came at frame {firstKeyframeAtMost} of the session or earlier: the camera's own, not the hook's");
        Assert.True(camera.Rtsp.KeyframeRequests >= 1, "RTCP was tried first");
        Assert.Equal(["PUT /ISAPI/Streaming/channels/101/requestKeyFrame", "PUT /ISAPI/Streaming/channels/101/requestKeyFrame"], endpoint.Lines.Take(2));
        Assert.All(endpoint.Authorizations, a => Assert.StartsWith("Digest ", a, StringComparison.Ordinal));

        var stats = Assert.Single(hub.GetPulls()).Keyframes;
        Assert.NotNull(stats.Hook);
        Assert.Equal(1, stats.Hook.Calls); // one call per wait: the keyframe ended it
        Assert.Equal(0, stats.Hook.Failures);
        Assert.Equal("200 OK", stats.Hook.LastOutcome);
        Assert.NotNull(stats.Hook.LastDelayMs);
        Assert.DoesNotContain(logs.Messages, m => m.Contains(Password, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Subscribe_HookOffersOnlyBasic_PasswordNeverSentFailureCountedRateLimited()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var camera = await SimulatedCamera.StartAsync(
            new SimulatedCameraOptions { HonourRtcpKeyframeRequests = false, StartFrame = 10, Password = Password }, cancellationToken: ct);
        await using var endpoint = new KeyframeHookEndpoint("admin", Password, basicOnly: true, camera.Rtsp.ForceKeyframe);
        var logs = new LogCollector();
        using var loggers = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Trace).AddProvider(logs));
        using var http = new HttpClient();
        var options = new CameraHubOptions { KeyframeHookInterval = TimeSpan.FromMilliseconds(300) };
        await using var hub = new CameraHub(options, loggers, keyframeHookClient: http);
        var hook = new CameraKeyframeHook(new Uri($"http://127.0.0.1:{endpoint.Port}/keyframe"), "GET", CameraKeyframeHookAuth.Digest, "admin", Password);
        var viewer = new RtpCollector();

        var watch = Stopwatch.StartNew();
        using var subscription = hub.Subscribe(new CameraEndpoint(camera.RtspUri, "admin", Password, KeyframeHook: hook), viewer);

        // No keyframe comes until the camera's own one, 40 frames into the session: the hook is refused meanwhile (and only
        // an accepted request makes this camera send one).
        await Poll.UntilAsync(() => viewer.Units.Any(u => u.IsKeyframe), TimeSpan.FromSeconds(30), "the camera's own keyframe", ct);
        var elapsed = watch.Elapsed;
        var stats = Assert.Single(hub.GetPulls()).Keyframes.Hook;

        Assert.True(viewer.Units[0].IsKeyframe);
        Assert.NotNull(stats);
        Assert.True(stats.Calls >= 1 && stats.Failures >= 1, stats.ToString());
        Assert.Equal("401 Unauthorized", stats.LastOutcome);
        Assert.True(stats.Calls <= 1 + (elapsed / options.KeyframeHookInterval), $"{stats.Calls} calls in {elapsed.TotalMilliseconds:0} ms: not rate-limited");
        Assert.Empty(endpoint.Authorizations); // Basic was offered, Digest asked for: the password never left
        Assert.Equal(0, endpoint.Accepted);
        Assert.Contains(logs.Messages, m => m.Contains("Keyframe hook GET http://127.0.0.1", StringComparison.Ordinal) && m.Contains("401", StringComparison.Ordinal));
        Assert.DoesNotContain(logs.Messages, m => m.Contains(Password, StringComparison.Ordinal));
    }

    /// <summary>Every formatted log message, with its exception.</summary>
    private sealed class LogCollector : ILoggerProvider
    {
        public ConcurrentQueue<string> Messages { get; } = new();

        public ILogger CreateLogger(string categoryName) => new Collecting(this);

        public void Dispose()
        {
        }

        private sealed class Collecting(LogCollector owner) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                owner.Messages.Enqueue(formatter(state, exception) + " " + exception);
        }
    }
}
