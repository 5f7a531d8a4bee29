/* Service worker of the grid worker's app. Shell: cache first, refreshed on a new version.
   What is drawn in the user's language (the page, its string catalog, the manifest) and the worker's
   grid data (/m/data/): network first, cache when offline. API writes pass through. */
const VERSION = "__VERSION__";
const SHELL = __SHELL__;
const LOCALISED = __LOCALISED__;
const CACHE = "yw-shell-" + VERSION;
const DATA = "yw-data";

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((c) => c.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys().then((keys) => Promise.all(
    keys.filter((k) => k.startsWith("yw-shell-") && k !== CACHE).map((k) => caches.delete(k))
  )).then(() => self.clients.claim()));
});

async function networkFirst(request, cacheName, fallbackKey) {
  const cache = await caches.open(cacheName);
  try {
    const response = await fetch(request);
    if (response.ok && !response.redirected) await cache.put(fallbackKey || request, response.clone());
    return response;
  } catch (err) {
    const cached = await cache.match(fallbackKey || request);
    if (cached) return cached;
    throw err;
  }
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== location.origin) return;
  if (LOCALISED.includes(url.pathname) && (url.pathname !== "/m/" || request.mode === "navigate")) {
    event.respondWith(networkFirst(request, CACHE, url.pathname));
  } else if (url.pathname === "/m/data/") {
    event.respondWith(networkFirst(request, DATA));
  } else if (SHELL.includes(url.pathname)) {
    event.respondWith(caches.match(url.pathname).then((hit) => hit || fetch(request)));
  }
});
