"use strict";
// t.js records, for the browser tests, what a page saw: errors, CSP
// violations, and when presence's classes came and went on <html>.
window.T = { loaded: Date.now(), errors: [], csp: [], classes: [], events: [], live: [], skew: 0, sockets: 0 };
// T.sockets counts the WebSockets the page opened, and T.socket is the
// last: whether it is open tells which tab leads a shared socket.
window.WebSocket = class extends WebSocket {
  constructor(...args) {
    super(...args);
    T.sockets++;
    T.socket = this;
  }
};
// T.skew moves the page's clock, as a laptop's sleep does for a page
// whose timers did not run meanwhile.
const realNow = Date.now;
Date.now = () => realNow() + T.skew;
addEventListener("error", e => T.errors.push(String(e.message || e)));
addEventListener("unhandledrejection", e => T.errors.push("unhandled rejection: " + e.reason));
document.addEventListener("securitypolicyviolation", e => T.csp.push(e.violatedDirective + " " + e.blockedURI));
new MutationObserver(() => {
  const c = document.documentElement.classList, t = Date.now();
  T.classes.push([t - T.loaded, document.documentElement.className]);
  if (c.contains("presence-warning")) T.warnedAt = T.warnedAt || t;
  else if (T.warnedAt) T.dismissedAt = T.dismissedAt || t;
  if (c.contains("presence-expired")) T.expiredAt = T.expiredAt || t;
}).observe(document.documentElement, { attributes: true, attributeFilter: ["class"] });
// T.live lists what presence's aria-live region said, and when.
addEventListener("DOMContentLoaded", () => new MutationObserver(() => {
  const l = document.querySelector(".presence-root [aria-live]");
  if (l && l.textContent != T.said) T.live.push([Date.now(), (T.said = l.textContent)]);
}).observe(document.body, { subtree: true, childList: true, characterData: true }));
