using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Dapper;
using Xunit;

namespace Portal.Tests.Portal.Browser;

/// <summary>
/// Issue #14: a hostile sender at the WebRTC media port (random STUN-, DTLS- and SRTP-shaped datagrams from many source
/// ports for 10 s, some STUN checks carrying the watching browser's real ICE username with a wrong password) while
/// Chromium watches a gate camera: the video keeps playing and the portal keeps serving. School 3370000007 is this
/// test's own; city110 may view it.
/// </summary>
[Trait("Category", "Browser")]
public sealed class MediaPortHostileTrafficTests(PortalFixture portal)
{
    private const string FramesScript = """
        async () => {
          const v = document.querySelector('[data-testid=camera-video]');
          let frames = 0;
          if (v && v.portalPc) (await v.portalPc.getStats()).forEach(r => { if (r.type === 'inbound-rtp' && r.kind === 'video') frames = r.framesDecoded || 0; });
          return frames;
        }
        """;

    [Fact(Timeout = 300_000)]
    public async Task HostileDatagrams_WhileCameraPlays_VideoAndPortalCarryOn()
    {
        var ct = TestContext.Current.CancellationToken;
        var running = await portal.GetPortalAsync();
        int schoolId;
        await using (var connection = running.Db.Open())
        {
            schoolId = await connection.ExecuteScalarAsync<int>("SELECT Id FROM School WHERE Code = '3370000007'");
        }

        var (admin, _) = await portal.SignInAsync("admin");
        await using var __ = admin;
        var media = JsonDocument.Parse(await (await admin.APIRequest.GetAsync("/api/diagnostics/media")).TextAsync()).RootElement;
        var port = media.GetProperty("webRtcPort").GetInt32();

        var (context, page) = await portal.SignInAsync("city110");
        await using var _ = context;
        await page.GotoAsync($"/schools/{schoolId}");
        await PortalFixture.WaitInteractiveAsync(page);
        await Poll.UntilAsync(async () => await page.EvaluateAsync<int>(FramesScript) >= 10, TimeSpan.FromSeconds(60), "the camera to play", ct);

        // The browser's session: its ICE username lets some hostile checks reach the real peer (and fail integrity).
        var answer = await page.EvaluateAsync<string>("() => document.querySelector('[data-testid=camera-video]').portalPc.remoteDescription.sdp");
        var ufrag = answer.Split('\n').Select(l => l.Trim()).First(l => l.StartsWith("a=ice-ufrag:", StringComparison.Ordinal))["a=ice-ufrag:".Length..];

        using var flood = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var sender = Task.Run(() => FloodAsync(port, ufrag, flood.Token), CancellationToken.None);
        using var http = new HttpClient { BaseAddress = new Uri(running.BaseUrl), Timeout = TimeSpan.FromSeconds(30) };
        var frames = new List<int> { await page.EvaluateAsync<int>(FramesScript) };
        var clock = TimeProvider.System.GetTimestamp();
        while (TimeProvider.System.GetElapsedTime(clock) < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(2000, ct); // sampling period of the check below, not a synchronisation
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(new Uri("/healthz", UriKind.Relative), ct)).StatusCode);
            frames.Add(await page.EvaluateAsync<int>(FramesScript));
        }

        await flood.CancelAsync();
        var sent = await sender;

        Assert.True(sent > 1000, $"only {sent} hostile datagrams sent");
        for (var i = 1; i < frames.Count; i++)
        {
            Assert.True(frames[i] > frames[i - 1], $"decoding stalled under the flood: frames {string.Join(", ", frames)} ({sent} datagrams)");
        }

        // And the portal still starts new sessions: reload, the camera plays again.
        await page.ReloadAsync();
        await PortalFixture.WaitInteractiveAsync(page);
        await Poll.UntilAsync(async () => await page.EvaluateAsync<int>(FramesScript) >= 10, TimeSpan.FromSeconds(60), "the camera to play after the flood", ct);
    }

    /// <summary>Sends random datagrams from eight sockets until cancelled; returns how many.</summary>
    private static async Task<long> FloodAsync(int port, string realUfrag, CancellationToken ct)
    {
        var random = new Random(1414);
        var target = new IPEndPoint(IPAddress.Loopback, port);
        var sockets = Enumerable.Range(0, 8).Select(_ => new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp)).ToList();
        var buffer = new byte[1400];
        long sent = 0;
        try
        {
            foreach (var socket in sockets)
            {
                socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            }

            while (!ct.IsCancellationRequested)
            {
                var length = (sent % 3) switch
                {
                    0 => Stun(buffer, random, random.Next(4) == 0 ? realUfrag : null),
                    1 => Dtls(buffer, random),
                    _ => Srtp(buffer, random),
                };
                try
                {
                    await sockets[(int)(sent % sockets.Count)].SendToAsync(buffer.AsMemory(0, length), SocketFlags.None, target, ct);
                    sent++;
                }
                catch (SocketException)
                {
                    // ICMP port unreachable echoes and full buffers: a flood does not care
                }

                if (sent % 500 == 0)
                {
                    await Task.Delay(1, ct); // about 10-20k datagrams/s on this machine, leaving the browser some CPU
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            foreach (var socket in sockets)
            {
                socket.Dispose();
            }
        }

        return sent;
    }

    /// <summary>A binding request (RFC 8489 header, magic cookie) with USERNAME and a MESSAGE-INTEGRITY of random bytes.</summary>
    private static int Stun(byte[] buffer, Random random, string? ufrag)
    {
        var username = Encoding.ASCII.GetBytes((ufrag ?? RandomText(random, 8)) + ":" + RandomText(random, 4));
        var padded = (username.Length + 3) & ~3;
        BinaryPrimitives.WriteUInt16BigEndian(buffer, 0x0001);
        BinaryPrimitives.WriteUInt16BigEndian(buffer.AsSpan(2), (ushort)(4 + padded + 24));
        BinaryPrimitives.WriteUInt32BigEndian(buffer.AsSpan(4), 0x2112A442);
        random.NextBytes(buffer.AsSpan(8, 12));
        BinaryPrimitives.WriteUInt16BigEndian(buffer.AsSpan(20), 0x0006);
        BinaryPrimitives.WriteUInt16BigEndian(buffer.AsSpan(22), (ushort)username.Length);
        buffer.AsSpan(24, padded).Clear();
        username.CopyTo(buffer, 24);
        var pos = 24 + padded;
        BinaryPrimitives.WriteUInt16BigEndian(buffer.AsSpan(pos), 0x0008);
        BinaryPrimitives.WriteUInt16BigEndian(buffer.AsSpan(pos + 2), 20);
        random.NextBytes(buffer.AsSpan(pos + 4, 20));
        return pos + 24;
    }

    /// <summary>A DTLS 1.2 record header (handshake or application data) over random bytes.</summary>
    private static int Dtls(byte[] buffer, Random random)
    {
        var length = random.Next(13, 600);
        random.NextBytes(buffer.AsSpan(0, length));
        buffer[0] = (byte)(random.Next(2) == 0 ? 22 : 23);
        buffer[1] = 0xFE;
        buffer[2] = 0xFD;
        BinaryPrimitives.WriteUInt16BigEndian(buffer.AsSpan(11), (ushort)(length - 13));
        return length;
    }

    /// <summary>An RTP or RTCP header (version 2) over random bytes: SRTP that authenticates nothing.</summary>
    private static int Srtp(byte[] buffer, Random random)
    {
        var length = random.Next(12, 1300);
        random.NextBytes(buffer.AsSpan(0, length));
        buffer[0] = (byte)(0x80 | (buffer[0] & 0x3F));
        return length;
    }

    private static string RandomText(Random random, int length) =>
        string.Create(length, random, (span, r) =>
        {
            for (var i = 0; i < span.Length; i++)
            {
                span[i] = (char)('a' + r.Next(26));
            }
        });
}
