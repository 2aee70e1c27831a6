// Package client holds presence's browser client, presence.js and
// presence.css, embedded into the binary and served by it.
//
// Use Handler to serve both files; mount it at /presence.js and
// /presence.css. The files are plain modern JavaScript and CSS with no
// dependencies and no build step: what is in this folder is what browsers
// run. Each is served with its content type, a strong ETag, cache headers,
// and gzip when the browser accepts it, from bytes compressed once at
// start-up.
//
// The script connects every tab of a page to presence's /ws, shows the
// accessible warning dialog when the server pushes warn, and leaves the
// page when it pushes expire; the README documents its data attributes,
// options and events.
package client
