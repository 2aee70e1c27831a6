// esm.js is an application that imports presence as an ES module and
// records the handle's events in T, as spa.js does with the script tag.
import { start } from "/presence.mjs";

const d = document.querySelector('script[src="/esm.js"]').dataset;
const h = (T.handle = start(JSON.parse(d.options || "{}")));
for (const type of ["warn", "active", "expire", "state", "connection"]) {
  h.on(type, e => T.events.push({ type, at: Date.now() - T.loaded, detail: JSON.parse(JSON.stringify(e)) }));
}
T.global = typeof window.Presence;
