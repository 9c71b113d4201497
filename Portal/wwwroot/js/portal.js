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
