using System.Globalization;

namespace Portal.Benchmarks;

/// <summary>
/// <c>media [all|firstframe|firstframe4m|viewers|alloc] [name=value ...]</c>, issue #5: the gate camera's time to first
/// frame in Chromium (2 s GOP), CPU and memory of the media plane for many 4 Mbps WebRTC viewers, and bytes allocated
/// per forwarded packet. Everything on 127.0.0.1; each part stops by itself. Exit code 2 when an aim is missed
/// (warm first frame p95 under 500 ms, every viewer connected, under one byte allocated per forwarded packet).
/// </summary>
public static class MediaBenchmark
{
    public const string Usage = "media [all|firstframe|firstframe4m|viewers|alloc] [openings=24] [cold=3] [openings4m=10] [viewers=100] [seconds=20] [forwarded=200000]";

    public static async Task<int> RunAsync(string[] args)
    {
        var part = args.Length > 0 && !args[0].Contains('=', StringComparison.Ordinal) ? args[0] : "all";
        var named = args.Where(a => a.Contains('=', StringComparison.Ordinal))
            .Select(a => a.Split('=', 2))
            .ToDictionary(a => a[0], a => a[1], StringComparer.OrdinalIgnoreCase);
        int Get(string name, int fallback) =>
            named.TryGetValue(name, out var text) && int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var v) && v > 0 ? v : fallback;

        var ok = true;
        switch (part)
        {
            case "serve": // the child process of the viewers part: the media plane alone
                return await MediaViewers.ServeAsync(new Uri(args[1])).ConfigureAwait(false);
            case "alloc":
                ok &= await RunAllocAsync().ConfigureAwait(false);
                break;
            case "firstframe":
                ok &= await MediaFirstFrame.RunAsync(Get("openings", 24), Get("cold", 3)).ConfigureAwait(false);
                ok &= await MediaFirstFrame.RunHighRateAsync(Get("openings4m", 10)).ConfigureAwait(false);
                break;
            case "firstframe4m":
                ok &= await MediaFirstFrame.RunHighRateAsync(Get("openings4m", 10)).ConfigureAwait(false);
                break;
            case "viewers":
                ok &= await MediaViewers.RunAsync(Get("viewers", 100), Get("seconds", 20)).ConfigureAwait(false);
                break;
            case "all":
                ok &= await MediaFirstFrame.RunAsync(Get("openings", 24), Get("cold", 3)).ConfigureAwait(false);
                ok &= await MediaFirstFrame.RunHighRateAsync(Get("openings4m", 10)).ConfigureAwait(false);
                ok &= await MediaViewers.RunAsync(Get("viewers", 100), Get("seconds", 20)).ConfigureAwait(false);
                ok &= await RunAllocAsync().ConfigureAwait(false);
                break;
            default:
                Console.WriteLine("usage: Portal.Benchmarks " + Usage);
                return 1;
        }

        return ok ? 0 : 2;

        async Task<bool> RunAllocAsync()
        {
            var forwarded = Get("forwarded", 200_000);
            var a = await MediaAllocations.RunAsync(viewers: 4, forwarded, highRate: false).ConfigureAwait(false);
            var b = await MediaAllocations.RunAsync(viewers: 4, forwarded, highRate: true).ConfigureAwait(false);
            return a && b;
        }
    }
}
