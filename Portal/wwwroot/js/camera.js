// Gate camera live video: one receive-only RTCPeerConnection per <video>, signalled over the Blazor circuit.
// offer() returns the SDP offer to the component, which answers it on the server and calls answer().
// The peer hangs on the video element (video.portalPc) so tests and diagnostics can read getStats().
window.portalCamera = (() => {
  function preferH264(transceiver) {
    if (!transceiver.setCodecPreferences || !window.RTCRtpReceiver || !RTCRtpReceiver.getCapabilities) return;
    const caps = RTCRtpReceiver.getCapabilities('video');
    const h264 = caps ? caps.codecs.filter(c => c.mimeType.toLowerCase() === 'video/h264') : [];
    if (h264.length) transceiver.setCodecPreferences(h264);
  }

  function close(video) {
    if (video && video.portalPc) {
      try { video.portalPc.close(); } catch (e) { /* already closed */ }
      video.portalPc = null;
      video.srcObject = null;
    }
  }

  return {
    offer: async (video, iceServers, dotnet) => {
      close(video);
      const pc = new RTCPeerConnection({ iceServers: iceServers || [] });
      video.portalPc = pc;
      preferH264(pc.addTransceiver('video', { direction: 'recvonly' }));
      pc.ontrack = e => { video.srcObject = new MediaStream([e.track]); };
      video.onplaying = () => dotnet && dotnet.invokeMethodAsync('OnVideoPlaying').catch(() => {});
      pc.onconnectionstatechange = () => {
        if (pc.connectionState === 'failed' && video.portalPc === pc) {
          dotnet && dotnet.invokeMethodAsync('OnVideoFailed').catch(() => {});
        }
      };
      await pc.setLocalDescription(await pc.createOffer());
      return pc.localDescription.sdp;
    },

    answer: async (video, sdp) => {
      if (video && video.portalPc) await video.portalPc.setRemoteDescription({ type: 'answer', sdp });
    },

    close,

    // The camera wall pulls a camera only while its tile is on screen.
    observe: (element, dotnet) => {
      if (!element) return;
      const observer = new IntersectionObserver(entries => {
        for (const e of entries) dotnet.invokeMethodAsync('OnVisibilityChanged', e.isIntersecting).catch(() => {});
      }, { threshold: 0.1 });
      observer.observe(element);
      element.portalObserver = observer;
    },

    unobserve: element => {
      if (element && element.portalObserver) {
        element.portalObserver.disconnect();
        element.portalObserver = null;
      }
    },
  };
})();
