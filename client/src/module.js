// The entry of presence.mjs, for applications that import the client:
//
//   import { start } from "https://presence.example.com/presence.mjs";
//   const presence = start({ token });
//
// It has no global and starts nothing by itself. presence's default base
// URL is the origin the module was loaded from; a bundler that copies the
// module elsewhere needs the url option.

import { start as startFrom } from "./start.js";

// start starts the client and returns its handle, as Presence.start does.
export function start(options) {
  return startFrom(options, import.meta.url);
}
