namespace Portal.Tests.Media.Bridges;

/// <summary>The browser side of the bridge tests: a receive-only peer connection on a bare page.</summary>
internal static class BrowserWebRtc
{
    public const string Page = "<video id=\"v\" autoplay muted playsinline></video>";

    /// <summary>Creates <c>window.pc</c> with one receive-only video transceiver and returns its offer.</summary>
    public const string OfferScript = """
        async () => {
          const pc = new RTCPeerConnection();
          window.pc = pc;
          pc.addTransceiver('video', { direction: 'recvonly' });
          pc.ontrack = e => { document.getElementById('v').srcObject = new MediaStream([e.track]); };
          await pc.setLocalDescription(await pc.createOffer());
          return pc.localDescription.sdp;
        }
        """;

    public const string AnswerScript = "answer => window.pc.setRemoteDescription({ type: 'answer', sdp: answer })";
}
