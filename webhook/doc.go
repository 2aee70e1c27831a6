// Package webhook tells the application when a session ends, so that it
// can delete the login session on its side even if no tab is open.
//
// Use NewSender to deliver Events to one URL: each is POSTed as JSON,
// signed with Sign, from a bounded queue, and retried with exponential
// backoff on network errors and 5xx answers, so that a slow or down
// receiver never blocks a hub. Use Verify on the receiving side (presence's
// backend package and its Python helper do the same in their languages).
//
// A delivery carries three headers: Content-Type: application/json,
// Idempotency-Key (the same for every attempt and every node that reports
// the same end, so a receiver can drop repeats), and
//
//	Presence-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>
//
// The timestamp bounds replay: Verify refuses a signature more than
// Tolerance away from its clock.
package webhook
