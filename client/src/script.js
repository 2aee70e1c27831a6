// The entry of presence.js, for a script tag: it defines window.Presence,
// and a script tag with data-token or data-start starts the client with
// its data attributes, leaving the handle in Presence.handle.

import { optionsOf } from "./attributes.js";
import { start } from "./start.js";

// Read while the script runs: later there is no current script.
const script = document.currentScript;
const Presence = (window.Presence = { start: options => start(options, script && script.src) });
const data = script && script.dataset;

if (data && (data.token != null || data.start != null)) {
  const go = () => (Presence.handle = Presence.start(optionsOf(data)));
  if (document.readyState == "loading") document.addEventListener("DOMContentLoaded", go);
  else go();
}
