// Console alerting: ring tone, browser notification and a flashing tab title.
// Browsers only play sound after a user gesture, so the operator arms audio once per shift (arm()).
window.portalAlarm = (() => {
  let audio = null;
  let ringTimer = null;
  let titleTimer = null;
  let flashText = null;
  let baseTitle = document.title;
  // Notification.permission is a synchronous call to the browser process: read on every new alarm, it held each
  // console's page for 10 ms on average and up to 100 ms under a busy browser (a Chromium trace of ten consoles at 50
  // alarms a second). It is read once and then kept current by the permission's change event and by arm().
  let permission = 'Notification' in window ? null : 'unsupported';
  function notificationPermission() {
    if (permission === null) {
      permission = Notification.permission;
      if (navigator.permissions && navigator.permissions.query) {
        navigator.permissions.query({ name: 'notifications' })
          .then(status => { status.onchange = () => { permission = status.state === 'prompt' ? 'default' : status.state; }; })
          .catch(() => { /* no change events: arm() still updates it */ });
      }
    }
    return permission;
  }

  function beep(freq, ms, gain) {
    if (!audio) return;
    const osc = audio.createOscillator();
    const amp = audio.createGain();
    osc.type = 'square';
    osc.frequency.value = freq;
    amp.gain.value = gain;
    osc.connect(amp).connect(audio.destination);
    osc.start();
    osc.stop(audio.currentTime + ms / 1000);
  }

  return {
    arm: async () => {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      await audio.resume();
      if (notificationPermission() === 'default') {
        try { permission = await Notification.requestPermission(); } catch (e) { /* ignored: notification is a bonus */ }
      }
      beep(880, 120, 0.05);
      return audio.state === 'running';
    },
    isArmed: () => !!audio && audio.state === 'running',
    // level 1: district ring; level 2: escalated, louder and faster.
    ring: (level) => {
      if (ringTimer) clearInterval(ringTimer);
      const loud = level >= 2;
      const play = () => { beep(loud ? 1320 : 988, 180, loud ? 0.35 : 0.15); setTimeout(() => beep(loud ? 990 : 740, 180, loud ? 0.35 : 0.15), 240); };
      play();
      ringTimer = setInterval(play, loud ? 700 : 1400);
    },
    stop: () => { if (ringTimer) clearInterval(ringTimer); ringTimer = null; },
    notify: (title, body, tag) => {
      if (notificationPermission() === 'granted') {
        try { new Notification(title, { body, tag, requireInteraction: true }); } catch (e) { /* not in this context */ }
      }
    },
    // A click on a card opens its pop-up: one listener on the board instead of a handler per card (see AlarmChunk).
    board: (el, console) => {
      el.addEventListener('click', (e) => {
        const card = e.target instanceof Element ? e.target.closest('[data-alarm-id]') : null;
        if (card && el.contains(card)) {
          console.invokeMethodAsync('SelectAlarm', Number(card.dataset.alarmId)).catch(() => { /* the circuit went away */ });
        }
      });
    },
    // The console renders what to ring into one hidden element's data attributes (level, title, the latest
    // notification with a sequence number); watching them costs no browser round trip per alarm.
    watch: (el) => {
      const api = window.portalAlarm;
      if (api._observer) api._observer.disconnect();
      let notified = el.dataset.notifySeq; // alarms already on the board when the console opens do not notify
      const apply = () => {
        const d = el.dataset;
        const seq = d.notifySeq;
        const fresh = seq !== notified;
        notified = seq;
        api.update(Number(d.level) || 0, d.title || null, fresh ? d.notifyTitle : null, d.notifyBody, d.notifyTag);
      };
      api._observer = new MutationObserver(apply);
      api._observer.observe(el, { attributes: true });
      apply();
      return api.isArmed();
    },
    _observer: null,
    // Ring at a level (0 stops), flash the title, maybe notify.
    update: (level, title, notifyTitle, notifyBody, tag) => {
      const api = window.portalAlarm;
      if (level !== api._level) {
        api._level = level;
        if (level > 0) api.ring(level); else api.stop();
      }
      api.flashTitle(title);
      if (notifyTitle) api.notify(notifyTitle, notifyBody || '', tag || undefined);
    },
    _level: 0,
    flashTitle: (text) => {
      flashText = text;
      if (!text) {
        if (titleTimer) clearInterval(titleTimer);
        titleTimer = null;
        document.title = baseTitle;
        return;
      }
      if (titleTimer) return; // the running flasher picks up the new text
      baseTitle = document.title;
      let on = false;
      // The banner blinks with the title, from here: a CSS animation on it made every console draw 60 frames a second.
      titleTimer = setInterval(() => {
        on = !on;
        document.title = on ? '🚨 ' + flashText : baseTitle;
        for (const b of document.getElementsByClassName('alarm-banner')) b.classList.toggle('alarm-banner-dim', on);
      }, 800);
    },
  };
})();
