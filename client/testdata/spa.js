"use strict";
// spa.js is a single-page application for the browser tests: it starts
// presence with the JavaScript API and records the handle's events in T.
(() => {
  const d = document.currentScript.dataset, o = JSON.parse(d.options || "{}");
  if (d.refresh) o.refreshToken = () => fetch(d.refresh).then(r => r.text());
  const go = () => {
    const h = (T.handle = Presence.start(o));
    for (const type of ["warn", "active", "expire", "state", "connection", "error"]) {
      h.on(type, e => {
        T.events.push({ type, at: Date.now() - T.loaded, detail: JSON.parse(JSON.stringify(e)) });
        if (type == "expire" && d.prevent) e.preventDefault();
      });
    }
    if (d.activityEvery) setInterval(() => h.activity(), +d.activityEvery);
  };
  document.readyState == "loading" ? addEventListener("DOMContentLoaded", go) : go();
})();
