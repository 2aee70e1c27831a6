// Package demo is a tiny application that shows presence at work: a login
// button, a page with a half-filled form, a link that opens another tab of
// the same session, a passive page, and a "you have been logged out" page.
//
// Use Handler to serve it under /demo/ of a presence started with -demo.
// It plays the part of the application that owns the login: it keeps its
// own session cookie, derives an opaque presence session id from it, and
// mints a fresh token for every page, as a Django or Rails view would.
package demo
