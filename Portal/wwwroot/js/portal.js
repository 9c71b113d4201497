// Registers the service worker (installable PWA with an offline page).
if ('serviceWorker' in navigator) {
  window.addEventListener('load', () => {
    navigator.serviceWorker.register('/service-worker.js', { scope: '/' }).catch((err) => console.warn('service worker', err));
  });
}
