// Registers the service worker (installable PWA with an offline page).
if ('serviceWorker' in navigator) {
  window.addEventListener('load', () => {
    navigator.serviceWorker.register('/service-worker.js', { scope: '/' }).catch((err) => console.warn('service worker', err));
  });
}

// When the server no longer knows this console's circuit (it restarted), reload: the fresh page loads every
// open alarm from the database, so nothing raised meanwhile is missed.
(() => {
  const watch = () => {
    const modal = document.getElementById('components-reconnect-modal');
    if (!modal) { setTimeout(watch, 500); return; }
    new MutationObserver(() => {
      if (modal.classList.contains('components-reconnect-rejected') || modal.classList.contains('components-reconnect-failed')) {
        setTimeout(() => location.reload(), 1000);
      }
    }).observe(modal, { attributes: true, attributeFilter: ['class'] });
  };
  window.addEventListener('load', watch);
})();

// Web Push (issue 12): asks for permission, subscribes this browser with the portal's VAPID key and gives the
// subscription to the portal, which then pushes health notices and new alarms even with every tab closed.
window.portalPush = (() => {
  const toBytes = (base64url) => {
    const padded = (base64url + '==='.slice((base64url.length + 3) % 4)).replace(/-/g, '+').replace(/_/g, '/');
    return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
  };
  const post = (url, body) => fetch(url, {
    method: 'POST', credentials: 'same-origin', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
  });
  return {
    async subscribe(culture) {
      if (!('serviceWorker' in navigator) || !('PushManager' in window) || !('Notification' in window)) { return 'unsupported'; }
      try {
        if (await Notification.requestPermission() !== 'granted') { return 'denied'; }
        const registration = await navigator.serviceWorker.ready;
        const { publicKey } = await (await fetch('/api/push/key', { credentials: 'same-origin' })).json();
        const subscription = await registration.pushManager.getSubscription()
          || await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: toBytes(publicKey) });
        const response = await post('/api/push/subscriptions', { ...subscription.toJSON(), culture });
        return response.ok ? 'subscribed' : 'failed';
      } catch (err) {
        console.warn('push', err);
        return 'failed';
      }
    },
    async unsubscribe() {
      const registration = await navigator.serviceWorker.ready;
      const subscription = await registration.pushManager.getSubscription();
      if (subscription) {
        await post('/api/push/subscriptions/delete', { endpoint: subscription.endpoint });
        await subscription.unsubscribe();
      }
    },
  };
})();
