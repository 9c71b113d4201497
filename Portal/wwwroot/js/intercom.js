// SIP intercom in the browser: one RTCPeerConnection per intercom panel, signalled over the Blazor circuit like the
// gate camera (camera.js). The terminal's G.711 plays in an <audio>, its H.264 in a muted <video>; the operator's
// microphone goes back as G.711. Without a microphone the session only listens; without WebRTC offer() returns null.
// The peer hangs on the panel element (root.portalPc) so tests and diagnostics can read getStats().
window.portalIntercom = (() => {
  function prefer(transceiver, kind, names) {
    if (!transceiver.setCodecPreferences || !window.RTCRtpReceiver || !RTCRtpReceiver.getCapabilities) return;
    const caps = RTCRtpReceiver.getCapabilities(kind);
    const picked = caps ? caps.codecs.filter(c => names.includes(c.mimeType.toLowerCase())) : [];
    if (picked.length) transceiver.setCodecPreferences(picked);
  }

  function close(root) {
    if (!root) return;
    if (root.portalPc) {
      try { root.portalPc.close(); } catch (e) { /* already closed */ }
      root.portalPc = null;
    }
    if (root.portalMic) {
      root.portalMic.getTracks().forEach(t => t.stop());
      root.portalMic = null;
    }
    root.querySelectorAll('video, audio').forEach(m => { m.srcObject = null; });
  }

  return {
    supported: () => typeof window.RTCPeerConnection === 'function',

    offer: async (root, iceServers, dotnet) => {
      close(root);
      if (typeof window.RTCPeerConnection !== 'function') return null;
      let mic = null;
      try {
        if (navigator.mediaDevices && navigator.mediaDevices.getUserMedia) {
          mic = await navigator.mediaDevices.getUserMedia({ audio: true, video: false });
        }
      } catch (e) {
        mic = null; // no microphone, or permission refused: listen only
      }
      const pc = new RTCPeerConnection({ iceServers: iceServers || [] });
      root.portalPc = pc;
      root.portalMic = mic;
      const audio = mic
        ? pc.addTransceiver(mic.getAudioTracks()[0], { direction: 'sendrecv', streams: [mic] })
        : pc.addTransceiver('audio', { direction: 'recvonly' });
      prefer(audio, 'audio', ['audio/pcmu', 'audio/pcma']);
      prefer(pc.addTransceiver('video', { direction: 'recvonly' }), 'video', ['video/h264']);
      pc.ontrack = e => {
        const el = root.querySelector(e.track.kind === 'video' ? 'video' : 'audio');
        if (el) el.srcObject = new MediaStream([e.track]);
      };
      pc.onconnectionstatechange = () => {
        if (pc.connectionState === 'failed' && root.portalPc === pc) {
          dotnet && dotnet.invokeMethodAsync('OnMediaFailed').catch(() => {});
        }
      };
      await pc.setLocalDescription(await pc.createOffer());
      return { sdp: pc.localDescription.sdp, microphone: !!mic };
    },

    answer: async (root, sdp) => {
      if (root && root.portalPc) await root.portalPc.setRemoteDescription({ type: 'answer', sdp });
    },

    mute: (root, muted) => {
      if (root && root.portalMic) root.portalMic.getAudioTracks().forEach(t => { t.enabled = !muted; });
    },

    close,
  };
})();
