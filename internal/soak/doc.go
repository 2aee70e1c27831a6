// Package soak runs presence the way production does, for a while, and
// holds what happened against what should have: a few thousand scripted
// people, each session's truth fixed before it starts (active in one tab,
// in several tabs across nodes, only through the application's own
// requests, with no tab at all, idle from some instant, logging out at
// some instant), on three presence nodes sharing a Redis that keeps its
// data in an append-only file, with the application's webhook receiver played here.
//
// Faults come on a schedule printed before the run: a node killed with
// SIGKILL and started again, Redis stopped and started again, the webhook
// receiver answering 500 for a while, tabs' connections cut. The checker
// then counts false logouts (a person at work warned or ended), missed
// logouts (an idle session not ended within a second of its deadline, or
// of the end of the fault its deadline fell in), lost ends (an end the
// receiver never got) and repeated ends (deliveries of one end beyond the
// first, which a receiver drops by their Idempotency-Key).
//
// presence-bench's soak mode runs it; its test runs a short one.
package soak
