// Package tabtest drives presence's /ws as a browser tab would, for the
// tests of the packages that serve it.
//
// Use Dial to connect a Tab to a presence node on 127.0.0.1; it reads
// every frame in the background, answers ping with pong as presence.js
// does, and keeps the frames for the Expect methods, which fail the test
// with what came instead. Time bounds are generous (Wait) because the
// nodes under test run in virtual time: frames arrive in milliseconds,
// and the bounds only matter when a test fails.
package tabtest
