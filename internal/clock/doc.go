// Package clock gives presence one notion of time that tests can control.
//
// Use System in production. Use Manual in tests: it starts at a fixed
// instant and moves only when the test calls Advance, so a test of a
// ten-minute session timeout runs in milliseconds. Tickers made by a Manual
// clock fire as Advance crosses their periods, which is how the timer wheel
// is driven in virtual time.
//
// Clock represents the two things presence needs from time: the current
// instant and a periodic tick. Deadlines themselves live in the hub's timer
// wheel, never in per-session timers.
package clock
