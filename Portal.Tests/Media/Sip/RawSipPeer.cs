using System.Net;
using System.Net.Sockets;
using System.Text;
using Portal.Media.Sip;
using Xunit;

namespace Portal.Tests.Media.Sip;

/// <summary>A bare UDP socket on 127.0.0.1 that sends hand-written SIP text and reads what comes back.</summary>
internal sealed class RawSipPeer : IDisposable
{
    private readonly UdpClient _udp;

    /// <param name="target">Where the messages go.</param>
    /// <param name="local">The address to send from (127.0.0.1 unless a test needs a source of its own, e.g. 127.0.0.2).</param>
    public RawSipPeer(IPEndPoint target, IPAddress? local = null)
    {
        Target = target;
        _udp = new UdpClient(new IPEndPoint(local ?? IPAddress.Loopback, 0));
    }

    public IPEndPoint Target { get; }

    public int Port => ((IPEndPoint)_udp.Client.LocalEndPoint!).Port;

    public IPAddress Address => ((IPEndPoint)_udp.Client.LocalEndPoint!).Address;

    /// <summary>Hand-written messages use LF; the wire gets CRLF unless <paramref name="raw"/>.</summary>
    public Task SendAsync(string text, bool raw = false) => SendAsync(Encoding.UTF8.GetBytes(raw ? text : Crlf(text)));

    public async Task SendAsync(byte[] datagram) => await _udp.SendAsync(datagram, Target, TestContext.Current.CancellationToken);

    /// <summary>The next response, or null after <paramref name="seconds"/> (only used where silence is the expectation and a later probe confirms it).</summary>
    public async Task<SipResponse?> ReceiveAsync(double seconds = 10)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(seconds));
        try
        {
            while (true)
            {
                var result = await _udp.ReceiveAsync(timeout.Token);
                if (SipMessage.TryParse(result.Buffer, out var message, out _) && message is SipResponse response)
                {
                    return response;
                }
            }
        }
        catch (OperationCanceledException) when (!TestContext.Current.CancellationToken.IsCancellationRequested)
        {
            return null;
        }
    }

    /// <summary>Raw bytes of the next datagram.</summary>
    public async Task<byte[]> ReceiveBytesAsync()
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(10));
        return (await _udp.ReceiveAsync(timeout.Token)).Buffer;
    }

    /// <summary>Sends <paramref name="text"/> and returns the first answer whose CSeq matches, skipping 100 Trying.</summary>
    public async Task<SipResponse> AskAsync(string text)
    {
        await SendAsync(text);
        while (true)
        {
            var response = await ReceiveAsync() ?? throw new TimeoutException("No answer to:\n" + text);
            if (response.StatusCode != 100)
            {
                return response;
            }
        }
    }

    /// <summary>A well-formed OPTIONS from this peer, to prove by its answer that an earlier message got none.</summary>
    public string Probe(string branch = "z9hG4bKprobe") => $"""
        OPTIONS sip:portal@127.0.0.1 SIP/2.0
        Via: SIP/2.0/UDP 127.0.0.1:{Port};branch={branch}
        Max-Forwards: 70
        From: <sip:probe@127.0.0.1>;tag=p1
        To: <sip:portal@127.0.0.1>
        Call-ID: probe-{branch}
        CSeq: 1 OPTIONS
        Content-Length: 0


        """;

    public void Dispose() => _udp.Dispose();

    public static string Crlf(string text) => text.ReplaceLineEndings("\r\n");
}
