using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace Portal.Media.Rtsp;

/// <summary>The RTP/RTCP UDP socket pair of one track (RFC 3550 §11: RTP on an even port, RTCP on the next odd one).</summary>
internal sealed class RtspUdpReceiver : IAsyncDisposable
{
    private readonly Socket _rtp;
    private readonly Socket _rtcp;
    private readonly CancellationTokenSource _cts = new();
    private Task _loops = Task.CompletedTask;

    private RtspUdpReceiver(Socket rtp, Socket rtcp)
    {
        _rtp = rtp;
        _rtcp = rtcp;
    }

    public int RtpPort => ((IPEndPoint)_rtp.LocalEndPoint!).Port;

    /// <summary>Binds an even/odd pair on <paramref name="address"/>, retrying when the odd port is taken.</summary>
    public static RtspUdpReceiver Bind(IPAddress address)
    {
        for (var attempt = 0; attempt < 50; attempt++)
        {
            var rtp = new Socket(address.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
            try
            {
                rtp.Bind(new IPEndPoint(address, 0));
                var port = ((IPEndPoint)rtp.LocalEndPoint!).Port;
                if (port % 2 != 0 || port == 65534)
                {
                    rtp.Dispose();
                    continue;
                }

                var rtcp = new Socket(address.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
                try
                {
                    rtcp.Bind(new IPEndPoint(address, port + 1));
                    rtp.ReceiveBufferSize = 1024 * 1024;
                    return new RtspUdpReceiver(rtp, rtcp);
                }
                catch (SocketException)
                {
                    rtcp.Dispose();
                    rtp.Dispose();
                }
            }
            catch (SocketException)
            {
                rtp.Dispose();
            }
        }

        throw new RtspException("No free even/odd UDP port pair for RTP.");
    }

    /// <summary>Sends one RTCP packet from our RTCP port (the one the camera knows) to <paramref name="target"/>.</summary>
    public void SendRtcp(ReadOnlySpan<byte> packet, IPEndPoint target)
    {
        try
        {
            _rtcp.SendTo(packet, SocketFlags.None, target);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // Best effort, like all RTCP: the next request goes out a second later.
        }
    }

    /// <summary>Starts receiving; packets from any address other than <paramref name="server"/> are dropped.</summary>
    public void Start(IPAddress server, Action<ReadOnlySpan<byte>> onRtp, ILogger logger)
    {
        _loops = Task.WhenAll(
            Task.Run(() => ReceiveAsync(_rtp, server, onRtp, logger)),
            Task.Run(() => ReceiveAsync(_rtcp, server, _ => { }, logger)));
    }

    public async ValueTask DisposeAsync()
    {
        await _cts.CancelAsync().ConfigureAwait(false);
        _rtp.Dispose();
        _rtcp.Dispose();
        try
        {
            await _loops.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        _cts.Dispose();
    }

    private async Task ReceiveAsync(Socket socket, IPAddress server, Action<ReadOnlySpan<byte>> handler, ILogger logger)
    {
        var buffer = new byte[65536];
        EndPoint any = new IPEndPoint(socket.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any, 0);
        while (!_cts.IsCancellationRequested)
        {
            SocketReceiveFromResult result;
            try
            {
                result = await socket.ReceiveFromAsync(buffer, SocketFlags.None, any, _cts.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionReset)
            {
                continue; // ICMP port unreachable from an earlier send; not fatal for a receiver
            }

            if (result.RemoteEndPoint is IPEndPoint from && !from.Address.Equals(server) && !IPAddress.IsLoopback(server))
            {
                continue;
            }

            try
            {
                handler(buffer.AsSpan(0, result.ReceivedBytes));
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                logger.LogWarning(ex, "RTP handler failed");
            }
        }
    }
}
