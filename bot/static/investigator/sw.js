/* The investigators' app's service worker: keeps the app shell and its static files (no data:
 * the API's answers are never stored), so /i/ opens from the home screen and after a reload
 * without a network. Network first, so a new version is used as soon as it is reachable. */
"use strict";

var CACHE = "canbao-investigator-v1";

function cacheable(url) {
  return (
    url.origin === self.location.origin &&
    (url.pathname === "/i/" || url.pathname === "/i/manifest.webmanifest" || url.pathname.indexOf("/i/_static/") === 0)
  );
}

self.addEventListener("install", function (event) {
  // The shell and the versioned files it names (read from the shell itself).
  event.waitUntil(
    caches.open(CACHE).then(function (cache) {
      return fetch("/i/").then(function (response) {
        var copy = response.clone();
        return response.text().then(function (html) {
          var files = html.match(/\/i\/_static\/[^"'\s]+/g) || [];
          return cache.put("/i/", copy).then(function () {
            return cache.addAll(files.concat(["/i/manifest.webmanifest"]));
          });
        });
      });
    }).then(function () {
      return self.skipWaiting();
    })
  );
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys().then(function (names) {
      return Promise.all(names.filter(function (n) { return n !== CACHE; }).map(function (n) { return caches.delete(n); }));
    }).then(function () {
      return self.clients.claim();
    })
  );
});

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (request.method !== "GET" || !cacheable(url)) return;
  // The shell is one page whatever the hash or query: keep it under its own name.
  var key = url.pathname === "/i/" ? "/i/" : request;
  event.respondWith(
    fetch(request).then(function (response) {
      if (response.ok) {
        var copy = response.clone();
        caches.open(CACHE).then(function (cache) { cache.put(key, copy); });
      }
      return response;
    }).catch(function () {
      return caches.match(key).then(function (found) {
        return found || Response.error();
      });
    })
  );
});
