"use strict";
// classic.js stands in, for the browser tests, for django-session-security's
// own script, by its documented protocol only: it watches the person's
// activity, GETs its pingUrl with ?idleFor=<whole seconds idle> and the
// session's cookie (same-origin), asks again when the warning is due, or
// the end once it is, and leaves for its logout URL when the answer is
// "logout". It records each answer in T.pings as [ms since load, answer].
(() => {
  const d = document.currentScript.dataset;
  const warnAfter = +d.warnAfter, expireAfter = +d.expireAfter;
  let last = Date.now();
  for (const type of ["mousemove", "keydown", "scroll", "click"]) addEventListener(type, () => (last = Date.now()), true);
  T.pings = [];
  const ping = async () => {
    let answer = null;
    try {
      const response = await fetch(d.pingUrl + "?idleFor=" + Math.floor((Date.now() - last) / 1000), { credentials: "same-origin", cache: "no-store" });
      answer = await response.json();
    } catch {}
    T.pings.push([Date.now() - T.loaded, answer]);
    if (answer == "logout") return location.assign(d.logoutUrl);
    const idle = typeof answer == "number" ? answer : 0;
    setTimeout(ping, (idle < warnAfter ? warnAfter - idle : Math.max(1, expireAfter - idle)) * 1000);
  };
  setTimeout(ping, warnAfter * 1000);
})();
