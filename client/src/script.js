// The entry of presence.js, for a script tag: it defines window.Presence,
// and a script tag with data-token or data-start starts the client with
// its data attributes, leaving the handle in Presence.handle.

import { start } from "./start.js";

// Read while the script runs: later there is no current script.
const script = document.currentScript;
const Presence = (window.Presence = { start: options => start(options, script && script.src) });
const data = script && script.dataset;

if (data && (data.token != null || data.start != null)) {
  // A boolean attribute is on when present, unless it says "false".
  const flag = name => name in data && data[name] != "false";
  const texts = {}; // data-text-title-cue is texts.titleCue
  for (const key in data) if (/^text[A-Z]/.test(key)) texts[key[4].toLowerCase() + key.slice(5)] = data[key];
  const go = () =>
    (Presence.handle = Presence.start({
      token: data.token,
      url: data.url,
      logoutUrl: data.logoutUrl,
      warnAfter: data.warnAfter,
      expireAfter: data.expireAfter,
      passive: flag("passive"),
      requireButton: flag("requireButton"),
      transport: data.transport,
      logoutMethod: data.logoutMethod,
      csrfToken: data.csrfToken,
      csrfField: data.csrfField,
      confirmUnload: flag("confirmUnload"),
      css: data.css != "none",
      texts,
    }));
  if (document.readyState == "loading") document.addEventListener("DOMContentLoaded", go);
  else go();
}
