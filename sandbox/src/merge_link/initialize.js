// The sandbox's Merge Link for plain pages, as Merge documents its own
// (https://cdn.merge.dev/initialize.js): `MergeLink.initialize({ linkToken, onSuccess, onReady,
// onExit })`, then `MergeLink.openLink()` shows the widget in a frame over the page; the frame
// hands back a one-time public token (`onSuccess(publicToken)`), or the user closes it (`onExit`).
(() => {
  const base = document.currentScript.src.replace(/\/initialize\.js(\?.*)?$/, '');
  const frameOrigin = new URL(base).origin;
  let config = null;
  let overlay = null;

  function close() {
    overlay?.remove();
    overlay = null;
  }

  window.addEventListener('message', (event) => {
    if (event.origin !== frameOrigin || event.data?.source !== 'merge-link' || !config) return;
    close();
    if (event.data.type === 'success') config.onSuccess?.(event.data.publicToken, { integration: event.data.integration });
    else config.onExit?.();
  });

  window.MergeLink = {
    initialize(options) {
      config = options;
      setTimeout(() => config.onReady?.(), 0);
    },
    openLink() {
      if (!config?.linkToken) throw new Error('MergeLink.initialize({ linkToken }) must be called first');
      close();
      overlay = document.createElement('div');
      Object.assign(overlay.style, { position: 'fixed', inset: '0', background: 'rgba(0,0,0,.5)', display: 'grid', placeItems: 'center', zIndex: '2147483647' });
      const frame = document.createElement('iframe');
      frame.title = 'Merge Link';
      // The frame answers this page's origin only.
      frame.src = `${base}/widget/${encodeURIComponent(config.linkToken)}?origin=${encodeURIComponent(location.origin)}`;
      Object.assign(frame.style, { width: '420px', height: '560px', border: '0', borderRadius: '12px', background: '#fff' });
      overlay.append(frame);
      document.body.append(overlay);
      frame.focus();
    },
  };
})();
