// Package client holds presence's browser client, embedded into the
// binary and served by it.
//
// Use Handler to serve it: /presence.js for a script tag, /presence.mjs
// for applications that import it as an ES module, their source maps
// /presence.js.map and /presence.mjs.map, and /presence.css. Each is
// served with its content type, a strong ETag, cache headers, and gzip
// when the browser accepts it, from bytes compressed once at start-up.
//
// The files are built, not written: the readable source is the ES modules
// in src/, one concern each, around a pure state machine for a tab
// (machine.js); docs/client.md tables its states. go generate ./client/
// bundles and minifies them with esbuild's Go API (internal/bundle) into
// the files above, which are committed, so that go build needs neither
// Node nor npm; a test fails when they are stale against src/, another
// when they outgrow 8 KiB gzipped. The pure modules have unit tests
// beside them, run by Node's test runner (make test-client).
// presence.d.ts declares the types of presence.mjs, and package.json makes
// this folder an npm package of the built files, for applications that
// bundle the client; neither is served, and a Node test holds each to
// what the client really reads, emits and ships.
//
// The client connects every tab of a page to presence's /ws, shows the
// accessible warning dialog when the server pushes warn, and leaves the
// page when it pushes expire; docs/client.md documents its data attributes,
// options and events.
package client
